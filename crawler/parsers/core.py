"""The core: Extracted (rows + text) → keyed, checked cells (spec/formats.md §1–§10).

Rows are mapped by their labels, never by position alone:
1. Every intake row becomes a :class:`Line`: its label parts and its value tokens.
2. A small state machine walks the lines: table 二 rows under a `信息内容` header, table 三 rows from `本年新收`
   to `结转下年度`, then the table 四 data row.
3. Table 三 rows whose label was lost (PDF extraction) fill the gap between two labelled rows, in order, only
   when the number of such rows equals the number of missing keys there.
4. Digit runs without separators are split only where the identities leave exactly one reading.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.parsers import keys as K
from crawler.parsers.checks import sign_checks, table3_checks, table4_checks
from crawler.parsers.digits import row_identity, splits, t4_identity, unique_split
from crawler.parsers.meta import find_meta, find_sections, narrative_numbers
from crawler.parsers.model import Cell, CellValue, Check, Extracted, Report
from crawler.parsers.normalize import (
    is_value_text,
    norm_label,
    parse_value,
    strip_numbering,
    strip_row4_note,
    to_wan,
)

logger = logging.getLogger(__name__)

MAX_COMBINATIONS = 5000  # readings of ambiguous digit runs tried together against I1/I2

# ---------------------------------------------------------------------------------------------------------------
# Label tables (spec §8.2). Order matters: the first matching core wins.
T3_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k)
    for p, k in (
        (r"本年新收|新收.*申请数量", "t3.received_new"),
        (r"上年结转|上年度结转", "t3.carried_in"),
        (r"结转下(?:一)?年|继续办理", "t3.carried_out"),
        (r"总计|合计", "t3.outcome.total"),
        (r"予以公开", "t3.outcome.granted"),
        (r"部分公开", "t3.outcome.partial"),
        (r"国家秘密", "t3.outcome.withheld.state_secret"),
        (r"法律.?行政法规禁止|法规禁止", "t3.outcome.withheld.law_prohibited"),
        (r"三安全一稳定|国家安全.{0,3}公共安全|危及", "t3.outcome.withheld.security_stability"),
        (r"第三方", "t3.outcome.withheld.third_party"),
        (r"内部事务", "t3.outcome.withheld.internal_affairs"),
        (r"过程性", "t3.outcome.withheld.process_info"),
        (r"执法案卷", "t3.outcome.withheld.enforcement_file"),
        (r"查询事项", "t3.outcome.withheld.admin_query"),
        (r"不掌握", "t3.outcome.unavailable.not_held"),
        (r"另行制作|现成信息", "t3.outcome.unavailable.needs_creation"),
        (r"不明确", "t3.outcome.unavailable.unclear"),
        (r"信访|举报投诉", "t3.outcome.not_processed.petition"),
        (r"重复申请", "t3.outcome.not_processed.duplicate"),
        (r"出版物", "t3.outcome.not_processed.publication"),
        (r"大量反复", "t3.outcome.not_processed.excessive"),
        (r"重新出具|确认或", "t3.outcome.not_processed.confirm_reissue"),
        (r"不补正", "t3.outcome.other.no_correction"),
        (r"缴纳费用|收费通知", "t3.outcome.other.unpaid_fee"),
    )
)
T3_GROUP_LABELS = (
    ("不予公开", "withheld"),
    ("无法提供", "unavailable"),
    ("不予处理", "not_processed"),
    ("其他处理", "other"),
)
T3_COL_LABELS: tuple[tuple[str, str], ...] = (
    ("自然人", "natural"),
    ("商业", "commercial"),
    ("科研", "research"),
    ("公益", "nonprofit"),
    ("社会组织", "nonprofit"),
    ("法律服务", "legal_service"),
    ("其他", "other_org"),
    ("总计", "total"),
    ("合计", "total"),
)
T2_ROW_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k)
    for p, k in (
        (r"^规章$|^规章[^制]", "t2.regulation"),
        (r"规范性文件", "t2.normative_doc"),
        (r"行政许可", "t2.licensing"),
        (r"对外管理服务", "t2.other_service"),
        (r"行政处罚", "t2.penalty"),
        (r"行政强制", "t2.coercion"),
        (r"事业性收费", "t2.admin_fee"),
        (r"集中采购", "t2.procurement"),
    )
)
# header core → (format, column key)
T2_HEADERS: tuple[tuple[str, str, str], ...] = (
    ("本年制发", "gov2021", "issued"),
    ("本年废止", "gov2021", "repealed"),
    ("现行有效", "gov2021", "in_force"),
    ("本年收费金额", "gov2021", "amount_wan"),
    ("收费金额", "gov2021", "amount_wan"),
    ("本年新制作", "gov2019", "made_new"),
    ("本年新公开", "gov2019", "published_new"),
    ("对外公开总", "gov2019", "published_total"),
    ("上一年项目", "gov2019", "prev_items"),
    ("本年增/减", "gov2019", "delta"),
    ("增/减", "gov2019", "delta"),
    ("增减", "gov2019", "delta"),
    ("本年增", "gov2019", "delta"),
    ("本年处理决定", "gov2021", "decisions"),
    ("处理决定", "", "decisions"),
    ("采购项目", "gov2019", "items"),
    ("采购总金额", "gov2019", "amount"),
)
GOV2021_ANCHORS = ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额", "逾期不补正", "逾期未按收费通知")
GOV2019_ANCHORS = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减", "政府集中采购", "第二十条第(九)项")
PRE2019_ANCHORS = (
    "依申请公开政府信息情况", "依申请公开工作情况", "收费及减免", "申请总数", "同意公开", "不同意公开", "属于已主动公开范围",
    "咨询处理", "政府信息公开情况统计表", "依申请公开信息总数", "当面申请", "答复总数",
)
POST2019_ANCHORS = ("本列数据的勾稽关系", "申请人情况", "未经复议直接起诉")
T4_HEADER_RE = re.compile(r"行政复议|行政诉讼|未经复议|复议后起诉|结果维持|尚未审结")
FOOTER_RE = re.compile(r"^\s*(?:[-—–―]+\s*\d{1,3}\s*[-—–―]+|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$")

# Stream splitting: where a new table row starts in text that lost its line breaks (`…秘密00000002.其他法律…`).
_LEAF_STARTS = (
    (1, "属于国家秘密"), (2, "其他法律"), (3, "危及"), (4, "保护第三方"), (5, "属于三类"), (6, "属于四类"),
    (7, "属于行政执法"), (8, "属于行政查询"), (1, "本机关不掌握"), (2, "没有现成"), (3, "补正后"),
    (1, "信访举报"), (2, "重复申请"), (3, "要求提供公开出版物"), (4, "无正当理由大量"), (5, "要求行政机关确认"),
    (1, "申请人无正当理由"), (2, "申请人逾期未按"), (3, "其他(?=[\\d\\s(])"),
)
_STREAM_SPLIT_RE = re.compile(
    "|".join(
        [f"{n}[.、．]\\s*{w}" for n, w in _LEAF_STARTS]
        + [
            r"[一二三四]、\s*(?:本年新收|上年结转|本年度|结转下)",
            r"[二三四]、\s*(?:收到和处理|主动公开政府信息)",
            r"[(（][一二三四五六七][)）]\s*(?:予以公开|部分公开|不予公开|无法提供|不予处理|其他处理|总计)",
            r"第二十条第",
            r"规章(?=\s*[\d-])",
            r"(?<!行政)规范性文件(?=\s*[\d-])",
            r"行政规范性文件(?=\s*[\d-])",
            r"(?:行政许可|其他对外管理服务事项|行政处罚|行政强制|行政事业性收费|政府集中采购)(?=\s*[\d+-])",
            r"[四五]、\s*(?:政府信息公开)?(?:行政法?复议|存在的?主要问题|其他需要报告)",
        ]
    )
)


@dataclass(slots=True)
class Tok:
    raw: str
    value: int | float | None
    flag: str
    unit: str | None = None


@dataclass(slots=True)
class Line:
    labels: list[str]  # normalised label parts, left to right (rowspan copies included, for context)
    vals: list[Tok]  # value tokens after the label, left to right (placeholders included)
    path: str
    missing: int = 0  # empty cells after the label that may hold lost values (text sources)
    run: list[str] = field(default_factory=list)  # digit-run tokens when cell boundaries were lost
    tail: list[str] | None = None  # pipe-table cells after the label, empties kept (their positions hold)
    cells: list[Cell] | None = None  # the grid cells (for header rows: column labels by position)

    @property
    def header_cols(self) -> list[tuple[int, int, str]]:
        """(col, span, normalised text) of the grid cells, for mapping header labels to columns."""
        if not self.cells:
            return []
        return [(c.col, c.span, norm_label(c.text)) for c in self.cells if c.col is not None and c.text]

    @property
    def label(self) -> str:
        return "".join(self.labels)


# ---------------------------------------------------------------------------------------------------------------
# Intake → lines


def lines_from_rows(rows: list[list[Cell]], path: str, positional: bool) -> list[Line]:
    out = []
    for row in rows:
        last_label = -1
        for i, c in enumerate(row):
            if c.text and not is_value_text(c.text):
                last_label = i
        labels = [norm_label(c.text) for c in row[: last_label + 1] if c.text]
        vals: list[Tok] = []
        missing = 0
        for c in row[last_label + 1 :]:
            if c.copy:
                continue
            if c.text:
                vals.append(_tok(c.text))
            elif positional:
                vals.append(Tok("", 0, "blank"))
            else:
                missing += 1
        line = Line(labels, vals, path, missing, cells=row)
        _detect_run(line)
        out.append(line)
    return out


def lines_from_text(text: str, path: str) -> list[Line]:
    text = _split_stream(text)  # raw text kept verbatim: labels are normalised when matched
    out = []
    for raw in text.split("\n"):
        if not raw.strip() or FOOTER_RE.match(raw):
            continue
        stripped = raw.strip()
        markdown = "|" in stripped
        if markdown:
            if re.fullmatch(r"\|?[\s|:\-]+\|?", stripped):
                continue
            cells = [c.strip() for c in stripped.strip("|").split("|")]
        elif "\t" in raw:
            cells = [c.strip() for c in raw.split("\t")]
        else:
            cells = _unglue(stripped.split())
        last_label = -1
        for i, c in enumerate(cells):
            if c and not is_value_text(c):
                last_label = i
        labels = [norm_label(c) for c in cells[: last_label + 1] if c]
        tail = cells[last_label + 1 :]
        vals = [_tok(c) for c in tail if c]
        missing = 0
        if markdown and vals:
            # empties after the last value may be values lost in extraction (counted; unknown if needed)
            end = len(tail)
            while end and not tail[end - 1]:
                end -= 1
                missing += 1
        line = Line(labels, vals, path, missing, tail=tail if markdown else None)
        _detect_run(line)
        out.append(line)
    return _merge_detached_labels(out)


def lines_from_cell_per_line(text: str, path: str) -> list[Line]:
    """Text where every table cell sits on its own line (`规章`, `0`, `0`, `0`, …; empty cells as `|`).

    A label line starts a new row once the current row has values, or when it is itself a known row label;
    value lines are appended to the current row; a lone `|` is an empty printed cell.
    """
    rows: list[list[Cell]] = []
    current: list[Cell] = []
    has_values = False
    for raw in text.split("\n"):
        t = raw.strip()
        if not t or FOOTER_RE.match(t) or re.fullmatch(r"\|{2,}", t):
            continue
        explicit = t.endswith("|")
        t = t.rstrip("|").strip()
        if not t and not explicit:
            continue
        is_value = not t or is_value_text(t)
        if is_value:
            current.append(Cell(t))
            has_values = True
            continue
        label = norm_label(t)
        if has_values or _is_row_label(label):
            if current:
                rows.append(current)
            current, has_values = [], False
        current.append(Cell(t))
    if current:
        rows.append(current)
    return lines_from_rows(rows, path, positional=True)


def _is_row_label(label: str) -> bool:
    leaf = strip_numbering(label)
    if any(rx.search(leaf) for rx, _k in T2_ROW_LABELS):
        return True
    return classify_t3(label, None) is not None or leaf in ("其他",) or any(w in label for w, _g in T3_GROUP_LABELS)


_GLUED_RE = re.compile(r"^(?P<label>.*[\u4e00-\u9fff)）”\"])(?P<run>\d[\d.,]*)$")


def _unglue(tokens: list[str]) -> list[str]:
    """`数量230 000023` → `数量`, `230`, `000023`: a label token with digits glued to its end, followed only by
    values, is split where the label ends."""
    i = len(tokens)
    while i > 0 and is_value_text(tokens[i - 1]):
        i -= 1
    if i == 0:
        return tokens
    m = _GLUED_RE.match(tokens[i - 1])
    if m is None:
        return tokens
    return [*tokens[: i - 1], m.group("label"), m.group("run"), *tokens[i:]]


def _merge_detached_labels(lines: list[Line]) -> list[Line]:
    """A complete row label alone on a line, followed by a line of values alone (PDF text), is one row."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (
            nxt is not None
            and line.labels
            and not line.vals
            and not nxt.labels
            and (nxt.vals or nxt.run)
            and line.tail is None
            and nxt.tail is None
            and not T4_HEADER_RE.search(line.label)
            and (classify_t3(line.label, None) or any(rx.search(strip_numbering(line.labels[-1])) for rx, _k in T2_ROW_LABELS))
        ):
            out.append(Line(line.labels, nxt.vals, nxt.path, nxt.missing, nxt.run))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def _split_stream(text: str) -> str:
    """Insert line breaks before table row labels where the text lost them (one-line page dumps)."""
    start = text.find("第二十条第")
    if start < 0:
        start = text.find("本年新收")
    if start < 0:
        return text
    m_end = re.search(r"[五六]、\s*(?:政府信息公开工作)?存在的?(?:主要)?问题|[五六]、\s*其他需要报告", text[start:])
    end = start + m_end.start() if m_end else len(text)
    region = text[start:end]
    if region.count("\n") >= 20:
        return text
    region = _STREAM_SPLIT_RE.sub(lambda m: "\n" + m.group(0), region)
    # the t4 header words end right before its numbers
    region = re.sub(r"(尚未审结\s*总计)(?=\s*\d)", r"\1\n", region)
    return text[:start] + region + "\n" + text[end:]


