"""Lines → tables (spec/formats.md §3–§4, §10): given :class:`Line` objects, return the keyed cells of tables 二/三/四.

:func:`extract_tables` is a small state machine over the lines: table 二 rows under a `信息内容` header, table
三 rows from `本年新收` to `结转下年度`, then the table 四 data row. Table 三 rows are collected with their label
keys and assembled afterwards (:func:`assemble_t3`): rows whose label was lost (PDF extraction) fill the gap
between two labelled rows, in order, only when the number of such rows equals the number of missing keys there.
Digit runs are split only where the identities leave exactly one reading (the joint choice across rows is
:mod:`crawler.parsers.resolve`'s).

Widths come from the key definitions: a table 三 row has ``len(T3_COLS)`` cells, table 四 ``len(T4_KEYS)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.parsers import keys as K
from crawler.parsers.digits import refusal, row_identity, splits, t4_identity
from crawler.parsers.labels import (
    T3_COL_LABELS,
    T4_HEADER_RE,
    TABLE_SIGNS,
    classify_t3,
    group_of,
    t4_group_of,
)
from crawler.parsers.lines import Line, Tok, make_tok
from crawler.parsers.model import CellValue
from crawler.parsers.normalize import strip_numbering
from crawler.parsers.t2 import opens_t2, pick_t2_format, read_t2_row, t2_header_columns

T3_WIDTH = len(K.T3_COLS)  # value cells in a table 三 row (6 applicant columns + 总计)
T3_PARTS = len(K.T3_C6)  # the applicant columns that add up to 总计
T4_WIDTH = len(K.T4_KEYS)  # the one table 四 data row (3 groups × 5 columns)
T3_ROW_COUNTS = {len(rows): fmt for fmt, rows in K.T3_ROWS.items()}  # a complete table 三's row count → format
T3_FIRST_ROW_MIN_VALS = 5  # values on a bare `本年新收` line (no header seen) for it to open table 三
T3_STRAY_MAX_VALS = 4  # an unlabelled line with fewer values inside table 三 is a page number or footnote
T3_GROUP_LABEL_MAX = 40  # a value-less label this long or longer is prose, not a group label
T3_GROUP_ROW_LABEL_MAX = 60  # the same for a group label carried on a row with values
T4_BARE_ROW_MIN_VALS = 12  # an unlabelled line this long right after 结转下年度 is table 四's data row
T4_MIN_PRINTED = 10  # table 四 row with this many values and the rest lost (missing cells) is kept, rest unknown
_UNKNOWN = Tok("", None, "unknown")
_BLANK = Tok("", 0, "blank")


@dataclass
class TableResult:
    """The keyed cells of one pass over the lines, with what was found and what is left to resolve."""

    cells: dict[str, CellValue] = field(default_factory=dict)
    t2_format: str = "none"
    t3_format: str = "none"
    t3_found: bool = False
    t4_found: bool = False
    pending: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)  # t3 rows with several readings
    warnings: list[str] = field(default_factory=list)
    t2_named: str = "none"  # the format table 二's header cells name, rows read or not
    bare_rows: set[str] = field(default_factory=set)  # table 三 rows whose label was printed with no values



def t3_col_order(header_lines: list[Line]) -> tuple[str, ...]:
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
    if len(found) == T3_WIDTH and len(set(found.values())) == T3_WIDTH:
        return tuple(sorted(found, key=found.__getitem__))
    return K.T3_COLS


@dataclass
class _Scan:
    """The state of one walk over the lines (see :func:`extract_tables`)."""

    state: str = "pre"  # pre | t2 | t3 | t4 | done
    group: str | None = None  # the table 三 outcome group the rows are in
    t2_cols: tuple[str, ...] = ()
    t2_formats: dict[str, int] = field(default_factory=dict)  # format → header cells naming it
    t2_read: bool = False  # a table 二 row was read (a later header is not table 二's)
    header_lines: list[Line] = field(default_factory=list)
    t3_rows: list[tuple[str | None, Line]] = field(default_factory=list)
    t4_group: str | None = None  # the group the last table 四 heading named (one table per group)
    t4_parts: dict[str, list[Tok]] = field(default_factory=dict)  # group → its five tokens


def extract_tables(lines: list[Line]) -> TableResult:
    """Given the lines of one intake path, return the cells of tables 二/三/四 found in them.

    The tables may come in any order; each is read once (the first complete one wins).
    """
    res = TableResult()
    sc = _Scan()
    for line in lines:
        label = line.label
        if sc.state in ("pre", "t2", "done") or (sc.state == "t4" and not sc.t3_rows):
            if opens_t2(line, label) and (sc.state in ("pre", "t2") or not sc.t2_read):
                cols, fmts = t2_header_columns(label)
                sc.t2_cols = cols
                for f in fmts:
                    sc.t2_formats[f] = sc.t2_formats.get(f, 0) + 1
                sc.state = "t2"
                continue
            if not sc.t3_rows and _opens_t3(line, label, sc):
                sc.state = "t3"
            elif sc.state == "t2" and (line.vals or line.run or line.tail):
                read_t2_row(line, sc.t2_cols, res)
                sc.t2_read = True
                continue
            elif sc.state != "t4" and not res.t4_found and not line.vals and not line.run and _opens_t4(label):
                sc.state = "t4"
                sc.t4_group = t4_group_of(label)
                continue
            elif sc.state != "t4":
                if "申请人情况" in label or "自然人" in label or "勾稽" in label:
                    sc.header_lines.append(line)
                continue
        if sc.state == "t3":
            _t3_line(line, label, sc, res)
            continue
        if sc.state == "t4" and not res.t4_found:
            _t4_line(line, label, sc, res)
    _close_t4(sc, res)
    res.t2_named = res.t2_format = pick_t2_format(sc.t2_formats)  # a header alone names it (its keys: unknown)
    assemble_t3(sc.t3_rows, t3_col_order(sc.header_lines), res, res.t2_format)
    return res


def _opens_t3(line: Line, label: str, sc: _Scan) -> bool:
    """Given a line outside table 三, return whether it is table 三's first row (`本年新收` with its values)."""
    if not (line.vals or line.run):
        return False
    key = classify_t3(label, None)
    if key == "t3.received_new":
        return len(line.vals) >= T3_FIRST_ROW_MIN_VALS or bool(line.run) or bool(sc.header_lines and line.vals)
    # an excerpt or a page that starts inside table 三: a labelled leaf row with a whole row of values
    return key is not None and (len(line.vals) >= T3_WIDTH or sum(len(t) for t in line.run) >= T3_WIDTH)


