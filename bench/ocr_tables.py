"""Table structure from OCR: our geometry (crawler/parsers/ocr_grid.py) against img2table, on the same renderings.

    /work/scratch/i2t/bin/python bench/ocr_tables.py [--cases 001,002,006,009] [--rounds 1] [--paths grid,i2t-rapid,i2t-tess]

img2table (MIT, github.com/xavctn/img2table) is NOT a project dependency: run this with a separate venv that
has it, e.g. ``python3 -m venv /work/scratch/i2t && /work/scratch/i2t/bin/pip install img2table rapidocr
onnxruntime pillow pypdfium2 lxml charset-normalizer pdfplumber python-docx openpyxl pyyaml`` (img2table pulls
opencv-contrib-python, which replaces rapidocr's opencv-python-headless: keep only one ``cv2``). Without
img2table the script prints one line and exits 2.

Each case (a real fixture) is rendered once exactly as bench/ocr.py does (Chromium screenshot, 1° skew, 0.8×,
120 dpi, JPEG q60) and read once by our RapidOCR (``ocr.read_page``: deskewed boxes and page). Then:

- ``grid``: ``report_from_pages`` as the product runs it (our geometry → ``build_report`` → confidence gate);
- ``i2t-rapid``: img2table finds the tables and their cells (bordered, from the deskewed page image) and fills
  them with our RapidOCR boxes (split at spaces like the grid does) by its own overlap rule;
- ``i2t-tess``: img2table alone: its rotation fix on the noisy JPEG and its own ``TesseractOCR(lang=chi_sim)``.

img2table's cells become grid rows the way ``ocr_grid`` gives them (column = its grid column, a colspan one
cell with ``span``, a rowspan's later rows ``copy`` cells, an empty cell tested for ink by
``ocr_grid.ink_blank``, a cell's confidence the lowest of its words'; words outside the tables become text
lines) and go through the very same ``report_from_pages`` (its ``build_grid`` swapped for these rows), so all
paths are keyed, checked, confidence-gated and scored (bench/ocr.py's ``score``) identically.

Seconds: ``ocr`` is the OCR pass (RapidOCR, shared by grid and i2t-rapid; Tesseract inside i2t-tess), ``tables``
is the structure + report step alone, ``total`` their sum per page (all cases are one page). Median of
``--rounds`` (default 1: img2table with Tesseract takes tens of seconds a page on this machine).

measured on 2026-12-02 (2 shared cores, load ≈ 0.8, rounds 1, img2table 2.0.0; s/page = ocr + tables):

    case path       ocr s  tables s  right unknown wrong  from rows
    001  grid        6.05     0.01    190      0     0      190
    001  i2t-rapid   6.05     0.37    190      0     0        0   (img2table: t4 15 columns read as 10)
    001  i2t-tess    6.92     0.34      1    189     0      161
    002  grid        3.05     0.01    176      0     0      165
    002  i2t-rapid   3.05     0.23    161     15     0      150   (img2table: no table 四 found)
    002  i2t-tess    6.41     0.35     95     81     0      131
    006  grid        4.14     0.01    176      0     0      176
    006  i2t-rapid   4.14     0.28    176      0     0        0
    006  i2t-tess    6.37     0.34      0    176     0      126
    009  grid        4.79     0.01    190      0     0      190
    009  i2t-rapid   4.79     0.33    190      0     0        0
    009  i2t-tess    5.76     0.37      0    190     0      161
    all: grid 732/732 right, 4.47 s/page median; i2t-rapid 717 right 15 unknown, 4.77 s/page;
         i2t-tess 96 right 636 unknown, 6.73 s/page.

Structure alone: our geometry 0.01 s/page, img2table 0.23–0.37 s/page. "from rows" 0 means img2table's rows
missed a table (table 四's lower header columns), so the core read every table from the text lines instead.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import ocr as bench_ocr  # noqa: E402  (render + score: the same as bench/ocr.py)
from crawler.parsers import ocr, ocr_grid, ocr_report  # noqa: E402
from crawler.parsers.model import Cell, Report  # noqa: E402
from crawler.parsers.normalize import is_value_text  # noqa: E402
from crawler.parsers.ocr import OcrBox, OcrPage  # noqa: E402
from crawler.parsers.ocr_grid import Grid, GridRow  # noqa: E402

logger = logging.getLogger("bench.ocr_tables")

PATHS = ("grid", "i2t-rapid", "i2t-tess")
INK_INSET = 0.2  # an empty img2table cell is tested for ink inside this share of its size from each border
_CJK_GAP_RE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _records(boxes: list[OcrBox]) -> dict[int, list[dict[str, Any]]]:
    """Given OCR boxes, return img2table's OCRData records for page 0 (one line per box, confidence 0–100)."""
    return {0: [{"id": f"w{n}", "parent": f"w{n}", "value": b.text, "confidence": round(100 * b.conf),
                 "x1": round(b.x0), "y1": round(b.y0), "x2": round(b.x1), "y2": round(b.y1)}
                for n, b in enumerate(boxes)]}