def _tok(raw: str) -> Tok:
    value, flag, unit = parse_value(raw)
    return Tok(raw, value, flag, unit)


def _detect_run(line: Line) -> None:
    """Mark value tokens that are really glued digit runs (`640020470`, `230 000023`)."""
    if line.tail is not None and len(line.tail) >= 7:
        return  # a pipe table row with its cell positions: no glued digits to split
    if line.vals and all(t.raw.isdigit() for t in line.vals):
        digits = sum(len(t.raw) for t in line.vals)
        if (len(line.vals) < 7 and digits >= 7) or any(len(t.raw) > 1 and t.raw[0] == "0" for t in line.vals):
            line.run = [t.raw for t in line.vals]


# ---------------------------------------------------------------------------------------------------------------
# Tables


@dataclass
class TableResult:
    cells: dict[str, CellValue] = field(default_factory=dict)
    t2_format: str = "none"
    t3_format: str = "none"
    t3_found: bool = False
    t4_found: bool = False
    pending: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)  # t3 rows with several readings
    warnings: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def classify_t3(label: str, group: str | None) -> str | None:
    if not label:
        return None
    label = strip_row4_note(label)
    for rx, key in T3_LABELS:
        if rx.search(label):
            if key == "t3.outcome.total" and ("申请人情况" in label or "勾稽" in label):
                return None
            return key
    if "其他处理" in label:
        return "t3.outcome.other.sum"
    leaf = strip_numbering(label)
    if leaf in ("其他", "其他情形") and group == "other":
        return "t3.outcome.other.misc"
    return None


