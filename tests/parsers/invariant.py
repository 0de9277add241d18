"""THE RULE, checked from the outside: a table whose heading or labels a document prints gives every one of its
keys — a value, or null flagged `unknown` — and `formats.tN` is `unreadable` (never `none`) when it was not read.

The table signs here are the test's own (plain substrings of the official labels), not the parser's patterns.
"""

from __future__ import annotations

import unicodedata

from crawler.parsers import Report
from crawler.parsers import keys as K

SIGNS = {
    "t2": ("主动公开政府信息情况", "第二十条第(一)项"),
    "t3": ("收到和处理政府信息公开申请情况", "本年新收政府信息公开申请"),
    "t4": ("结果维持结果纠正", "未经复议直接起诉"),
}
READ = ("gov2021", "gov2019")


def _flat(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def printed_tables(text: str) -> set[str]:
    """Given a document's text, return the tables whose heading or labels it prints (numbered headings only)."""
    flat = _flat(text)
    out = set()
    for t, signs in SIGNS.items():
        for s in signs:
            i = flat.find(s)
            while i >= 0:
                before = flat[max(0, i - 2) : i]
                if not s.startswith(("主动", "收到")) or (len(before) == 2 and before[1] == "、" and before[0] in "一二三四五六七"):
                    out.add(t)
                    break
                i = flat.find(s, i + 1)
    return out


def expected_keys(table: str, fmt: str) -> set[str]:
    """Given a table and its reported format, return the keys it must give."""
    if table == "t4":
        return set(K.T4_KEYS)
    if table == "t3":
        if fmt in READ:
            return set(K.t3_keys(fmt))
        return {f"{r}.{c}" for r in K.T3_ROWS_HEAD + K.T3_TAIL for c in K.T3_COLS}
    if fmt in READ:
        return set(K.t2_keys(fmt))
    return set(K.t2_keys("gov2021")) & set(K.t2_keys("gov2019"))


def rule_violations(report: Report) -> list[str]:
    """Given a parsed report, return what breaks THE RULE (empty when it holds)."""
    if report.status not in ("report", "no_tables"):
        return []
    out = []
    tables = {t for t in ("t2", "t3", "t4") if report.formats[t] != "none"}
    for t in printed_tables(report.text):
        if report.formats[t] == "none":
            out.append(f"{t}: printed but formats.{t} is none")
        tables.add(t)
    for t in sorted(tables):
        fmt = report.formats[t]
        missing = sorted(expected_keys(t, fmt) - set(report.cells))
        if missing:
            out.append(f"{t} ({fmt}): {len(missing)} keys absent, e.g. {missing[:3]}")
        for k, c in report.cells.items():
            if k.startswith(t + ".") and c.value is None and c.flag != "unknown":
                out.append(f"{k}: null without the unknown flag")
    said = " ".join(report.warnings)
    names = {"t2": "table 二", "t3": "table 三", "t4": "table 四"}
    for k, c in report.cells.items():
        if c.flag != "unknown" or c.path == "derived" or k[:2] not in names:
            continue
        if k in said or k.rsplit(".", 1)[0] in said:
            continue
        table = [w for w in report.warnings if w.startswith(names[k[:2]] + ":")]
        if c.path == "missing" and any("not found" in w or "could not be read" in w for w in table):
            continue
        if any("cells unreadable" in w for w in table):
            continue
        out.append(f"{k}: unknown without a warning saying why")
    return out