def _opens_t4(label: str) -> bool:
    """Given a value-less line's label, return whether it is table 四's heading or header."""
    return bool(T4_HEADER_RE.search(label)) and (
        "结果维持" in label or "尚未审结" in label or bool(TABLE_SIGNS["t4"].search(label))
    )


def _note_bare_row(label: str, sc: _Scan, res: TableResult) -> None:
    """Given a value-less line inside table 三, note the row it names: printed without digits, it is unknown."""
    key = classify_t3(label, sc.group)
    if key is not None and strip_numbering(label) != label and not any(w in label for w in ("自然人", "申请人情况")):
        res.bare_rows.add(key)


def _t3_line(line: Line, label: str, sc: _Scan, res: TableResult) -> None:
    """Given a line inside table 三, add it to the rows, or take its group context, or move on to table 四."""
    if line.vals and not line.run and not any(t.raw for t in line.vals) and classify_t3(label, sc.group) is None and group_of(label):
        line = Line(line.labels, [], line.path, cells=line.cells)  # a group label on a row of empty cells: context
    if not line.vals and not line.run:
        if "申请人情况" in label or "自然人" in label:
            sc.header_lines.append(line)
        _note_bare_row(label, sc, res)
        if T4_HEADER_RE.search(label) and sc.t3_rows:
            sc.state = "t4"
            sc.t4_group = t4_group_of(label)
            return
        g = group_of(label)
        if g and len(label) < T3_GROUP_LABEL_MAX:
            sc.group = g
        return
    if len(line.vals) >= T4_BARE_ROW_MIN_VALS and not line.labels and sc.t3_rows and sc.t3_rows[-1][0] == "t3.carried_out":
        sc.state = "t4"
        return
    key = classify_t3(label, sc.group)
    g = group_of(label)
    if g and len(label) < T3_GROUP_ROW_LABEL_MAX:
        sc.group = g
    if key is None and len(line.vals) < T3_STRAY_MAX_VALS and not line.run:
        return  # a stray number (page number, footnote) inside the table
    sc.t3_rows.append((key, line))
    if key == "t3.carried_out":
        sc.state = "t4"


def _t4_line(line: Line, label: str, sc: _Scan, res: TableResult) -> None:
    """Given a line inside table 四, read its data row; or one group's row when 四 is printed one table a group."""
    if not line.vals and not line.run:
        g = t4_group_of(label)
        if g:
            sc.t4_group = g
        return
    if sc.t4_parts:  # already reading it group by group
        _t4_group_row(line, sc, res)
        return
    if read_t4_row(line, res):
        sc.state = "done"
        return
    _t4_group_row(line, sc, res)


def _t4_group_row(line: Line, sc: _Scan, res: TableResult) -> None:
    """Given a line of five values under a table 四 group heading, keep it as that group's row."""
    n = len(K.T4_COLS)
    vals = [make_tok(c) for c in line.tail] if line.tail is not None and len(line.tail) == n else line.vals
    if len(vals) != n or line.labels:
        return
    group = sc.t4_group if sc.t4_group and sc.t4_group not in sc.t4_parts else None
    if group is None:
        group = next((g for g in K.T4_GROUPS if g not in sc.t4_parts), None)
    if group is None:
        return
    sc.t4_parts[group] = vals
    sc.t4_group = None
    if len(sc.t4_parts) == len(K.T4_GROUPS):
        _close_t4(sc, res)
        sc.state = "done"