@lru_cache(maxsize=4096)
def _group_of(label: str) -> str | None:
    for word, group in T3_GROUP_LABELS:
        if word in label:
            return group
    return None


def _t3_col_order(header_lines: list[Line]) -> tuple[str, ...]:
    """Column order from the header rows' labels when the grid positions are known, else the official order."""
    cols: dict[int, str] = {}
    for line in header_lines:
        for col, span, text in line.header_cols:
            for c in range(col, col + span):
                cols[c] = cols.get(c, "") + text
    found: dict[str, int] = {}
    for c in sorted(cols):
        text = cols[c]
        for core, key in T3_COL_LABELS:
            if core in text:
                if key == "other_org" and "法人" not in text and "组织" not in text:
                    continue
                if key not in found:
                    found[key] = c
                break
    if len(found) == 7 and len(set(found.values())) == 7:
        return tuple(sorted(found, key=found.__getitem__))
    return K.T3_COLS


def extract_tables(lines: list[Line]) -> TableResult:
    res = TableResult()
    state = "pre"
    group: str | None = None
    t2_cols: tuple[str, ...] = ()
    t2_formats: set[str] = set()
    header_lines: list[Line] = []
    t3_rows: list[tuple[str | None, Line]] = []
    for line in lines:
        label = line.label
        if state in ("pre", "t2"):
            if "信息内容" in label or (not line.vals and any(h in label for h, _f, _k in T2_HEADERS)):
                t2_cols, fmts = _t2_header(label)
                t2_formats |= fmts
                state = "t2"
                continue
            key3 = classify_t3(label, None) if (line.vals or line.run) else None
            if key3 == "t3.received_new" and (len(line.vals) >= 5 or line.run or (header_lines and line.vals)):
                state = "t3"
            elif state == "t2" and (line.vals or line.run or line.tail):
                _t2_row(line, t2_cols, res)
                continue
            else:
                if "申请人情况" in label or "自然人" in label or "勾稽" in label:
                    header_lines.append(line)
                continue
        if state == "t3":
            if not line.vals and not line.run:
                if "申请人情况" in label or "自然人" in label:
                    header_lines.append(line)
                if T4_HEADER_RE.search(label) and t3_rows:
                    state = "t4"
                    continue
                g = _group_of(label)
                if g and len(label) < 40:
                    group = g
                continue
            if len(line.vals) >= 12 and not line.labels and t3_rows and t3_rows[-1][0] == "t3.carried_out":
                state = "t4"
            else:
                key = classify_t3(label, group)
                g = _group_of(label)
                if g and len(label) < 60:
                    group = g
                if key is None and len(line.vals) < 4 and not line.run:
                    continue  # a stray number (page number, footnote) inside the table
                t3_rows.append((key, line))
                if key == "t3.carried_out":
                    state = "t4"
                continue
        if state == "t4" and not res.t4_found:
            if line.vals or line.run:
                if _t4_row(line, res):
                    state = "done"
    res.t2_format = _pick_format(t2_formats)
    _assemble_t3(t3_rows, _t3_col_order(header_lines), res, res.t2_format)
    return res


