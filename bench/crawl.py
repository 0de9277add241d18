"""Crawl benchmark: a generated portal with N reports on loopback, crawled end to end (fetch + archive + parse
+ store) with throttling off, then re-crawled unchanged.

    .venv/bin/python bench/crawl.py [--reports 1000]

Prints reports/s, peak memory (RSS of the crawl process), and for the re-crawl the bytes transferred relative
to the first crawl and its duration. Targets: >= 200 reports/s on 2 cores; re-crawl <= 5 % of the bytes.
``--repeat N`` runs the first crawl N times (fresh databases) and reports the median. The time split of the
first crawl (``save_report``/``save_document`` in the archive, WARC, commits, CPU of the crawl process and of
its parse workers) comes from ``ogi crawl --timings``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ogi.demo.portal import Portal, PortalServer  # noqa: E402

START = "http://bench.fixture.test/zfxxgknb/index.html"


def crawl(server: PortalServer, db: Path, *extra: str) -> tuple[float, int, dict[str, float]]:
    """Run one crawl in a subprocess: (seconds, peak RSS in KiB of the crawl process, stage timings)."""
    args = [sys.executable, "-m", "ogi.commands.crawl", "crawl", "--db", str(db), "--url", START,
            "--allow-private", "--fast", "--quiet", "--timings", "--host-map", f"fixture.test=127.0.0.1:{server.port}",
            *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                            text=True, check=False)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"crawl failed with status {result.returncode}")
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    timings: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if line.startswith("timings: "):
            timings = json.loads(line.removeprefix("timings: "))
    return elapsed, peak, timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1, help="first crawls to run (median reported)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    opts = ap.parse_args()
    t0 = time.perf_counter()
    portal = Portal(bench_reports=opts.reports)
    build = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp, PortalServer(portal) as server:
        runs = []
        for i in range(max(1, opts.repeat)):
            db = Path(tmp) / f"bench{i}.db"
            sent = portal.bytes_sent
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            first_s, peak_kib, timings = crawl(server, db)
            after = resource.getrusage(resource.RUSAGE_SELF)  # this process = the portal's server threads
            timings["cpu_portal"] = round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 3)
            runs.append((first_s, peak_kib, timings, db, portal.bytes_sent - sent))
        first_s, peak_kib, timings, db, bytes_first = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        con = sqlite3.connect(db)
        reports = con.execute("SELECT count(*) FROM reports WHERE url LIKE 'http://bench.%'").fetchone()[0]
        con.close()
        sent = portal.bytes_sent
        second_s, _, _ = crawl(server, db)
        bytes_second = portal.bytes_sent - sent
        fetch_only_s, _, _ = crawl(server, Path(tmp) / "fetch-only.db", "--set", "OGI_PARSE=False")
    out = {
        "reports_generated": opts.reports,
        "reports_archived": reports,
        "portal_build_s": round(build, 2),
        "first_crawl_s": round(first_s, 2),
        "first_crawl_all_s": [round(r[0], 2) for r in runs],
        "reports_per_s": round(reports / first_s, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "bytes_first": bytes_first,
        "recrawl_s": round(second_s, 2),
        "bytes_recrawl": bytes_second,
        "recrawl_bytes_pct": round(100 * bytes_second / max(bytes_first, 1), 2),
        "fetch_archive_only_s": round(fetch_only_s, 2),
        "fetch_archive_only_per_s": round(opts.reports / fetch_only_s, 1),
        "timings": timings,
        "cpus": os.cpu_count(),
    }
    if opts.json:
        sys.stdout.write(json.dumps(out) + "\n")
        return
    sys.stdout.write(
        f"first crawl: {reports}/{opts.reports} reports in {first_s:.2f}s = {out['reports_per_s']} reports/s "
        f"(process start included), peak RSS {out['peak_rss_mib']} MiB, {bytes_first / 1e6:.1f} MB\n"
        f"fetch + archive only (no parse): {fetch_only_s:.2f}s = {out['fetch_archive_only_per_s']} documents/s\n"
        f"re-crawl:    {second_s:.2f}s, {bytes_second / 1e3:.0f} kB = {out['recrawl_bytes_pct']} % of the first crawl\n"
        f"first crawls (s): {out['first_crawl_all_s']}\n"
        f"time split of the median first crawl (s): {json.dumps(timings, sort_keys=True)}\n"
    )


if __name__ == "__main__":
    main()
