"""Benchmark: median parse time per PDF and per DOCX report, next to pdfplumber's own open + extract_text.

    .venv/bin/python bench/documents.py [--repeat 3] [--layout plain] [--json]

The reports are generated from the real fixtures (tests/fixtures/real/*.json) by the test builders:
DOCX with python-docx, PDF by LibreOffice from that DOCX (needs `soffice`). For each PDF the ratio is
``parse_document time / (pdfplumber.open + extract_text of every page)``: how much the table finding,
grid rebuilding and the core cost on top of merely reading the text.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pdfplumber  # noqa: E402
from documents import builders as b  # noqa: E402  (tests/documents/builders.py)

from crawler.parsers import parse_document  # noqa: E402


def _median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _pdfplumber_text(data: bytes) -> None:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--layout", default="plain", choices=[*b.LAYOUTS, b.UNRULED])
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    docx = {case: b.build_docx(b.build_model(case), args.layout) for case in b.table_cases()}
    with tempfile.TemporaryDirectory(prefix="ogi-bench-") as tmp:
        pdfs = b.soffice_convert_many({f"{c}.docx": d for c, d in docx.items()}, "pdf", Path(tmp))
    rows = []
    for case, data in docx.items():
        pdf = pdfs[f"{case}.docx"]
        t_docx = _median_time(lambda data=data: parse_document(data, source="bench.docx"), args.repeat)
        t_pdf = _median_time(lambda pdf=pdf: parse_document(pdf, source="bench.pdf"), args.repeat)
        t_base = _median_time(lambda pdf=pdf: _pdfplumber_text(pdf), args.repeat)
        rows.append({"case": case, "docx_s": t_docx, "pdf_s": t_pdf, "pdfplumber_text_s": t_base,
                     "pdf_ratio": t_pdf / t_base})
    summary = {
        "layout": args.layout,
        "reports": len(rows),
        "median_docx_parse_s": statistics.median(r["docx_s"] for r in rows),
        "median_pdf_parse_s": statistics.median(r["pdf_s"] for r in rows),
        "median_pdfplumber_open_extract_text_s": statistics.median(r["pdfplumber_text_s"] for r in rows),
        "median_pdf_ratio": statistics.median(r["pdf_ratio"] for r in rows),
    }
    if args.json:
        print(json.dumps({"summary": summary, "reports": rows}, indent=1))
        return 0
    print(f"{'case':<6}{'docx s':>10}{'pdf s':>10}{'plumber s':>11}{'ratio':>8}")
    for r in rows:
        print(f"{r['case']:<6}{r['docx_s']:>10.4f}{r['pdf_s']:>10.4f}{r['pdfplumber_text_s']:>11.4f}{r['pdf_ratio']:>8.2f}")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
