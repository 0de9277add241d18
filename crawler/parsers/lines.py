"""Intake → lines (spec/formats.md §10): given rows of cells or a document's text, return :class:`Line` objects.

A line is one printed table row: its label parts (left) and its value tokens (right). Sources differ in what
they keep, so each has its own transform; all of them end in the same shape:

* :func:`lines_from_rows` — grid rows (HTML, DOCX, PDF tables): positions hold, empty cells are printed blanks;
* :func:`lines_from_text` — plain text, tab-separated or markdown: :func:`split_stream` restores lost line
  breaks, :func:`unglue` cuts digits glued to a label, :func:`merge_detached_labels` joins a label line to its
  value line;
* :func:`lines_from_cell_per_line` — one cell per line (`规章`, `0`, `0`, …).

:func:`detect_run` marks value tokens that are really digit runs whose cell boundaries were lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.parsers.keys import T3_COLS
from crawler.parsers.labels import (
    CHROME_LINE_RE,
    FOOTER_RE,
    STREAM_SPLIT_RE,
    T4_HEADER_RE,
    classify_t3,
    has_chrome,
    is_row_label,
    t2_row_key,
)
from crawler.parsers.model import Cell
from crawler.parsers.normalize import is_value_text, norm_label, parse_value, strip_numbering

T3_WIDTH = len(T3_COLS)  # value cells in a table 三 row
MIN_RUN_DIGITS = T3_WIDTH  # a short row of digit tokens holding at least this many digits is a glued run
STREAM_SPLIT_MAX_BREAKS = 20  # a table region with this many line breaks kept them: no stream splitting
STREAM_FALLBACK_STARTS = ("申请人情况", "不予处理", "结果维持")  # where stream splitting starts without 二/三's rows
# a label with its digits glued on (`数量230`, `行政许可0+11`: a signed table 二 delta inside the run)
_GLUED_RE = re.compile(r"^(?P<label>.*[\u4e00-\u9fff)）”\"])(?P<run>\d[\d.,]*(?:[+-]\d+|万?元)?)$")
_SIGNED_RUN_RE = re.compile(r"^\d*[+-]\d+$")


def _is_value(cell: str) -> bool:
    """Given a cell's text, return whether it is a value (a signed table 二 run such as `0+11` included)."""
    return is_value_text(cell) or (("+" in cell or "-" in cell) and bool(_SIGNED_RUN_RE.match(cell)))


@dataclass(slots=True)
class Tok:
    """One printed value cell: its raw text and what :func:`parse_value` reads in it."""

    raw: str
    value: int | float | None
    flag: str
    unit: str | None = None


@dataclass(slots=True)
class Line:
    """One printed row: label parts on the left, value tokens on the right."""

    labels: list[str]  # normalised label parts, left to right (rowspan copies included, for context)
    vals: list[Tok]  # value tokens after the label, left to right (placeholders included)
    path: str
    missing: int = 0  # empty cells after the label that may hold lost values (text sources)
    run: list[str] = field(default_factory=list)  # digit-run tokens when cell boundaries were lost
    tail: list[str] | None = None  # pipe-table cells after the label, empties kept (their positions hold)
    cells: list[Cell] | None = None  # the grid cells (for header rows: column labels by position)
    placed: bool = False  # one token per grid column (not positional: an empty is unknown, never packed)

    @property
    def header_cols(self) -> list[tuple[int, int, str]]:
        """(col, span, normalised text) of the grid cells, for mapping header labels to columns."""
        if not self.cells:
            return []
        return [(c.col, c.span, norm_label(c.text)) for c in self.cells if c.col is not None and c.text]

    @property
    def label(self) -> str:
        """The label parts joined (normalised)."""
        return "".join(self.labels)


def lines_from_rows(rows: list[list[Cell]], path: str, positional: bool) -> list[Line]:
    """Given grid rows, return one line per row: labels up to the last non-value cell, values after it.

    With `positional` an empty cell is a printed blank (0). Otherwise (OCR, lost-cell text) an empty cell marked
    ``blank`` is a printed blank; when the value cells carry their columns (``Cell.col``) each keeps its column
    and an unmarked empty one is an unknown in place (maybe a value not read: never 0, never shifted); without
    columns the empties are counted in `missing`.
    """
    out = []
    for row in rows:
        last_label = -1
        for i, c in enumerate(row):
            if c.text and not is_value_text(c.text):
                last_label = i
        labels = [norm_label(c.text) for c in row[: last_label + 1] if c.text]
        cells = [c for c in row[last_label + 1 :] if not c.copy]
        missing = 0
        placed = not positional and bool(cells) and all(c.col is not None for c in cells)
        if placed:
            vals = placed_tokens(cells)
        else:
            vals = []
            for c in cells:
                if c.text:
                    vals.append(make_tok(c.text))
                elif positional or c.blank:
                    vals.append(Tok("", 0, "blank"))
                else:
                    missing += 1
        line = Line(labels, vals, path, missing, cells=row, placed=placed)
        detect_run(line)
        out.append(line)
    return out


def placed_tokens(cells: list[Cell]) -> list[Tok]:
    """Given a row's value cells with known columns (not positional), return one token per column, in order:
    a printed value; a blank where the cell is marked printed empty; else unknown (a value maybe not read).
    Several cells in one column (two boxes where one value belongs) are one unknown: never glued, never shifted."""
    by_col: dict[int, list[Cell]] = {}
    for c in cells:
        by_col.setdefault(c.col, []).append(c)  # type: ignore[arg-type]
    out = []
    for col in sorted(by_col):
        group = by_col[col]
        printed = [c.text for c in group if c.text]
        if len(printed) > 1:
            out.append(Tok(" ".join(printed), None, "unknown"))
        elif printed:
            out.append(make_tok(printed[0]))
        elif all(c.blank for c in group):
            out.append(Tok("", 0, "blank"))
        else:
            out.append(Tok("", None, "unknown"))
    return out


