"""Tables → report (spec/formats.md §1, §5): given a reader's :class:`Extracted`, return a checked :class:`Report`.

The chain, each step a small pure transform:

1. :func:`read_tables` — every intake path that may hold the tables (grid rows, text lines, cell-per-line)
   through :func:`crawler.parsers.tables.extract_tables`; the best result, completed table by table from
   the others;
2. :func:`table_formats` — the format of each table (`formats.t2/t3/t4`);
3. :func:`crawler.parsers.resolve.resolve_pending` and :func:`~crawler.parsers.resolve.derive`;
4. the checks (:mod:`crawler.parsers.checks`), or, with no table 三/四, the status decision of
   :func:`untabled_status` (`pre2019`, `image_only`, `no_tables`, `not_report`).
"""

from __future__ import annotations

import re

from crawler.parsers import keys as K
from crawler.parsers.checks import CheckInput, run_checks
from crawler.parsers.labels import doc_format_hint, is_pre2019, tables_signed
from crawler.parsers.lines import lines_from_cell_per_line, lines_from_rows, lines_from_text
from crawler.parsers.meta import find_meta, find_sections
from crawler.parsers.model import CellValue, Extracted, Report
from crawler.parsers.resolve import derive, resolve_pending
from crawler.parsers.tables import TableResult, extract_tables

TABLES_FOUND_ALL = 2  # tables 三 and 四: a result with both needs no other intake path
META_OVERVIEW_CHARS = 400  # the start of section 一 that metadata may be read from
TITLE_SEARCH_CHARS = 3000  # where a report title is looked for in the text when none was found
IMAGE_ONLY_MAX_TEXT = 1500  # a report with images and less text than this has its tables as pictures
SHORT_TABLE_SECTION = 300  # a section 三 shorter than this holds no table text
UNREADABLE = "unreadable"  # formats.tN of a table whose heading or labels are printed but that could not be read
KNOWN_FORMATS = ("gov2021", "gov2019")
MISSING_PATH = "missing"  # the path of a cell THE RULE added: its key was not found in the text
TABLE_NAMES = {"t2": "二", "t3": "三", "t4": "四"}
REPORT_TITLE_RE = re.compile(r"信息公开.{0,6}(?:年度报告|年报)")
_ORDER = {
    k: i
    for i, k in enumerate(
        [
            *K.t2_keys("gov2021"),
            *K.t2_keys("gov2019"),
            *K.t3_keys("gov2021"),
            *[f"t3.outcome.other.sum.{c}" for c in K.T3_COLS],
            *[f"{g}.{c}" for g in K.T3_GROUPS for c in K.T3_COLS],
            *K.T4_KEYS,
        ]
    )
}


def score(res: TableResult) -> tuple[int, int]:
    """Given a table result, return (tables 三/四 found, cells known): the better result is the larger."""
    known = sum(1 for c in res.cells.values() if c.value is not None)
    return (int(res.t3_found) + int(res.t4_found), known)


def read_tables(ex: Extracted) -> TableResult:
    """Given the intake, return the best table result of its paths, with a table it missed taken from another."""
    results = []
    if ex.rows:
        results.append(extract_tables(lines_from_rows(ex.rows, ex.path, ex.positional)))
    if not results or score(results[0])[0] < TABLES_FOUND_ALL:
        results.append(extract_tables(lines_from_text(ex.text, ex.text_path)))
        if score(results[-1])[0] < TABLES_FOUND_ALL:
            results.append(extract_tables(lines_from_cell_per_line(ex.text, ex.text_path + "-cells")))
    res = max(results, key=score)
    for other in results:
        if other is res:
            continue
        if not res.t4_found and other.t4_found:
            res.cells.update({k: v for k, v in other.cells.items() if k.startswith("t4.")})
            res.t4_found = True
        if res.t2_format == "none" and other.t2_format != "none":
            res.cells.update({k: v for k, v in other.cells.items() if k.startswith("t2.")})
            res.t2_format = other.t2_format
    return res


