from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from crawler.spiders.auto import AutoSpider
from ogi.demo.portal import Portal, PortalServer

ROOT = Path(__file__).resolve().parents[2]


def make_spider(url: str = "http://ministry.fixture.test/zfxxgk/zfxxgknb/index.html") -> AutoSpider:
    crawler = get_crawler(AutoSpider, {"OGI_EXTRA_SITES": ["fixture.test"]})
    crawler._apply_settings()
    spider = AutoSpider.from_crawler(crawler, url=url, source="t")
    crawler.spider = spider
    if getattr(crawler, "stats", None) is None:
        from scrapy.statscollectors import MemoryStatsCollector

        crawler.stats = MemoryStatsCollector(crawler)
    return spider


def ctx_for(url: str) -> dict[str, Any]:
    return {"source": "t", "site": url, "agency": None, "region": None, "level": None, "depth": 0, "family": None}


def portal_response(portal: Portal, url: str, *, method: str = "GET", body: bytes = b"") -> TextResponse:
    """A frozen response built from what the sample portal serves for ``url``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    answer = portal.answer(method, parts.hostname or "", target, {}, body)
    request = Request(url, method=method, body=body)
    cls = HtmlResponse if "html" in answer.ctype or not answer.ctype else TextResponse
    return cls(url, status=answer.status, body=answer.body, request=request,
               headers={"Content-Type": answer.ctype or "text/html", **answer.headers})


def run_ogi(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``ogi …`` in a subprocess (Twisted's reactor cannot restart in the test process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ogi.commands.crawl", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def portal_server():
    server = PortalServer(Portal(slow_seconds=3.0)).start()
    yield server
    server.stop()


@pytest.fixture
def spider() -> AutoSpider:
    return make_spider()
