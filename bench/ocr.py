"""OCR benchmark: seconds per page on CPU (median), and the cells read right / unknown / wrong.

    .venv/bin/python bench/ocr.py [FILE ...] [--cases 001,006,009] [--rounds 3] [--json]

With files (PNG/JPEG/GIF/TIFF images or image-only PDFs) it OCRs each of them. Without, it renders real
fixtures (tests/fixtures/real) with headless Chromium, adds scan noise (1° skew, 0.8× scale, 120 dpi, JPEG
quality 60) and also scores the cells against the fixture's hand-checked values. The engine is created
(and its models loaded) before timing; each page is timed `--rounds` times and the median is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.parsers import ocr, parse_document  # noqa: E402

logger = logging.getLogger("bench.ocr")


def time_pages(data: bytes, rounds: int) -> tuple[int, float]:
    """Given image/PDF bytes, return (pages, median seconds per page over `rounds` OCR passes)."""
    pages, _total = ocr.load_pages(data)
    per_page = []
    for img in pages:
        runs = []
        for _ in range(rounds):
            t = time.perf_counter()
            ocr.read_page(img)
            runs.append(time.perf_counter() - t)
        per_page.append(statistics.median(runs))
    return len(pages), statistics.median(per_page) if per_page else 0.0


def fixture_inputs(cases: list[str]) -> list[tuple[str, bytes, object]]:
    from tests.documents import builders as b
    from tests.documents import test_ocr_render as r

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not installed (scripts/setup-system.sh installs it); pass image files instead")
    out = []
    for case in cases:
        model = b.build_model(case)
        shot = r.noisy(r.screenshot(r.report_html(model), chromium))
        out.append((f"{case}.jpg", r.jpeg(shot), model))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--cases", default="001,006,009")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t = time.perf_counter()
    ocr.engine()
    load = time.perf_counter() - t
    if args.files:
        inputs = [(str(p), p.read_bytes(), None) for p in args.files]
    else:
        inputs = fixture_inputs(args.cases.split(","))
    rows = []
    for name, data, model in inputs:
        pages, spp = time_pages(data, args.rounds)
        row: dict[str, object] = {"input": name, "pages": pages, "seconds_per_page": round(spp, 2)}
        if model is not None:
            from tests.documents import test_ocr_render as r

            report = parse_document(data, source=name)
            right, unknown, wrong = r.score(report, model)
            row.update(right=right, unknown=unknown, wrong=len(wrong), cells=len(model.expected),
                       checks_failed=len(report.failed_checks()))
        rows.append(row)
    medians = [float(r["seconds_per_page"]) for r in rows]
    summary = {"engine": ocr.ENGINE, "model_load_s": round(load, 2), "median_seconds_per_page": round(statistics.median(medians), 2),
               "inputs": rows}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        for row in rows:
            extra = f"  right {row['right']} unknown {row['unknown']} wrong {row['wrong']} of {row['cells']}" if "right" in row else ""
            print(f"{row['input']}: {row['pages']} page(s), {row['seconds_per_page']} s/page{extra}")
        print(f"engine {ocr.ENGINE}: model load {summary['model_load_s']} s; median {summary['median_seconds_per_page']} s/page (CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