def _pick_format(fmts: set[str]) -> str:
    fmts = {f for f in fmts if f}
    if len(fmts) == 1:
        return fmts.pop()
    if "gov2019" in fmts:  # 2019-only columns seen next to a shared one
        return "gov2019"
    return "none"


@lru_cache(maxsize=1024)
def _t2_header(label: str) -> tuple[tuple[str, ...], frozenset[str]]:
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


def _t2_row(line: Line, cols: tuple[str, ...], res: TableResult) -> None:
    row_key = None
    leaf = strip_numbering(line.labels[-1]) if line.labels else ""
    for rx, key in T2_ROW_LABELS:
        if rx.search(leaf):
            row_key = key
            break
    if row_key is None or not cols:
        return
    if line.tail is not None and len(line.tail) >= len(cols) and not any(line.tail[len(cols) :]):
        line = Line(line.labels, [_tok(c) for c in line.tail[: len(cols)]], line.path)  # pipe cells hold positions
    run = line.run or ([t.raw for t in line.vals] if all(t.raw.isdigit() for t in line.vals) else [])
    if run and len(run) < len(cols):
        cand, _all = unique_split(run, len(cols))
        if cand is None:
            for c in cols:
                res.cells[f"{row_key}.{c}"] = CellValue(None, " ".join(run), "unknown", line.path + "-digits")
            res.warnings.append(f"table 二 row {row_key}: digit run {''.join(run)!r} has several readings; left unknown")
            return
        for c, v in zip(cols, cand, strict=True):
            res.cells[f"{row_key}.{c}"] = CellValue(v, " ".join(run), "num", line.path + "-digits")
        return
    vals = line.vals
    if len(vals) != len(cols):
        for c in cols:
            res.cells[f"{row_key}.{c}"] = CellValue(None, " ".join(t.raw for t in vals), "unknown", line.path)
        res.warnings.append(f"table 二 row {row_key}: {len(vals)} values for {len(cols)} columns")
        return
    for c, t in zip(cols, vals, strict=True):
        value = t.value
        if value is not None and c in ("amount_wan", "amount"):
            value = to_wan(value, t.unit)
        elif value is not None and t.unit and c not in ("amount_wan", "amount"):
            value = None
        res.cells[f"{row_key}.{c}"] = CellValue(value, t.raw, t.flag if value is not None else "unknown", line.path)


