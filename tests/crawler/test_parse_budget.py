"""Per-document parse budgets: wall time and memory in a recycled worker; each exceeded budget is a reason."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.parsepool import ParseBudgetExceeded, ParsePool, parse_to_json
from tests.crawler.test_egress import crawl
from tests.faults.server import FaultServer, Page, html, link, report_page


def hog(kind: str, value: int) -> Any:
    """Runs in a pool worker: loops, allocates past any budget, or answers."""
    if kind == "loop":
        while True:
            time.sleep(0.01)
    if kind == "memory":
        chunks = []
        while True:
            chunks.append(bytearray(64 * 1024 * 1024))  # 64 MB at a time: MemoryError under the cap
    import os

    return (value * 2, os.getpid())


def hog_parse(body: bytes, url: str, final_url: str | None, content_type: str | None, title: str | None) -> Any:
    """The crawl's parse function with two poisoned documents (the test hook ``OGI_PARSE_FUNC``)."""
    if "hog-loop" in url:
        hog("loop", 0)
    if "hog-memory" in url:
        hog("memory", 0)
    return parse_to_json(body, url, final_url, content_type, title)


def test_budgets_fail_one_document_and_the_pool_goes_on() -> None:
    async def main() -> list[Any]:
        pool = ParsePool(1, hog, seconds=2.0, memory_mb=256, recycle=3)
        try:
            calls = [pool.run("ok", 1), pool.run("loop", 0), pool.run("ok", 2), pool.run("memory", 0)]
            calls += [pool.run("ok", 10 + i) for i in range(6)]
            return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 60)
        finally:
            pool.close()

    t0 = time.monotonic()
    results = asyncio.run(main())
    elapsed = time.monotonic() - t0
    assert isinstance(results[1], ParseBudgetExceeded) and results[1].reason == "parse_timeout"
    assert isinstance(results[3], ParseBudgetExceeded) and results[3].reason == "parse_memory"
    values = [r[0] for r in results if isinstance(r, tuple)]
    assert values == [2, 4, *[2 * (10 + i) for i in range(6)]]  # every other document parsed, in order
    pids = [r[1] for r in results if isinstance(r, tuple)]
    assert len(set(pids)) >= 3  # killed (timeout), exited (memory) and recycled (every 3 documents)
    assert elapsed < 30


@pytest.mark.slow
def test_a_crawl_records_budget_failures_and_archives_the_rest(tmp_path: Path) -> None:
    routes: dict[str, Any] = {}
    rows = []
    names = ["a", "hog-loop", "b", "hog-memory", "c", "d"]
    for i, name in enumerate(names):
        routes[f"/{name}.html"] = report_page(2019 + i, n=i)
        rows.append(link(f"/{name}.html", f"{2019 + i}年政府信息公开工作年度报告"))
    routes["/list.html"] = Page(body=html("年报", f"<ul>{''.join(rows)}</ul>"))
    server = FaultServer(routes).start()
    db = tmp_path / "a.db"
    try:
        crawl({"db": str(db), "urls": [f"http://127.0.0.1:{server.port}/list.html"], "allow_private": True,
               "settings": {"OGI_PARSE_FUNC": "tests.crawler.test_parse_budget.hog_parse", "OGI_PARSE_WORKERS": 1,
                            "OGI_PARSE_SECONDS": 3, "OGI_PARSE_MEMORY_MB": 300}}, timeout=120)
    finally:
        server.stop()
    con = sqlite3.connect(db)
    failures = dict(con.execute("SELECT url, reason FROM failures").fetchall())
    archived = {u for (u,) in con.execute("SELECT url FROM fetches")}
    statuses = [s for (s,) in con.execute("SELECT status FROM run_sources")]
    con.close()
    base = f"http://127.0.0.1:{server.port}"
    assert failures.get(f"{base}/hog-loop.html") == "parse_timeout"
    assert failures.get(f"{base}/hog-memory.html") == "parse_memory"
    assert {f"{base}/{n}.html" for n in names} <= archived  # every item archived; two recorded with a reason
    assert statuses and statuses[0] != "failed"
