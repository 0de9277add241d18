"""Crawl-process hygiene: ``gc.freeze`` once the crawl is open, then every second a commit tick and a collection.

Responses and their parsed trees sit in reference cycles; left to the generational GC, a fast crawl's RSS
doubles. The imported modules never die, so they are frozen out of the collections. The same tick commits
saved work that waited longer than ``OGI_COMMIT_SECONDS`` (a slow crawl must not keep it uncommitted).
Time spent collecting is the ``ogi/time/gc`` stat.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.gateway import ArchiveGateway

__all__ = ["MemoryHygiene"]


class MemoryHygiene:
    """Given a crawler, freeze the heap at spider open and tick (commit + collect) until it closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interval = max(min(crawler.settings.getfloat("OGI_COMMIT_SECONDS", 2.0), 1.0), 0.1)
        self.ticker: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryHygiene:
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Any = None) -> None:
        from twisted.internet import task

        gc.freeze()
        self.ticker = task.LoopingCall(self.tick)
        self.ticker.start(self.interval, now=False)

    def tick(self) -> None:
        """Commit stale saved work, then collect garbage cycles."""
        gateway = ArchiveGateway.existing(self.crawler)
        if gateway is not None:
            gateway.commit_if_stale()
        t0 = time.perf_counter()
        gc.collect()
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("ogi/time/gc", time.perf_counter() - t0)  # type: ignore[arg-type]  # seconds

    def closed(self, spider: Any = None, reason: str = "") -> None:
        self.stop()

    def stop(self) -> None:
        """Stop ticking (before the archive closes)."""
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