def _t4_row(line: Line, res: TableResult) -> bool:
    raw = " ".join(line.run) if line.run else ""
    if line.run and len(line.run) < 15:
        cand, _ = unique_split(line.run, 15, t4_identity)
        if cand is None:
            if sum(len(t) for t in line.run) < 15:
                return False
            for k in K.T4_KEYS:
                res.cells[k] = CellValue(None, raw, "unknown", line.path + "-digits")
            res.warnings.append("table 四: digit run with no unique reading")
            res.t4_found = True
            return True
        for k, v in zip(K.T4_KEYS, cand, strict=True):
            res.cells[k] = CellValue(v, raw, "inferred", line.path + "-digits")
        res.t4_found = True
        return True
    vals = line.vals
    if line.tail is not None and len(line.tail) == 15:
        vals = [_tok(c) for c in line.tail]  # a pipe table row: positions hold, empties are printed blanks
    if len(vals) < 15:
        if len(vals) + line.missing >= 15 and len(vals) >= 10:
            vals = vals + [Tok("", None, "unknown")] * (15 - len(vals))
        else:
            return False
    if len(vals) > 15:
        if all(t.flag == "blank" for t in vals[15:]):
            vals = vals[:15]
        else:
            res.warnings.append(f"table 四: {len(vals)} values in its data row")
            return False
    for k, t in zip(K.T4_KEYS, vals, strict=True):
        res.cells[k] = CellValue(t.value, t.raw, t.flag, line.path)
    res.t4_found = True
    return True


