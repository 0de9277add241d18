"""Run a crawl in this process: the Scrapy settings of an ``ogi crawl`` and the CrawlerProcess bootstrapping.

:func:`crawl_settings` turns the command's options into Scrapy settings (``OGI_DB``, ``OGI_MODE``,
``OGI_ALLOW_PRIVATE``, ``OGI_RUN_ID``, ``OGI_TRIGGER``, ``OGI_HOST_MAP``, ``OGI_EXTRA_SITES``; ``fast`` turns
throttling off for loopback portals); :func:`run_crawl` runs the AutoSpider over the sources once (Twisted's
reactor cannot restart) and returns the crawl's stats.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from crawler.sources import SourceInfo

__all__ = ["crawl_settings", "run_crawl"]

logger = logging.getLogger(__name__)

FAST: tuple[tuple[str, Any], ...] = (("AUTOTHROTTLE_ENABLED", False), ("DOWNLOAD_DELAY", 0), ("CONCURRENT_REQUESTS", 32),
        ("CONCURRENT_REQUESTS_PER_DOMAIN", 16), ("OGI_RETRY_BACKOFF", 0.1))


def crawl_settings(db: str, *, allow_private: bool, run_id: int | None, trigger: str,
                   host_map: dict[str, str] | None = None, fast: bool = False,
                   extra: dict[str, Any] | None = None, mode: str = "full") -> Any:
    """Given the crawl options, return the Scrapy Settings of the crawl (project settings + command line)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in (("OGI_DB", db), ("OGI_MODE", mode), ("OGI_ALLOW_PRIVATE", allow_private),
                       ("OGI_RUN_ID", run_id), ("OGI_TRIGGER", trigger), ("LOG_LEVEL", "WARNING")):
        settings.set(key, value, priority="cmdline")
    if host_map:
        settings.set("OGI_HOST_MAP", host_map, priority="cmdline")
        # loopback virtual hosts (demo, tests): every host under a mapped name is one site
        settings.set("OGI_EXTRA_SITES", sorted(host_map), priority="cmdline")
    if fast:  # throttling off: the loopback demo and benchmark only
        for key, value in (*FAST, ("OGI_PARSE_WORKERS", min(2, os.cpu_count() or 1))):
            settings.set(key, value, priority="cmdline")
    for key, value in (extra or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(sources: Iterable[SourceInfo], settings: Any, *,
              progress: Callable[[dict[str, Any], float], None] | None = None) -> dict[str, Any]:
    """Given sources and settings, crawl them in this process and return the stats (plus ``ogi/elapsed``).

    ``progress(stats, seconds)`` is called every 2 s while the crawl runs (the CLI's progress line)."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from twisted.internet import task

    from crawler.spiders.auto import AutoSpider

    root = logging.getLogger()
    level = root.level
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    quiet_below = level or logging.WARNING
    logging.disable(quiet_below - 1)  # Scrapy's start-up chatter (versions, settings) below the CLI's level
    try:
        process = CrawlerProcess(settings)
    finally:
        logging.disable(logging.NOTSET)
    root.setLevel(level or logging.WARNING)  # Scrapy resets the root level; keep the CLI's -v choice
    logging.getLogger("scrapy").setLevel(level or logging.WARNING)  # Scrapy's dictConfig sets it to DEBUG
    crawler = process.create_crawler(AutoSpider)
    loop: dict[str, Any] = {}
    started = time.monotonic()

    def show() -> None:
        if progress is not None and crawler.stats is not None:
            progress(crawler.stats.get_stats(), time.monotonic() - started)

    def opened(spider: Any) -> None:
        if progress is not None:
            loop["call"] = task.LoopingCall(show)
            loop["call"].start(2.0, now=False)

    def closed(spider: Any) -> None:
        if loop.get("call") and loop["call"].running:
            loop["call"].stop()

    crawler.signals.connect(opened, signal=signals.spider_opened)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    payload = json.dumps([s.to_dict() for s in sources], ensure_ascii=False)
    process.crawl(crawler, sources=payload)
    process.start()
    stats = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
    stats["ogi/elapsed"] = time.monotonic() - started
    return stats