def _inside(rec: dict[str, Any], x1: float, y1: float, x2: float, y2: float) -> bool:
    """img2table's rule: a word belongs to a box when more than half its area lies inside."""
    ox = max(0.0, min(x2, rec["x2"]) - max(x1, rec["x1"]))
    oy = max(0.0, min(y2, rec["y2"]) - max(y1, rec["y1"]))
    return ox * oy > 0.5 * (rec["x2"] - rec["x1"]) * (rec["y2"] - rec["y1"])


def _cell_texts(value: str | None) -> list[str]:
    """Given img2table's cell text, return the cells it stands for: several values stay several cells (never
    glued into one number, as in ocr_grid), anything else one text with the spaces between CJK taken out."""
    text = " ".join((value or "").split())
    parts = text.split()
    if len(parts) > 1 and all(is_value_text(p) for p in parts):
        return parts
    return [_CJK_GAP_RE.sub("", text)] if text else []


def grid_from_tables(tables: list[Any], records: list[dict[str, Any]], image: Any, min_conf: int = 50) -> Grid:
    """Given img2table's tables of one page, the page's OCR word records and its grey image, return the rows
    ocr_grid would give: table rows (column, span, rowspan copies, ink-tested blanks, confidences) and the words
    outside every table as text lines, in reading order."""
    rows: list[GridRow] = []
    used: set[int] = set()
    for table in tables:
        seen: set[tuple[int, int, int, int]] = set()
        for tcells in table.content.values():
            row = GridRow(0.0, [], [], False)
            ys = []
            j = 0
            while j < len(tcells):
                tc = tcells[j]
                bb = (tc.bbox.x1, tc.bbox.y1, tc.bbox.x2, tc.bbox.y2)
                span = 1
                while j + span < len(tcells) and tcells[j + span].bbox == tc.bbox:
                    span += 1
                copy = bb in seen
                seen.add(bb)
                ys.append((bb[1] + bb[3]) / 2)
                words = [n for n, r in enumerate(records) if r["confidence"] >= min_conf and _inside(r, *bb)]
                used.update(words)
                conf = min((records[n]["confidence"] / 100 for n in words), default=None)
                texts = _cell_texts(tc.value)
                if copy:
                    row.cells.extend(Cell(t, j, span, copy=True) for t in texts or [""])
                    row.conf.extend(None for _ in texts or [""])
                elif texts:
                    row.cells.extend(Cell(t, j, span) for t in texts)
                    row.conf.extend(conf for _ in texts)
                else:
                    w, h = bb[2] - bb[0], bb[3] - bb[1]
                    ink = ocr_grid.ink_blank(image, (bb[0] + INK_INSET * w, bb[1] + INK_INSET * h,
                                                     bb[2] - INK_INSET * w, bb[3] - INK_INSET * h))
                    row.cells.append(Cell("", j, span, blank=ink is not None))
                    row.conf.append(ink)
                j += span
            row.y = statistics.fmean(ys) if ys else 0.0
            row.values = any(is_value_text(c.text) or c.blank for c in row.cells if not c.copy)
            rows.append(row)
    rows.extend(_text_lines([r for n, r in enumerate(records) if n not in used]))
    rows.sort(key=lambda r: r.y)
    return Grid(rows)


