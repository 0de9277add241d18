"""OCR'd pages → a checked Report: the same core, every value flagged ``ocr`` with its confidence.

Given OCR pages (:mod:`crawler.parsers.ocr`), the geometry (:mod:`crawler.parsers.ocr_grid`) gives intake rows
and :func:`crawler.parsers.core.build_report` keys and checks them exactly as for any other reader. Then:

- every cell read from the image gets flag ``ocr`` (a printed number, dash, slash or 无 read by OCR; digit-run
  splits stay ``inferred``, computed cells ``derived``) and ``confidence``, the recogniser's score of the box
  it came from;
- a cell whose confidence is below :data:`LOW_CONF` is kept only when the identities confirm it: every check
  over it is ``ok`` (and there is at least one). Otherwise it becomes ``unknown`` with a warning — a guess is
  never stored. Keys no identity covers (table 二) need :data:`SOLE_CONF`. A derived cell (a blank total's sum,
  a group sum) computed from a cell left unknown becomes ``unknown`` too;
- ``report.ocr`` keeps the engine, every page's boxes ``[x0, y0, x1, y1, text, conf]`` and each key's confidence,
  so a reviewer can see where each number came from.

The cell a key came from is found by a second parse in which every value is replaced by a unique tag.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import replace

from crawler.parsers import keys as K
from crawler.parsers.checks import CheckInput, run_checks
from crawler.parsers.core import build_report
from crawler.parsers.model import Cell, Check, Extracted, Report
from crawler.parsers.normalize import fold_extracted, is_value_text
from crawler.parsers.ocr import ENGINE, OcrPage
from crawler.parsers.ocr_grid import Grid, build_grid

logger = logging.getLogger(__name__)

LOW_CONF = 0.95  # below this a value needs the identities' confirmation
SOLE_CONF = 0.98  # a value no identity covers (table 二) needs this much on its own
READ_FLAGS = frozenset({"num", "blank", "dash", "slash", "na_text"})
_TAG_RE = re.compile(r"^8\.(\d{6})$")


def report_from_pages(
    pages: list[OcrPage],
    *,
    source: str | None = None,
    source_kind: str = "image",
    title_hint: str | None = None,
    published_hint: str | None = None,
    warnings: Iterable[str] = (),
) -> Report:
    """Given OCR'd pages of one document, return its Report (cells flagged ``ocr``, ``report.ocr`` filled)."""
    grid = build_grid(pages)
    for page in pages:
        page.image = None  # used by the grid's ink test only: not kept (a page image is megabytes)
    ex = fold_extracted(Extracted(  # radicals (⺠, ⼀) read as the ideographs they stand for, as in every reader
        rows=[r.cells for r in grid.rows],
        text=grid.text,
        source_kind=source_kind,
        path="ocr-grid",
        text_path="ocr-text",
        title_hint=title_hint,
        published_hint=published_hint,
        positional=False,
    ))
    report = build_report(ex, source=source)
    report.warnings.extend(warnings)
    conf = key_confidence(ex, grid, report)
    doubtful = sorted(k for k, c in conf.items() if not _trusted(k, c, report))
    for key, cell in report.cells.items():
        if key in conf:
            cell.confidence = round(conf[key], 4)
            if cell.flag in READ_FLAGS:
                cell.flag = "ocr"
    for key in doubtful:
        cell = report.cells[key]
        report.cells[key] = replace(cell, value=None, flag="unknown")
        report.warnings.append(f"{key}: OCR read {cell.raw!r} with confidence {conf[key]:.2f}, not confirmed by the checks; left unknown")
    for key in derived_from(report, doubtful):
        report.cells[key] = replace(report.cells[key], value=None, flag="unknown")
        report.warnings.append(f"{key}: derived from cells left unknown; left unknown")
    if doubtful and report.checks:
        report.checks = recheck(report)
    report.ocr = {
        "engine": pages[0].engine if pages else ENGINE,
        "pages": [p.to_json() for p in pages],
        "confidence": {k: report.cells[k].confidence for k in report.cells if report.cells[k].confidence is not None},
        "low_conf": LOW_CONF,
    }
    return report