def _row_values(line: Line) -> list[Tok] | list[tuple[int, ...]] | None:
    """Seven tokens for a table 三 row; or the candidate readings of a digit run; or None."""
    if line.run:
        cands = [c for c in splits(line.run, 7) if row_identity(c)]
        return cands
    vals = line.vals
    if line.tail is not None and len(line.tail) >= 7 and len(vals) < 7:
        # a pipe table: cell positions hold. Merged-label residue sits left, trailing spare cells right.
        tail = list(line.tail)
        while len(tail) > 7 and not tail[0]:
            tail.pop(0)
        while len(tail) > 7 and not tail[-1]:
            tail.pop()
        if len(tail) == 7:
            toks = [_tok(c) for c in tail]
            if not tail[6] and any(t.value for t in toks[:6]):
                # an empty 总计 beside non-zero parts in extracted text may be a lost value: never derive it
                toks[6] = Tok("", None, "unknown")
            return toks
    if len(vals) == 7:
        return vals
    if len(vals) > 7:
        extra = vals[7:]
        if all(t.flag in ("blank", "unknown") and not t.raw for t in extra):
            return vals[:7]
        return None
    # fewer than 7 printed: markdown/grid empties already became blank/unknown tokens; the rest are missing
    if line.missing and len(vals) + line.missing >= 7:
        return vals + [Tok("", None, "unknown")] * (7 - len(vals))
    return _place_short(vals)


def _place_short(vals: list[Tok]) -> list[Tok] | None:
    """§10: fewer than 7 values in flattened text — left or right placement, kept only if exactly one fits I3."""
    if not vals:
        return None
    gap = 7 - len(vals)
    blank = Tok("", 0, "blank")
    options = [vals + [blank] * gap, [blank] * gap + vals]
    fits = []
    for opt in options:
        nums = [t.value for t in opt]
        if None not in nums and sum(nums[:6]) == nums[6]:  # type: ignore[arg-type]
            fits.append(opt)
    if len(fits) == 1:
        return fits[0]
    return [Tok(" ".join(t.raw for t in vals), None, "unknown")] * 7  # neither or both fit: the row is unknown


def _assemble_t3(
    rows: list[tuple[str | None, Line]], col_order: tuple[str, ...], res: TableResult, hint: str = "none"
) -> None:
    if not rows:
        return
    res.t3_found = True
    labelled = {k for k, _ in rows if k}
    if labelled & {"t3.outcome.other.no_correction", "t3.outcome.other.unpaid_fee", "t3.outcome.other.misc"}:
        fmt = "gov2021"
    elif "t3.outcome.other.sum" in labelled:
        fmt = "gov2019"
    elif len(rows) in (23, 25):  # a complete table without its (六) labels: its row count tells
        fmt = "gov2019" if len(rows) == 23 else "gov2021"
    else:  # a partial table: the rest of the document tells (table 二's columns)
        fmt = hint if hint in K.T3_ROWS else "gov2021"
    res.t3_format = fmt
    order = K.T3_ROWS[fmt]
    index = {k: i for i, k in enumerate(order)}
    # a gov2019 (六) label in a 2021 table, or vice versa, is placed by its neighbours
    assigned: list[tuple[str, Line]] = []
    pending: list[Line] = []
    last = -1
    for key, line in rows:
        if key is not None and key not in index:
            key = None
        if key is None:
            pending.append(line)
            continue
        i = index[key]
        if i <= last:
            res.warnings.append(f"table 三: row {key} out of order, ignored")
            continue
        _fill_gap(order[last + 1 : i], pending, assigned, res)
        pending = []
        assigned.append((key, line))
        last = i
    _fill_gap(order[last + 1 :], pending, assigned, res, tail=True)
    for key, line in assigned:
        _store_t3_row(key, line, col_order, res)


def _fill_gap(missing: tuple[str, ...], pending: list[Line], assigned: list, res: TableResult, tail: bool = False) -> None:
    if not pending:
        return
    if tail:
        pending = pending[: len(missing)] if len(pending) > len(missing) else pending
    if len(pending) == len(missing):
        for key, line in zip(missing, pending, strict=True):
            line.path = line.path + "-order"
            assigned.append((key, line))
    else:
        res.warnings.append(
            f"table 三: {len(pending)} unlabelled rows for {len(missing)} missing rows "
            f"({', '.join(missing[:3])}…); left unknown"
        )


def _store_t3_row(key: str, line: Line, col_order: tuple[str, ...], res: TableResult) -> None:
    vals = _row_values(line)
    raw_run = " ".join(line.run)
    if vals is None or (isinstance(vals, list) and not vals):
        for c in col_order:
            res.cells[f"{key}.{c}"] = CellValue(None, raw_run or " ".join(t.raw for t in line.vals), "unknown", line.path)
        return
    if isinstance(vals[0], tuple):  # digit-run readings
        cands: list[tuple[int, ...]] = vals  # type: ignore[assignment]
        if len(cands) == 1:
            only_split = len(splits(line.run, 7)) == 1
            for c, v in zip(col_order, cands[0], strict=True):
                res.cells[f"{key}.{c}"] = CellValue(v, raw_run, "num" if only_split else "inferred", line.path + "-digits")
        else:
            res.pending[key] = cands
            for c in col_order:
                res.cells[f"{key}.{c}"] = CellValue(None, raw_run, "unknown", line.path + "-digits")
        return
    for c, t in zip(col_order, vals, strict=True):
        value = t.value
        flag = t.flag
        if value is not None and (t.unit or (isinstance(value, float) and not value.is_integer())):
            value, flag = None, "unknown"
        elif isinstance(value, float):
            value = int(value)
        res.cells[f"{key}.{c}"] = CellValue(value, t.raw, flag, line.path)