def _text_lines(records: list[dict[str, Any]]) -> list[GridRow]:
    """Given the word records outside the tables, return them as text lines (words of one OCR line joined,
    lines clustered by their vertical centres within half a median text height)."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        lines.setdefault(str(r.get("parent")), []).append(r)
    pieces = []
    for words in lines.values():
        words.sort(key=lambda r: r["x1"])
        text = _CJK_GAP_RE.sub("", " ".join(str(w["value"]) for w in words)).strip()
        if text:
            y1, y2 = min(w["y1"] for w in words), max(w["y2"] for w in words)
            pieces.append((text, min(w["x1"] for w in words), (y1 + y2) / 2, y2 - y1,
                           min(w["confidence"] for w in words) / 100))
    if not pieces:
        return []
    h = statistics.median(p[3] for p in pieces)
    out: list[list[tuple[str, float, float, float, float]]] = []
    for p in sorted(pieces, key=lambda p: p[2]):
        if out and p[2] - statistics.fmean(q[2] for q in out[-1]) <= ocr_grid.ROW_TOL * h:
            out[-1].append(p)
        else:
            out.append([p])
    rows = []
    for line in out:
        line.sort(key=lambda p: p[1])
        rows.append(GridRow(statistics.fmean(p[2] for p in line), [Cell(p[0]) for p in line], [p[4] for p in line],
                            False))
    return rows


def report_from_grid(pages: list[OcrPage], grid: Grid, source: str) -> Report:
    """Given OCR pages and rows built elsewhere, return the Report ``report_from_pages`` makes of those rows (the
    product's keying, checks and confidence gate; only its ``build_grid`` is swapped)."""
    with mock.patch.object(ocr_report, "build_grid", return_value=grid):
        return ocr_report.report_from_pages([replace(p) for p in pages], source=source, source_kind="jpeg")


def run_grid(page: OcrPage, name: str) -> Report:
    return ocr_report.report_from_pages([replace(page)], source=name, source_kind="jpeg")


def run_i2t_rapid(page: OcrPage, name: str) -> Report:
    """img2table's cells on our deskewed page, filled with our RapidOCR boxes."""
    from img2table.document import Image as I2tImage
    from img2table.ocr._types import OCRData

    buf = io.BytesIO()
    page.image.save(buf, "PNG")
    boxes = [p for b in page.boxes for p in ocr_grid.split_box(b)]
    records = _records(boxes)
    doc = I2tImage(buf.getvalue(), ocr_data=OCRData(records=records))
    tables = doc.extract_tables()
    return report_from_grid([page], grid_from_tables(tables, records[0], page.image), name)


def run_i2t_tess(data: bytes, name: str, tess: Any) -> tuple[Report, float]:
    """img2table alone (rotation fix, its TesseractOCR); return the report and the seconds its OCR took."""
    from img2table.document import Image as I2tImage
    from img2table.document._types import MockDocument
    from PIL import Image as PILImage

    doc = I2tImage(data, detect_rotation=True)
    img = doc.images[0]
    t = time.perf_counter()
    doc.ocr_data = tess.of(MockDocument(images=[img]))
    ocr_s = time.perf_counter() - t
    records = doc.ocr_data.records if doc.ocr_data is not None else {0: []}
    tables = doc.extract_tables()
    gray = PILImage.fromarray(img).convert("L")
    page = OcrPage(gray.width, gray.height, 0.0, [], None, "img2table-tesseract")
    return report_from_grid([page], grid_from_tables(tables, records.get(0, []), gray), name), ocr_s


def from_rows(report: Report, model: Any) -> int:
    """Given a report and its fixture, return how many expected keys it read from the table rows (path
    ``ocr-grid``); the rest came from the text lines (``ocr-text``: the core takes the text path when the rows
    miss a table) or are unknown."""
    return sum(1 for k in model.expected if k in report.cells and report.cells[k].path.startswith("ocr-grid"))


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Within the block, file descriptor 1 goes to /dev/null (img2table's TesseractOCR lets ``tesseract
    --version`` print to the terminal)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--cases", default="001,002,006,009")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    paths = [p for p in args.paths.split(",") if p]
    if any(p not in PATHS for p in paths):
        print(f"bench/ocr_tables.py: --paths takes {', '.join(PATHS)}", file=sys.stderr)
        return 2
    try:
        import img2table  # noqa: F401
    except ImportError:
        print("bench/ocr_tables.py: img2table is not installed (not a project dependency; see this script's docstring)")
        return 2
    tess = None
    if "i2t-tess" in paths:
        from img2table.ocr import TesseractOCR

        try:
            with quiet_stdout():
                tess = TesseractOCR(lang="chi_sim", n_threads=1)
        except OSError as exc:
            print(f"bench/ocr_tables.py: img2table's Tesseract not usable: {exc}", file=sys.stderr)
            return 2
    ocr.engine()
    results = []
    for name, data, model in bench_ocr.fixture_inputs(args.cases.split(",")):
        img = ocr.load_pages(data)[0][0]
        t = time.perf_counter()
        page = ocr.read_page(img, engine="rapidocr")
        rapid_s = time.perf_counter() - t
        for path in paths:
            runs: list[tuple[float, float, Report]] = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                if path == "grid":
                    report, ocr_s = run_grid(page, name), rapid_s
                elif path == "i2t-rapid":
                    report, ocr_s = run_i2t_rapid(page, name), rapid_s
                else:
                    report, ocr_s = run_i2t_tess(data, name, tess)
                spent = time.perf_counter() - t
                tables_s = spent - ocr_s if path == "i2t-tess" else spent
                runs.append((ocr_s, tables_s, report))
            ocr_med = statistics.median(r[0] for r in runs)
            tab_med = statistics.median(r[1] for r in runs)
            row = {"case": name.removesuffix(".jpg"), "path": path, "ocr_s": round(ocr_med, 2),
                   "tables_s": round(tab_med, 2), "total_s": round(ocr_med + tab_med, 2),
                   **bench_ocr.score(runs[-1][2], model), "from_rows": from_rows(runs[-1][2], model)}
            results.append(row)
            if not args.json:
                print(f"{row['case']:5} {path:10} ocr {row['ocr_s']:6.2f} s  tables {row['tables_s']:5.2f} s  "
                      f"total {row['total_s']:6.2f} s/page  {bench_ocr.score_line(row)}  checks failed "
                      f"{row['checks_failed']}  from rows {row['from_rows']}", flush=True)
    if args.json:
        print(json.dumps({"rounds": args.rounds, "rows": results}, ensure_ascii=False, indent=1))
        return 0
    for path in paths:
        mine = [r for r in results if r["path"] == path]
        print(f"{path:10} median total {statistics.median(r['total_s'] for r in mine):.2f} s/page; right "
              f"{sum(r['right'] for r in mine)} unknown {sum(r['unknown'] for r in mine)} wrong "
              f"{sum(r['wrong'] for r in mine)} of {sum(r['cells'] for r in mine)} (rounds {args.rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