def lines_from_text(text: str, path: str) -> list[Line]:
    """Given a document's text (tab-separated, markdown pipes or spaces), return one line per text line."""
    text = split_stream(text)  # raw text kept verbatim: labels are normalised when matched
    chrome = has_chrome(text)
    out = []
    for raw in text.split("\n"):
        if not raw.strip() or FOOTER_RE.match(raw) or (chrome and CHROME_LINE_RE.search(raw)):
            continue  # blank, a page footer, or page chrome (script, channel lists)
        stripped = raw.strip()
        markdown = "|" in stripped
        if markdown:
            if re.fullmatch(r"\|?[\s|:\-]+\|?", stripped):
                continue
            cells = [c.strip() for c in stripped.strip("|").split("|")]
        elif "\t" in raw:
            cells = [c.strip() for c in raw.split("\t")]
        else:
            cells = unglue(stripped.split())
        last_label = -1
        for i, c in enumerate(cells):
            if c and not _is_value(c):
                last_label = i
        labels = [norm_label(c) for c in cells[: last_label + 1] if c]
        tail = cells[last_label + 1 :]
        vals = [make_tok(c) for c in tail if c]
        missing = 0
        if markdown and vals:
            # empties after the last value may be values lost in extraction (counted; unknown if needed)
            end = len(tail)
            while end and not tail[end - 1]:
                end -= 1
                missing += 1
        line = Line(labels, vals, path, missing, tail=tail if markdown else None)
        detect_run(line)
        out.append(line)
    return merge_detached_labels(out)


def lines_from_cell_per_line(text: str, path: str) -> list[Line]:
    """Text where every table cell sits on its own line (`规章`, `0`, `0`, `0`, …; empty cells as `|`).

    A label line starts a new row once the current row has values, or when it is itself a known row label;
    value lines are appended to the current row; a lone `|` is an empty printed cell.
    """
    rows: list[list[Cell]] = []
    current: list[Cell] = []
    has_values = False
    chrome = has_chrome(text)
    for raw in text.split("\n"):
        t = raw.strip()
        if not t or FOOTER_RE.match(t) or re.fullmatch(r"\|{2,}", t) or (chrome and CHROME_LINE_RE.search(t)):
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
        if has_values or is_row_label(label):
            if current:
                rows.append(current)
            current, has_values = [], False
        current.append(Cell(t))
    if current:
        rows.append(current)
    return lines_from_rows(rows, path, positional=True)


def unglue(tokens: list[str]) -> list[str]:
    """`数量230 000023` → `数量`, `230`, `000023`: a label token with digits glued to its end, followed only by
    values, is split where the label ends."""
    i = len(tokens)
    while i > 0 and _is_value(tokens[i - 1]):
        i -= 1
    if i == 0:
        return tokens
    m = _GLUED_RE.match(tokens[i - 1])
    if m is None:
        return tokens
    return [*tokens[: i - 1], m.group("label"), m.group("run"), *tokens[i:]]


def merge_detached_labels(lines: list[Line]) -> list[Line]:
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
            and (classify_t3(line.label, None) or t2_row_key(strip_numbering(line.labels[-1])) is not None)
        ):
            out.append(Line(line.labels, nxt.vals, nxt.path, nxt.missing, nxt.run))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def split_stream(text: str) -> str:
    """Insert line breaks before table row labels where the text lost them (one-line page dumps)."""
    start = text.find("第二十条第")
    if start < 0:
        start = text.find("本年新收")
    if start < 0:  # an excerpt or a document without tables 二/三's first rows: the first table words left
        found = [i for i in (text.find(w) for w in STREAM_FALLBACK_STARTS) if i >= 0]
        start = min(found, default=-1)
    if start < 0:
        return text
    m_end = re.search(r"[五六]、\s*(?:政府信息公开工作)?存在的?(?:主要)?问题|[五六]、\s*其他需要报告", text[start:])
    end = start + m_end.start() if m_end else len(text)
    region = text[start:end]
    if region.count("\n") >= STREAM_SPLIT_MAX_BREAKS:
        return text
    region = STREAM_SPLIT_RE.sub(lambda m: "\n" + m.group(0), region)
    # the t4 header words end right before its numbers
    region = re.sub(r"(尚未审结\s*总计)(?=\s*\d)", r"\1\n", region)
    # … and its numbers may run straight into the prose after it (`10000100000000000存在的问题…`)
    region = re.sub(r"(尚未审结\s*总计\n[\d\s]*\d)(?=[^\d\s])", r"\1\n", region)
    return text[:start] + region + "\n" + text[end:]


def make_tok(raw: str) -> Tok:
    """Given a cell's raw text, return its token (value, flag, unit)."""
    value, flag, unit = parse_value(raw)
    return Tok(raw, value, flag, unit)


def detect_run(line: Line) -> None:
    """Mark value tokens that are really glued digit runs (`640020470`, `230 000023`)."""
    if (line.tail is not None and len(line.tail) >= T3_WIDTH) or line.placed:
        return  # a pipe table row, or grid cells in their columns: no glued digits to split across cells
    if line.vals and all(t.raw.isdigit() for t in line.vals):
        digits = sum(len(t.raw) for t in line.vals)
        if (len(line.vals) < T3_WIDTH and digits >= MIN_RUN_DIGITS) or any(len(t.raw) > 1 and t.raw[0] == "0" for t in line.vals):
            line.run = [t.raw for t in line.vals]
