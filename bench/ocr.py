"""OCR benchmark: seconds per page on CPU (median), and the cells read right / unknown / wrong, per engine.

    .venv/bin/python bench/ocr.py [FILE ...] [--cases 001,006,009] [--rounds 3] [--engine rapidocr|tesseract|both]
                                  [--json]

With files (PNG/JPEG/GIF/TIFF images or image-only PDFs) it OCRs each of them. Without, it renders real
fixtures (tests/fixtures/real) with headless Chromium, adds scan noise (1° skew, 0.8× scale, 120 dpi, JPEG
quality 60) and also scores the cells against the fixture's hand-checked values (the fixture's report read by
``parse_document`` with that engine chosen by ``OGI_OCR_ENGINE``). The engine is started (RapidOCR's models
loaded, Tesseract's binary and languages checked) before timing; each page is timed `--rounds` times and the
median is printed. ``--engine both`` reads the same renderings with both engines and prints the ratio
tesseract s/page ÷ rapidocr s/page of that run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.parsers import ocr, parse_document  # noqa: E402
from crawler.parsers.model import Report  # noqa: E402

logger = logging.getLogger("bench.ocr")


def time_pages(data: bytes, rounds: int, engine: str | None = None) -> tuple[int, float]:
    """Given image/PDF bytes, return (pages, median seconds per page over `rounds` OCR passes by `engine`)."""
    pages, _total = ocr.load_pages(data)
    per_page = []
    for img in pages:
        runs = []
        for _ in range(rounds):
            t = time.perf_counter()
            ocr.read_page(img, engine=engine)
            runs.append(time.perf_counter() - t)
        per_page.append(statistics.median(runs))
    return len(pages), statistics.median(per_page) if per_page else 0.0


def start_engine(engine: str) -> float:
    """Given an engine name, start it (models loaded, binary checked) and return the seconds that took."""
    t = time.perf_counter()
    if engine == "tesseract":
        from crawler.parsers import ocr_tesseract

        ocr_tesseract.binary()
    else:
        ocr.engine()
    return time.perf_counter() - t


@contextlib.contextmanager
def chosen_engine(engine: str) -> Iterator[None]:
    """Within the block, ``OGI_OCR_ENGINE`` names `engine` (so ``parse_document`` reads with it)."""
    before = os.environ.get(ocr.ENGINE_ENV)
    os.environ[ocr.ENGINE_ENV] = engine
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ocr.ENGINE_ENV, None)
        else:
            os.environ[ocr.ENGINE_ENV] = before


def fixture_inputs(cases: list[str]) -> list[tuple[str, bytes, Any]]:
    """Given fixture case ids, return (name, noisy JPEG bytes, the fixture's model) per case."""
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


def score(report: Report, model: Any) -> dict[str, Any]:
    """Given a report and the fixture model it was read from, return its cells right / unknown / wrong (of the
    fixture's expected cells), the wrong ones and the failed checks."""
    from tests.documents import test_ocr_render as r

    right, unknown, wrong = r.score(report, model)
    return {"right": right, "unknown": unknown, "wrong": len(wrong), "cells": len(model.expected),
            "checks_failed": len(report.failed_checks()), "wrong_cells": wrong}


def score_line(row: dict[str, Any]) -> str:
    """Given a scored row, return 'right R unknown U wrong W of N' (empty when it was not scored)."""
    if "right" not in row:
        return ""
    return f"right {row['right']} unknown {row['unknown']} wrong {row['wrong']} of {row['cells']}"


def bench_engine(engine: str, inputs: list[tuple[str, bytes, Any]], rounds: int, load: float) -> dict[str, Any]:
    """Given an engine (started in `load` seconds) and the inputs, return its summary: model load, per input
    s/page (+ score), median."""
    rows = []
    for name, data, model in inputs:
        pages, spp = time_pages(data, rounds, engine)
        row: dict[str, Any] = {"input": name, "pages": pages, "seconds_per_page": round(spp, 2)}
        if model is not None:
            with chosen_engine(engine):
                report = parse_document(data, source=name)
            row.update(score(report, model))
        rows.append(row)
    medians = [float(r["seconds_per_page"]) for r in rows]
    return {"engine": engine, "model_load_s": round(load, 2),
            "median_seconds_per_page": round(statistics.median(medians), 2) if medians else 0.0, "inputs": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--cases", default="001,006,009")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--engine", choices=(*ocr.ENGINES, "both"), default=ocr.ENGINE)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    engines = list(ocr.ENGINES) if args.engine == "both" else [args.engine]
    try:
        loads = {name: start_engine(name) for name in engines}
    except ocr.OcrUnavailable as exc:
        print(f"bench/ocr.py: {exc}", file=sys.stderr)
        return 2
    if args.files:
        inputs: list[tuple[str, bytes, Any]] = [(str(p), p.read_bytes(), None) for p in args.files]
    else:
        inputs = fixture_inputs(args.cases.split(","))
    results = [bench_engine(name, inputs, args.rounds, loads[name]) for name in engines]
    by_name = {s["engine"]: s for s in results}
    ratio = None
    if "rapidocr" in by_name and "tesseract" in by_name and by_name["rapidocr"]["median_seconds_per_page"]:
        ratio = round(by_name["tesseract"]["median_seconds_per_page"] / by_name["rapidocr"]["median_seconds_per_page"], 2)
    if args.json:
        out: dict[str, Any] = dict(results[0]) if len(results) == 1 else {"engines": results}
        if ratio is not None:
            out["tesseract_over_rapidocr"] = ratio
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    for s in results:
        for row in s["inputs"]:
            print(f"{s['engine']:9} {row['input']}: {row['pages']} page(s), {row['seconds_per_page']} s/page  {score_line(row)}")
        print(f"engine {s['engine']}: model load {s['model_load_s']} s; median {s['median_seconds_per_page']} s/page (CPU)")
    if ratio is not None:
        print(f"tesseract / rapidocr: {ratio}× the seconds per page (same renderings, same run, rounds {args.rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