def _close_t4(sc: _Scan, res: TableResult) -> None:
    """Given the group rows read so far, store table 四's cells (a group not printed is unknown)."""
    if not sc.t4_parts or res.t4_found:
        return
    for g in K.T4_GROUPS:
        toks = sc.t4_parts.get(g)
        for i, c in enumerate(K.T4_COLS):
            t = toks[i] if toks else _UNKNOWN
            res.cells[f"{g}.{c}"] = CellValue(t.value, t.raw, t.flag, "t4-groups")
    missing = [g for g in K.T4_GROUPS if g not in sc.t4_parts]
    if missing:
        res.warnings.append(f"table 四: no row for {', '.join(missing)}; left unknown")
    res.t4_found = True


def read_t4_row(line: Line, res: TableResult) -> bool:
    """Given a candidate table 四 data line, store its cells in `res`; return whether it was table 四's row."""
    raw = " ".join(line.run) if line.run else ""
    if line.run and len(line.run) < T4_WIDTH:
        readings = run_readings(line.run, T4_WIDTH, t4_identity)
        cand = readings[0] if len(readings) == 1 else None
        if cand is None:
            if sum(len(t) for t in line.run) < T4_WIDTH:
                return False
            for k in K.T4_KEYS:
                res.cells[k] = CellValue(None, raw, "unknown", line.path + "-digits")
            res.warnings.append(f"table 四: digit run {raw!r}: {refusal(line.run, T4_WIDTH, len(readings))}; left unknown")
            res.t4_found = True
            return True
        flag = "num" if len(readings_of(tuple(line.run), T4_WIDTH)) == 1 else "inferred"
        for k, v in zip(K.T4_KEYS, cand, strict=True):
            res.cells[k] = CellValue(v, raw, flag, line.path + "-digits")
        res.t4_found = True
        return True
    vals = line.vals
    if line.tail is not None and len(line.tail) == T4_WIDTH:
        vals = [make_tok(c) for c in line.tail]  # a pipe table row: positions hold, empties are printed blanks
    if len(vals) < T4_WIDTH:
        if len(vals) + line.missing >= T4_WIDTH and len(vals) >= T4_MIN_PRINTED:
            vals = vals + [_UNKNOWN] * (T4_WIDTH - len(vals))
        else:
            return False
    if len(vals) > T4_WIDTH:
        if all(t.flag == "blank" for t in vals[T4_WIDTH:]):
            vals = vals[:T4_WIDTH]
        else:
            res.warnings.append(f"table 四: {len(vals)} values in its data row")
            return False
    for k, t in zip(K.T4_KEYS, vals, strict=True):
        res.cells[k] = CellValue(t.value, t.raw, t.flag, line.path)
    res.t4_found = True
    return True


@lru_cache(maxsize=2048)
def readings_of(run: tuple[str, ...], n: int) -> tuple[tuple[int, ...], ...]:
    """Given a digit run and a cell count, return every reading of it (cached: a row's run is read twice)."""
    return tuple(splits(run, n))


def run_readings(
    run: list[str], n: int, identity: Callable[[tuple[int, ...]], bool]
) -> list[tuple[int, ...]]:
    """Given a digit run and its cell count, return the readings the table's identity admits.

    A run read only one way is read even when its numbers break the identity (the failed check then says what
    is wrong, rather than an unknown hiding it). A run with fewer digits than cells lost some printed blanks:
    when every placement of them gives the same numbers (all digits 0), that one reading is returned.
    """
    readings = readings_of(tuple(run), n)
    admitted = [c for c in readings if identity(c)]
    if not admitted and len(readings) == 1:
        return list(readings)
    digits = "".join(run)
    if not readings and 0 < len(digits) < n and set(digits) == {"0"}:
        return [(0,) * n]
    return admitted