def resolve_pending(cells: dict[str, CellValue], pending: dict[str, list[tuple[int, ...]]], fmt: str) -> list[str]:
    """Choose readings for ambiguous digit runs that make I1 and I2 hold in every column — only if exactly one
    combination does. Returns the keys resolved."""
    if not pending or fmt not in K.T3_ROWS:
        return []
    rows = list(pending)
    if math.prod(len(pending[r]) for r in rows) > MAX_COMBINATIONS:
        return []  # too many readings to check them all: unknown rather than a partial search
    combos = itertools.product(*(pending[r] for r in rows))
    leaves = K.T3_OUTCOME_LEAVES[fmt]
    good = []
    for combo in combos:
        trial = {f"{r}.{c}": v for r, cand in zip(rows, combo, strict=True) for c, v in zip(K.T3_COLS, cand, strict=True)}

        def val(k: str, trial: dict[str, int] = trial) -> int | float | None:
            if k in trial:
                return trial[k]
            cell = cells.get(k)
            return None if cell is None else cell.value

        ok = True
        for c in K.T3_COLS:
            a = [val(f"t3.received_new.{c}"), val(f"t3.carried_in.{c}"), val(f"t3.outcome.total.{c}"), val(f"t3.carried_out.{c}")]
            if None in a:
                ok = False
                break
            if a[0] + a[1] != a[2] + a[3]:  # type: ignore[operator]
                ok = False
                break
            parts = [val(f"{r}.{c}") for r in leaves]
            if None in parts or sum(parts) != a[2]:  # type: ignore[arg-type]
                ok = False
                break
        if ok:
            good.append(combo)
    if len(good) != 1:
        return []
    for r, cand in zip(rows, good[0], strict=True):
        for c, v in zip(K.T3_COLS, cand, strict=True):
            cell = cells[f"{r}.{c}"]
            cells[f"{r}.{c}"] = CellValue(v, cell.raw, "inferred", cell.path)
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Report


def _score(res: TableResult) -> tuple[int, int]:
    known = sum(1 for c in res.cells.values() if c.value is not None)
    return (int(res.t3_found) + int(res.t4_found), known)


def _derive(cells: dict[str, CellValue], fmt: str) -> None:
    """Blank totals with non-zero parts become their sum (flag derived); group sums are added as derived."""
    if fmt not in K.T3_ROWS:
        return
    for r in K.T3_ROWS[fmt]:
        total = cells.get(f"{r}.total")
        parts = [cells.get(f"{r}.{c}") for c in K.T3_C6]
        if total is None or total.flag != "blank" or any(p is None or p.value is None for p in parts):
            continue
        s = sum(p.value for p in parts)  # type: ignore[union-attr,misc]
        if s:
            cells[f"{r}.total"] = CellValue(s, total.raw, "derived", "derived")
    for group, members in K.T3_GROUPS.items():
        if group == "t3.outcome.other.sum" and fmt == "gov2019":
            continue
        for c in K.T3_COLS:
            vals = [cells.get(f"{m}.{c}") for m in members]
            if any(v is None for v in vals):
                continue
            known = [v.value for v in vals]  # type: ignore[union-attr]
            value = None if None in known else sum(known)  # type: ignore[arg-type]
            cells[f"{group}.{c}"] = CellValue(value, "", "derived" if value is not None else "unknown", "derived")


def _doc_format_hint(text: str) -> str:
    flat = norm_label(text)
    if any(a in flat for a in GOV2021_ANCHORS):
        return "gov2021"
    if any(a in flat for a in GOV2019_ANCHORS):
        return "gov2019"
    return "none"


def _is_pre2019(text: str) -> bool:
    flat = norm_label(text)
    return not any(a in flat for a in POST2019_ANCHORS) and sum(a in flat for a in PRE2019_ANCHORS) >= 2


def _narrative_checks(sections: dict[str, str], text: str, cells: dict[str, CellValue]) -> list[Check]:
    source = sections.get("s1.overview") or text[:6000]
    out = []
    for scope, number, targets in narrative_numbers(source):
        sums = []
        for keys in targets:
            vals = [cells[k].value if k in cells else None for k in keys]
            sums.append(None if None in vals else sum(vals))  # type: ignore[arg-type]
        primary = sums[0]
        if primary is None:
            out.append(Check("S3", scope, "unknown", number, None))
        elif number in sums:
            out.append(Check("S3", scope, "ok", number, number))
        else:
            out.append(Check("S3", scope, "fail", number, primary))
    return out


