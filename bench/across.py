"""Time ``recompute_across`` on a synthetic archive of N reports (bodies × consecutive years).

    .venv/bin/python bench/across.py                 # 10^4 reports
    .venv/bin/python bench/across.py --n 100000 --db /tmp/across.db   # builds once, reused when it exists

The archive is built from ``ogi.demo.synth`` series (five years per body, consistent carry-over, one report in
fifty with a broken carry-over and stock-flow, one in twenty published late) so every derived table has rows. Only the
recompute is timed; the build time is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import open_archive
from archive.across import recompute_across
from archive.schema import T3_C6
from ogi.demo.synth import random_report, to_parsed_json

logger = logging.getLogger("bench.across")
PLACES = ("焦作市", "洛阳市", "丽水市", "宿迁市", "南京市秦淮区", "广州市荔湾区", "绍兴市上虞区", "平潭综合实验区")
UNITS = ("教育局", "生态环境局", "市场监督管理局", "农业农村局", "自然资源和规划局", "人力资源和社会保障局")
YEARS = (2021, 2022, 2023, 2024, 2025)


def build(path: Path, n: int, seed: int = 1) -> float:
    """Given a database path and a report count, build the synthetic archive; return the seconds taken."""
    rng = random.Random(seed)
    t0 = time.monotonic()
    arc = open_archive(path)
    try:
        with arc.batch(size=2000, seconds=30):
            for i in range(n // len(YEARS)):
                agency = f"{PLACES[i % len(PLACES)]}第{i}{UNITS[i % len(UNITS)]}"
                prev = None
                for y in YEARS:
                    late = rng.random() < 0.05
                    rep = random_report(rng, "gov2021", agency=agency, year=y, scope="self", blank_rate=0.0,
                                        derived_totals=False, published=f"{y + 1}-{5 if late else 1:02d}-15")
                    if prev is not None and rng.random() > 0.02:
                        for col in T3_C6:
                            d = prev.cells[f"t3.carried_out.{col}"] - rep.cells[f"t3.carried_in.{col}"]
                            rep.cells[f"t3.carried_in.{col}"] += d
                            rep.cells[f"t3.received_new.{col}"] -= d
                        for row in ("t3.carried_in", "t3.received_new"):
                            rep.cells[f"{row}.total"] = sum(rep.cells[f"{row}.{c}"] for c in T3_C6)
                        for row in ("t2.regulation", "t2.normative_doc"):
                            c = rep.cells
                            c[f"{row}.repealed"] = min(c[f"{row}.repealed"], prev.cells[f"{row}.in_force"])
                            c[f"{row}.in_force"] = prev.cells[f"{row}.in_force"] + c[f"{row}.issued"] - c[f"{row}.repealed"]
                    prev = rep
                    parsed = to_parsed_json(rep)
                    data = json.dumps(parsed, ensure_ascii=False, sort_keys=True).encode()
                    url = f"https://bench.example/{i}/{y}"
                    sha = arc.save_document(data, url=url)
                    arc.save_report(parsed, sha256=sha, url=url)
    finally:
        arc.close()
    return time.monotonic() - t0


def main() -> int:
    """Given the command line, build (or reuse) the archive, time the recompute and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = args.db or Path(f"/tmp/ogi-bench-across-{args.n}.db")
    if not path.exists():
        logger.info("building %d reports in %s: %.1f s", args.n, path, build(path, args.n))
    arc = open_archive(path)
    try:
        reports = arc.conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        t0 = time.monotonic()
        summary = recompute_across(arc, today=dt.date(2026, 12, 1))
        took = time.monotonic() - t0
    finally:
        arc.close()
    logger.info("recompute_across on %d reports: %.2f s (write %.2f s)", reports, took, summary["write_seconds"])
    logger.info("%s", json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