def key_confidence(ex: Extracted, grid: Grid, report: Report) -> dict[str, float]:
    """Given the intake, its grid and the report, return key → confidence of the box each value came from.

    Every value cell (and every empty cell the ink test found printed blank: its confidence is the share of its
    box free of ink) is replaced by a unique tag (``8.000123``) and the grid rows parsed again: a key the report
    read from the grid whose raw is a tag came from that cell. A key the tags do not reach (a digit-run split,
    a value read from the text path) gets the lowest confidence of the boxes that printed its raw text, or 0."""
    confs: list[tuple[float, str]] = []  # per tag: its cell's confidence and printed text
    tagged: list[list[Cell]] = []
    for r in grid.rows:
        row = []
        for cell, c in zip(r.cells, r.conf, strict=True):
            if r.values and c is not None and not cell.copy and (is_value_text(cell.text) or cell.blank):
                row.append(Cell(f"8.{len(confs):06d}", cell.col, cell.span, cell.copy))
                confs.append((c, cell.text))
            else:
                row.append(cell)
        tagged.append(row)
    # the grid rows alone: tags read as fractions would make another path look better than in the report
    probe = build_report(replace(ex, rows=tagged, text=""), source=None)
    by_raw: dict[str, float] = {}
    for r in grid.rows:
        for cell, c in zip(r.cells, r.conf, strict=True):
            if c is not None and cell.text:
                by_raw[cell.text] = min(c, by_raw.get(cell.text, 1.0))
    out: dict[str, float] = {}
    for key, value in report.cells.items():
        if value.flag == "derived" or (value.flag == "unknown" and not value.raw):
            continue
        hit = probe.cells.get(key)
        m = _TAG_RE.match(hit.raw) if hit is not None else None
        tag = confs[int(m.group(1))] if m and value.path.startswith(ex.path) else None
        # a tag is the key's cell only when the report read the key from the grid and that cell printed its raw
        out[key] = tag[0] if tag is not None and tag[1] == value.raw else by_raw.get(value.raw, 0.0)
    return out


def derived_from(report: Report, doubtful: list[str]) -> list[str]:
    """Given a report and the keys just left unknown, return the derived cells computed from any of them (a
    blank row total as its parts' sum, a group sum as its members'; in turn, sums of those): their sum is not
    known, as the core leaves a blank total beside an unknown part unknown."""
    out: list[str] = []
    lost = set(doubtful)
    fmt = report.formats.get("t3", "none")
    changed = True
    while changed:
        changed = False
        for key, cell in report.cells.items():
            if cell.flag != "derived" or key in lost:
                continue
            row, col = key.rsplit(".", 1)
            inputs = [f"{row}.{c}" for c in K.T3_C6] if col == "total" and fmt in K.T3_ROWS else []
            inputs += [f"{m}.{col}" for m in K.T3_GROUPS.get(row, ())]
            if lost.intersection(inputs):
                lost.add(key)
                out.append(key)
                changed = True
    return out


def checks_over(key: str, fmt: str) -> list[tuple[str, str]]:
    """Given a cell key and table 三's format, return the (rule, scope) of the identities that include it."""
    if key.startswith("t4."):
        group, _col = key.rsplit(".", 1)
        return [("I4", group.removeprefix("t4."))]
    if not key.startswith("t3.") or fmt not in K.T3_ROWS:
        return []
    row, col = key.rsplit(".", 1)
    out = [("I3", row)]
    if row in ("t3.received_new", "t3.carried_in", "t3.carried_out", "t3.outcome.total"):
        out.append(("I1", col))
    if row == "t3.outcome.total" or row in K.T3_OUTCOME_LEAVES[fmt]:
        out.append(("I2", col))
    return out


def _trusted(key: str, conf: float, report: Report) -> bool:
    over = checks_over(key, report.formats.get("t3", "none"))
    if not over:
        return conf >= SOLE_CONF
    if conf >= LOW_CONF:
        return True
    status = {(c.rule, c.scope): c.status for c in report.checks}
    return all(status.get(rs) == "ok" for rs in over)


def recheck(report: Report) -> list[Check]:
    """The checks of a report recomputed over its (changed) cells, in the core's order."""
    cells = report.cells
    t3f = report.formats.get("t3", "none")
    t4 = any(k.startswith("t4.") for k in cells)
    return run_checks(CheckInput(cells, t3f, t4, report.sections, report.text))