def build_report(ex: Extracted, *, source: str | None = None) -> Report:
    """Turn a reader's Extracted into a checked Report. Pure; never raises for odd content."""
    report = Report(source=source, source_kind=ex.source_kind, text=ex.text)
    sections, preface = find_sections(ex.text)
    report.sections = sections
    meta = find_meta(ex.text, ex.title_hint, ex.published_hint, preface, sections.get("s1.overview", "")[:400])
    report.title, report.agency, report.year = meta.title, meta.agency, meta.year
    report.year_source, report.published, report.scope = meta.year_source, meta.published, meta.scope

    results = []
    if ex.rows:
        results.append(extract_tables(lines_from_rows(ex.rows, ex.path, ex.positional)))
    if not results or _score(results[0])[0] < 2:
        results.append(extract_tables(lines_from_text(ex.text, ex.text_path)))
        if _score(results[-1])[0] < 2:
            results.append(extract_tables(lines_from_cell_per_line(ex.text, ex.text_path + "-cells")))
    res = max(results, key=_score)
    # table by table: take a table the better result missed from the other one
    for other in results:
        if other is res:
            continue
        if not res.t4_found and other.t4_found:
            res.cells.update({k: v for k, v in other.cells.items() if k.startswith("t4.")})
            res.t4_found = True
        if res.t2_format == "none" and other.t2_format != "none":
            res.cells.update({k: v for k, v in other.cells.items() if k.startswith("t2.")})
            res.t2_format = other.t2_format
    report.warnings.extend(res.warnings)
    cells = res.cells

    t3f = res.t3_format if res.t3_found else "none"
    t2f = res.t2_format
    if t2f == "none" and any(k.startswith("t2.") for k in cells):
        t2f = _doc_format_hint(ex.text)
    t4f = "none"
    if res.t4_found:  # table 四 is the same in both formats: it takes the report's format
        t4f = t3f if t3f != "none" else t2f
        if t4f == "none":
            t4f = _doc_format_hint(ex.text)
        if t4f == "none":
            t4f = "gov2021"
    report.formats = {"t2": t2f, "t3": t3f, "t4": t4f}
    report.mixed_format = len({f for f in (t2f, t3f) if f in ("gov2021", "gov2019")}) == 2

    if res.pending:
        resolved = resolve_pending(cells, res.pending, t3f)
        for key in res.pending:
            if key not in resolved:
                report.warnings.append(f"{key}: digit run has several readings; left unknown")
    _derive(cells, t3f)
    report.cells = dict(sorted(cells.items(), key=lambda kv: _key_order(kv[0])))

    if res.t3_found or res.t4_found:
        report.status, report.ok = "report", True
        t4_checks = table4_checks(report.cells) if res.t4_found else []
        report.checks = [
            *table3_checks(report.cells, t3f),
            *t4_checks,
            *sign_checks(report.cells),
            *_narrative_checks(sections, ex.text, report.cells),
        ]
        return report
    report.cells = {k: v for k, v in report.cells.items() if k.startswith("t2.")}
    has_title = bool(report.title) or (
        len(sections) >= 3 and bool(re.search(r"信息公开.{0,6}(?:年度报告|年报)", ex.text[:3000]))
    )
    if _is_pre2019(ex.text) and (has_title or len(sections) >= 3):
        report.status, report.ok = "pre2019", True
        report.formats = {"t2": "pre2019", "t3": "pre2019", "t4": "pre2019"}
        return report
    image_title = bool(report.title and "图片" in report.title)
    # tables as pictures: little text overall, or a section 三 with no table text where the table should be
    short_tables = "s3.requests" in sections and len(sections["s3.requests"]) < 300
    if has_title and ((ex.images and (len(ex.text) < 1500 or short_tables)) or image_title):
        report.status, report.ok = "image_only", True
        report.warnings.append(f"tables are images ({len(ex.images)} images); kept for OCR")
        return report
    if has_title:
        report.status, report.ok = "no_tables", True
        report.warnings.append("a report title but no table 三/四 found")
        return report
    report.status, report.ok = "not_report", False
    report.error = "not an annual report: no table 三/四 and no report title"
    return report


_ORDER = {k: i for i, k in enumerate(
    [*K.t2_keys("gov2021"), *K.t2_keys("gov2019"), *K.t3_keys("gov2021"), *[f"t3.outcome.other.sum.{c}" for c in K.T3_COLS],
     *[f"{g}.{c}" for g in K.T3_GROUPS for c in K.T3_COLS], *K.T4_KEYS]
)}


def _key_order(key: str) -> tuple[int, str]:
    return (_ORDER.get(key, 10_000), key)