def t3_row_values(line: Line) -> list[Tok] | list[tuple[int, ...]] | None:
    """Given a table 三 line, return its seven tokens; or the candidate readings of a digit run; or None."""
    if line.run:
        return run_readings(line.run, T3_WIDTH, row_identity)
    vals = line.vals
    if line.tail is not None and len(line.tail) >= T3_WIDTH and len(vals) < T3_WIDTH:
        # a pipe table: cell positions hold. Merged-label residue sits left, trailing spare cells right.
        tail = list(line.tail)
        while len(tail) > T3_WIDTH and not tail[0]:
            tail.pop(0)
        while len(tail) > T3_WIDTH and not tail[-1]:
            tail.pop()
        if len(tail) == T3_WIDTH:
            toks = [make_tok(c) for c in tail]
            if not tail[T3_PARTS] and any(t.value for t in toks[:T3_PARTS]):
                # an empty 总计 beside non-zero parts in extracted text may be a lost value: never derive it
                toks[T3_PARTS] = _UNKNOWN
            return toks
    if len(vals) == T3_WIDTH:
        return vals
    if line.placed:
        return None  # one token per grid column, but not the table's columns: where each goes is not known
    if len(vals) > T3_WIDTH:
        extra = vals[T3_WIDTH:]
        if all(t.flag in ("blank", "unknown") and not t.raw for t in extra):
            return vals[:T3_WIDTH]
        return None
    # fewer than 7 printed: markdown/grid empties already became blank/unknown tokens; the rest are missing
    if line.missing and len(vals) + line.missing >= T3_WIDTH:
        return vals + [_UNKNOWN] * (T3_WIDTH - len(vals))
    return place_short(vals)


def place_short(vals: list[Tok]) -> list[Tok] | None:
    """§10: fewer than 7 values in flattened text — left or right placement, kept only if exactly one fits I3."""
    if not vals:
        return None
    gap = T3_WIDTH - len(vals)
    options = [vals + [_BLANK] * gap, [_BLANK] * gap + vals]
    fits = []
    for opt in options:
        nums = [t.value for t in opt]
        if None not in nums and sum(nums[:T3_PARTS]) == nums[T3_PARTS]:  # type: ignore[arg-type]
            fits.append(opt)
    if len(fits) == 1:
        return fits[0]
    return [Tok(" ".join(t.raw for t in vals), None, "unknown")] * T3_WIDTH  # neither or both fit: the row is unknown


def assemble_t3(
    rows: list[tuple[str | None, Line]], col_order: tuple[str, ...], res: TableResult, hint: str = "none"
) -> None:
    """Given table 三's lines with their label keys (None: label lost), decide the format and store every row."""
    if not rows:
        return
    res.t3_found = True
    labelled = {k for k, _ in rows if k}
    if labelled & {"t3.outcome.other.no_correction", "t3.outcome.other.unpaid_fee", "t3.outcome.other.misc"}:
        fmt = "gov2021"
    elif "t3.outcome.other.sum" in labelled:
        fmt = "gov2019"
    elif len(rows) in T3_ROW_COUNTS:  # a complete table without its (六) labels: its row count tells
        fmt = T3_ROW_COUNTS[len(rows)]
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
        fill_gap(order[last + 1 : i], pending, assigned, res)
        pending = []
        assigned.append((key, line))
        last = i
    fill_gap(order[last + 1 :], pending, assigned, res, tail=True)
    for key, line in assigned:
        store_t3_row(key, line, col_order, res)


def fill_gap(missing: tuple[str, ...], pending: list[Line], assigned: list, res: TableResult, tail: bool = False) -> None:
    """Given the keys missing between two labelled rows and the unlabelled rows there, assign them in order
    when the counts agree (all of them at the table's end); otherwise record a warning."""
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


def store_t3_row(key: str, line: Line, col_order: tuple[str, ...], res: TableResult) -> None:
    """Given a table 三 row key and its line, store its seven cells (values, unknowns or pending readings)."""
    vals = t3_row_values(line)
    raw_run = " ".join(line.run)
    if vals is None or (isinstance(vals, list) and not vals):
        if line.run:
            res.warnings.append(f"{key}: digit run {raw_run!r}: {refusal(line.run, T3_WIDTH, 0)}; left unknown")
        for c in col_order:
            res.cells[f"{key}.{c}"] = CellValue(None, raw_run or " ".join(t.raw for t in line.vals), "unknown", line.path)
        return
    if isinstance(vals[0], tuple):  # digit-run readings
        cands: list[tuple[int, ...]] = vals  # type: ignore[assignment]
        if len(cands) == 1:
            only_split = len(readings_of(tuple(line.run), T3_WIDTH)) == 1
            for c, v in zip(col_order, cands[0], strict=True):
                res.cells[f"{key}.{c}"] = CellValue(v, raw_run, "num" if only_split else "inferred", line.path + "-digits")
        else:
            res.pending[key] = cands
            for c in col_order:
                res.cells[f"{key}.{c}"] = CellValue(None, raw_run, "unknown", line.path + "-digits")
        return
    toks: list[Tok] = vals  # type: ignore[assignment]
    for c, t in zip(col_order, toks, strict=True):
        value = t.value
        flag = t.flag
        if value is not None and (t.unit or (isinstance(value, float) and not value.is_integer())):
            value, flag = None, "unknown"
        elif isinstance(value, float):
            value = int(value)
        res.cells[f"{key}.{c}"] = CellValue(value, t.raw, flag, line.path)
