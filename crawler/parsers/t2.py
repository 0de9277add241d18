"""Table 二 (spec/formats.md §3): given its header and data lines, return its column keys, format and cells.

:func:`crawler.parsers.tables.extract_tables` walks the lines; here, for table 二: :func:`opens_t2` (a header
row), :func:`t2_header_columns` (its column keys, left to right, and the formats they name),
:func:`pick_t2_format` (the table's format from all its headers) and :func:`read_t2_row` (one data row: values,
a digit run split only where it has one reading, or a signed delta run `0+11`; else unknown with the reason).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from crawler.parsers import keys as K
from crawler.parsers.digits import refusal, unique_split
from crawler.parsers.labels import T2_HEADERS, t2_row_key
from crawler.parsers.lines import Line, make_tok
from crawler.parsers.model import CellValue
from crawler.parsers.normalize import strip_numbering, to_wan

if TYPE_CHECKING:
    from crawler.parsers.tables import TableResult

MONEY_COLS = frozenset(k.rsplit(".", 1)[1] for k in K.MONEY_KEYS)  # `amount_wan`, `amount`
NOT_T2_HEADERS = ("信息处理费", "收费件数")  # the 信息处理费 table after 四 (`收费件数 | 收费金额（元）`) is not 二's
_SIGNED_RUN_RE = re.compile(r"^(?P<head>\d*)(?P<sign>[+-])(?P<tail>\d+)$")  # `0+11`: prev_items | +delta | …


def opens_t2(line: Line, label: str) -> bool:
    """Given a line, return whether it is a table 二 header row (`信息内容 …`, or header cells alone)."""
    if any(w in label for w in NOT_T2_HEADERS):
        return False
    return "信息内容" in label or (not line.vals and any(h in label for h, _f, _k in T2_HEADERS))


def pick_t2_format(fmts: dict[str, int]) -> str:
    """Given how many of table 二's header cells name each format, return the table's format or `none`.

    The majority wins (a typo or a stray word names the other format once); a tie goes to gov2019, whose
    columns are the only ones shared words can add to.
    """
    fmts = {f: n for f, n in fmts.items() if f}
    if not fmts:
        return "none"
    best = max(fmts.values())
    top = [f for f, n in fmts.items() if n == best]
    if len(top) == 1:
        return top[0]
    return "gov2019" if "gov2019" in top else "none"


@lru_cache(maxsize=1024)
def t2_header_columns(label: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Given a table 二 header row's label, return its column keys left to right and the formats they name."""
    found: list[tuple[int, str]] = []
    fmts: set[str] = set()
    taken: list[tuple[int, int]] = []
    for core, fmt, key in T2_HEADERS:
        for m in re.finditer(re.escape(core), label):
            if any(m.start() < b and a < m.end() for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), key))
            if fmt:
                fmts.add(fmt)
    found.sort()
    return tuple(k for _p, k in found), frozenset(fmts)


def read_t2_row(line: Line, cols: tuple[str, ...], res: TableResult) -> None:
    """Given a table 二 data line and its block's column keys, store the row's cells (or unknowns) in `res`."""
    leaf = strip_numbering(line.labels[-1]) if line.labels else ""
    row_key = t2_row_key(leaf)
    if row_key is None or not cols:
        return
    if line.tail is not None and len(line.tail) >= len(cols) and not any(line.tail[len(cols) :]):
        line = Line(line.labels, [make_tok(c) for c in line.tail[: len(cols)]], line.path)  # pipe cells hold positions
    if len(line.vals) == 1 and "delta" in cols and _SIGNED_RUN_RE.match(line.vals[0].raw):
        _read_signed_run(row_key, line, cols, res)
        return
    run = line.run or ([t.raw for t in line.vals] if all(t.raw.isdigit() for t in line.vals) else [])
    if run and len(run) < len(cols):
        cand, cands = unique_split(run, len(cols))
        if cand is None:
            for c in cols:
                res.cells[f"{row_key}.{c}"] = CellValue(None, " ".join(run), "unknown", line.path + "-digits")
            why = refusal(run, len(cols), len(cands))
            res.warnings.append(f"table 二 row {row_key}: digit run {''.join(run)!r}: {why}; left unknown")
            return
        for c, v in zip(cols, cand, strict=True):
            res.cells[f"{row_key}.{c}"] = CellValue(v, " ".join(run), "num", line.path + "-digits")
        return
    vals = line.vals
    if len(cols) == 1 and len(vals) > 1 and len(printed := [t for t in vals if t.flag != "blank"]) == 1:
        # one value printed across merged cells (本年处理决定数量 spans the block): the grid's other slots are
        # empty, not values (OCR grids, colspans); with one column and one printed value the reading is unique
        vals = printed
    if len(vals) != len(cols):
        for c in cols:
            res.cells[f"{row_key}.{c}"] = CellValue(None, " ".join(t.raw for t in vals), "unknown", line.path)
        res.warnings.append(f"table 二 row {row_key}: {len(vals)} values for {len(cols)} columns")
        return
    for c, t in zip(cols, vals, strict=True):
        value = t.value
        if value is not None and c in MONEY_COLS:
            value = to_wan(value, t.unit)
        elif value is not None and t.unit and c not in MONEY_COLS:
            value = None
        res.cells[f"{row_key}.{c}"] = CellValue(value, t.raw, t.flag if value is not None else "unknown", line.path)


def _read_signed_run(row_key: str, line: Line, cols: tuple[str, ...], res: TableResult) -> None:
    """Given a table 二 row printed as one run with its delta's sign inside (`0+11`, `35-15`), store its cells:
    the digits before the sign fill the columns before `delta`, the rest `delta` on; unknown unless both
    readings are unique."""
    raw = line.vals[0].raw
    m = _SIGNED_RUN_RE.match(raw)
    assert m is not None
    at = cols.index("delta")
    head, heads = unique_split([m.group("head")], at) if at else ((), [()])
    tail, tails = unique_split([m.group("tail")], len(cols) - at)
    if head is None or tail is None:
        for c in cols:
            res.cells[f"{row_key}.{c}"] = CellValue(None, raw, "unknown", line.path + "-digits")
        part, n, found = (m.group("head"), at, heads) if head is None else (m.group("tail"), len(cols) - at, tails)
        res.warnings.append(f"table 二 row {row_key}: signed run {raw!r}: {refusal([part], n, len(found))}; left unknown")
        return
    sign = -1 if m.group("sign") == "-" else 1
    values = [*head, sign * tail[0], *tail[1:]]
    for c, v in zip(cols, values, strict=True):
        res.cells[f"{row_key}.{c}"] = CellValue(v, raw, "num", line.path + "-digits")