def table_formats(res: TableResult, text: str) -> dict[str, str]:
    """Given a table result and the document's text, return the format of each table (`t2`, `t3`, `t4`)."""
    t3f = res.t3_format if res.t3_found else "none"
    t2f = res.t2_format
    if t2f == "none" and any(k.startswith("t2.") for k in res.cells):
        t2f = doc_format_hint(text)
    t4f = "none"
    if res.t4_found:  # table 四 is the same in both formats: it takes the report's format
        t4f = t3f if t3f != "none" else t2f
        if t4f == "none":
            t4f = doc_format_hint(text)
        if t4f == "none":
            t4f = "gov2021"
    return {"t2": t2f, "t3": t3f, "t4": t4f}


def table_keys(table: str, fmt: str) -> list[str]:
    """Given a table (`t2`, `t3`, `t4`) and a format, return every key the table prints in it; for a format not
    known (`unreadable`), the keys both formats print."""
    if table == "t4":
        return list(K.T4_KEYS)
    if table == "t3":
        if fmt in K.T3_ROWS:
            return K.t3_keys(fmt)
        return [f"{r}.{c}" for r in K.T3_ROWS_HEAD + K.T3_TAIL for c in K.T3_COLS]
    if fmt in K.T2_ROWS:
        return K.t2_keys(fmt)
    both = set(K.t2_keys("gov2021")) & set(K.t2_keys("gov2019"))
    return [k for k in K.t2_keys("gov2021") if k in both]


def complete_tables(
    cells: dict[str, CellValue], formats: dict[str, str], signed: set[str], res: TableResult, hint: str
) -> list[str]:
    """THE RULE: given the cells, the tables' formats and the tables whose heading or labels are printed, give
    every key of every such table a value or an unknown cell (in place); a table printed but not read at all has
    format `unreadable`. Return the warnings that say which keys were not found and why."""
    warnings = []
    for table in ("t2", "t3", "t4"):
        fmt = formats[table]
        if fmt == "none" and table not in signed:
            continue
        if fmt == "none":
            formats[table] = UNREADABLE
            warnings.append(f"table {TABLE_NAMES[table]}: its heading or labels are printed but it could not be read")
        named = res.t2_named if table == "t2" and res.t2_named in KNOWN_FORMATS else hint
        keys = table_keys(table, fmt if fmt in KNOWN_FORMATS else named)
        missing = [k for k in keys if k not in cells]
        if not missing:
            continue
        for k in missing:
            cells[k] = CellValue(None, "", "unknown", MISSING_PATH)
        rows = list(dict.fromkeys(k.rsplit(".", 1)[0] for k in missing))
        bare = [r for r in rows if r in res.bare_rows]
        why = f"; printed without values: {', '.join(bare)}" if bare else ""
        warnings.append(
            f"table {TABLE_NAMES[table]}: {len(missing)} of {len(keys)} cells not found in the text "
            f"({', '.join(rows[:4])}{'…' if len(rows) > 4 else ''}){why}; unknown"
        )
    return warnings


def key_order(key: str) -> tuple[int, str]:
    """Given a cell key, return its sort key: the tables' printed order, unknown keys last."""
    return (_ORDER.get(key, 10_000), key)


def build_report(ex: Extracted, *, source: str | None = None) -> Report:
    """Given a reader's Extracted, return a checked Report. Pure; never raises for odd content."""
    report = Report(source=source, source_kind=ex.source_kind, text=ex.text)
    report.warnings.extend(ex.warnings)
    sections = read_meta(report, ex)
    res = read_tables(ex)
    report.warnings.extend(res.warnings)
    cells = res.cells
    report.formats = table_formats(res, ex.text)
    t2f, t3f = report.formats["t2"], report.formats["t3"]
    report.mixed_format = len({f for f in (t2f, t3f) if f in KNOWN_FORMATS}) == 2
    hint = next((f for f in (t3f, t2f) if f in KNOWN_FORMATS), None) or doc_format_hint(ex.text)
    # the tables printed: only needed for a table not read (most reports read all three)
    signed = tables_signed(ex.text) if "none" in report.formats.values() else set()
    if not (res.t3_found or res.t4_found):
        report.cells = {k: v for k, v in cells.items() if k.startswith("t2.")}
        untabled_status(report, ex, sections)
        if report.status in ("no_tables", "image_only"):
            # tables printed but not read: formats say `unreadable`; text tables get their keys as unknown
            # cells, pictures of tables none (they are kept for OCR, and the status says why)
            cells = dict(report.cells)
            report.warnings.extend(complete_tables(cells, report.formats, signed, res, hint))
            if report.status == "no_tables":
                report.cells = dict(sorted(cells.items(), key=lambda kv: key_order(kv[0])))
        return report

    report.warnings.extend(complete_tables(cells, report.formats, signed, res, hint))
    t3_rules = t3f if t3f in KNOWN_FORMATS else (hint if report.formats["t3"] == UNREADABLE else t3f)
    if res.pending:
        resolved = resolve_pending(cells, res.pending, t3_rules)
        for key in res.pending:
            if key not in resolved:
                report.warnings.append(f"{key}: digit run has several readings; left unknown")
    derive(cells, t3_rules)
    report.warnings.extend(explain_unknowns(cells, report.warnings))
    report.cells = dict(sorted(cells.items(), key=lambda kv: key_order(kv[0])))
    report.status, report.ok = "report", True
    report.checks = run_checks(CheckInput(report.cells, t3_rules, report.formats["t4"] != "none", sections, ex.text))
    return report


