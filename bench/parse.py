"""Parse benchmark: our HTML report parser next to lxml alone and pandas.read_html, on the same bytes.

    .venv/bin/python bench/parse.py [--repeat N] [--json]

Inputs: the official-HTML render of a real fixture's expected cells (tests/fixtures/real/001.json via
``ogi.demo.synth``) and the real Shanghai report tests/fixtures/real/002.html. For each input it
measures the median wall time of

- ``parse_document(data)``: bytes → decoded → tables → keyed cells → checks (the full parse);
- ``lxml.html.fromstring(data)``: building the tree only;
- ``pandas.read_html(BytesIO(data))``: pandas' table reader (lxml flavour);

and prints the ratios. Targets (issue 2): parse ≤ 3× lxml, and pandas ≥ 4× slower than the parse.
Exit status is 0 even when a target is missed (a benchmark, not a test); ``--check`` makes it 1.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from crawler.parsers import parse_document  # noqa: E402
from ogi.demo import from_expected, render  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "real"
TARGET_LXML_RATIO = 3.0
TARGET_PANDAS_SPEEDUP = 4.0


def median_ms(fn: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(times) * 1000


def inputs() -> list[tuple[str, bytes]]:
    meta = json.loads((FIXTURES / "001.json").read_text(encoding="utf-8"))
    synth = from_expected(meta["expected_cells"], meta["format"], meta["agency"], meta["year"])
    return [
        ("001 cells, official_html render", render(synth, "official_html")),
        ("002.html (real, gov2019)", (FIXTURES / "002.html").read_bytes()),
    ]


def bench_one(name: str, data: bytes, repeat: int) -> dict:
    import pandas as pd

    rep = parse_document(data, source=name)
    failed = [c.rule + ":" + c.scope for c in rep.checks if c.status == "fail"]

    def run_pandas() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_html(io.BytesIO(data))

    parse_ms = median_ms(lambda: parse_document(data, source=name), repeat)
    lxml_ms = median_ms(lambda: lxml.html.fromstring(data), repeat)
    pandas_ms = median_ms(run_pandas, max(5, repeat // 3))
    return {
        "input": name,
        "bytes": len(data),
        "ok": rep.ok,
        "cells": len(rep.cells),
        "failed_checks": failed,
        "parse_ms": round(parse_ms, 3),
        "lxml_ms": round(lxml_ms, 3),
        "pandas_ms": round(pandas_ms, 3),
        "parse_over_lxml": round(parse_ms / lxml_ms, 2),
        "pandas_over_parse": round(pandas_ms / parse_ms, 2),
        "meets_targets": parse_ms / lxml_ms <= TARGET_LXML_RATIO
        and pandas_ms / parse_ms >= TARGET_PANDAS_SPEEDUP,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=40, help="timed runs per measurement (median is reported)")
    ap.add_argument("--json", action="store_true", help="one JSON object per input instead of a table")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    results = [bench_one(name, data, args.repeat) for name, data in inputs()]
    if args.json:
        for r in results:
            print(json.dumps(r, ensure_ascii=False))
    else:
        print(
            f"{'input':36} {'KB':>6} {'cells':>5} {'parse ms':>9} {'lxml ms':>8} {'pandas ms':>9} {'parse/lxml':>10} {'pandas/parse':>12}"
        )
        for r in results:
            print(
                f"{r['input']:36} {r['bytes'] / 1024:6.1f} {r['cells']:5d} {r['parse_ms']:9.2f} {r['lxml_ms']:8.2f} "
                f"{r['pandas_ms']:9.2f} {r['parse_over_lxml']:9.2f}x {r['pandas_over_parse']:11.2f}x"
                + ("" if r["meets_targets"] else "  <- misses target")
            )
            if not r["ok"] or r["failed_checks"]:
                print(f"    note: ok={r['ok']} failed checks={r['failed_checks']}")
        print(f"targets: parse/lxml <= {TARGET_LXML_RATIO}x, pandas/parse >= {TARGET_PANDAS_SPEEDUP}x")
    return 0 if (not args.check or all(r["meets_targets"] for r in results)) else 1


if __name__ == "__main__":
    sys.exit(main())