def read_meta(report: Report, ex: Extracted) -> dict[str, str]:
    """Given the report being built and the intake, fill in its sections, title, agency, year, date and scope;
    return the sections."""
    sections, preface = find_sections(ex.text)
    report.sections = sections
    overview = sections.get("s1.overview", "")[:META_OVERVIEW_CHARS]
    meta = find_meta(ex.text, ex.title_hint, ex.published_hint, preface, overview, agency_hint=ex.agency_hint)
    report.title, report.agency, report.year = meta.title, meta.agency, meta.year
    report.year_source, report.published, report.scope = meta.year_source, meta.published, meta.scope
    return sections


def explain_unknowns(cells: dict[str, CellValue], warnings: list[str]) -> list[str]:
    """Given the cells and the warnings so far, return one warning per table for the unknown cells that no
    warning names yet (by key or row), so every unknown says why."""
    said = " ".join(warnings)
    silent: dict[str, list[str]] = {}
    for k, c in cells.items():
        if c.flag != "unknown" or c.path in ("derived", MISSING_PATH):
            continue  # derived sums follow their parts; keys not found are named by complete_tables
        row = k.rsplit(".", 1)[0]
        if k not in said and row not in said:
            silent.setdefault(k[:2], []).append(k)
    out = []
    for table, keys in silent.items():
        rows = list(dict.fromkeys(k.rsplit(".", 1)[0] for k in keys))
        raws = list(dict.fromkeys(cells[k].raw for k in keys if cells[k].raw))[:3]
        printed = f"; printed {', '.join(repr(r) for r in raws)}" if raws else "; printed empty"
        out.append(
            f"table {TABLE_NAMES.get(table, table)}: {len(keys)} cells unreadable "
            f"({', '.join(rows[:4])}{'…' if len(rows) > 4 else ''}){printed}; unknown"
        )
    return out


def untabled_status(report: Report, ex: Extracted, sections: dict[str, str]) -> Report:
    """Given a report with no table 三/四, return it with its status: pre2019, image_only (pictures of tables, or
    a scanned PDF, titled or not: then OCR), no_tables or not_report."""
    has_title = bool(report.title) or (
        len(sections) >= 3 and bool(REPORT_TITLE_RE.search(ex.text[:TITLE_SEARCH_CHARS]))
    )
    if is_pre2019(ex.text) and (has_title or len(sections) >= 3):
        report.status, report.ok = "pre2019", True
        report.formats = {"t2": "pre2019", "t3": "pre2019", "t4": "pre2019"}
        return report
    # a 图片版 title with no picture on the page (an article linking its report as an attachment) is no
    # image report: stored as one, it would become an empty version of the attachment's report
    image_title = bool(report.title and "图片" in report.title and ex.images)
    # tables as pictures: little text overall, or a section 三 with no table text where the table should be
    short_tables = "s3.requests" in sections and len(sections["s3.requests"]) < SHORT_TABLE_SECTION
    # a scan (every page a picture, no text layer) is a report's pictures even when no title can be read
    if (has_title or ex.scanned) and (
        ex.scanned or (ex.images and (len(ex.text) < IMAGE_ONLY_MAX_TEXT or short_tables)) or image_title
    ):
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
