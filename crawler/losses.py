"""Crawl faults recorded, not silent: requests Scrapy drops, depth caps, error pages served as list pages.

* :class:`LossRecorder` (an extension, ``EXTENSIONS``) handles Scrapy's ``request_dropped`` signal: a redirect hop
  the duplicate filter drops is a redirect loop when its URL is already in its own chain (``redirect-loop``, a
  loss: the source is ``partial``) and else a ``redirect-duplicate`` record (the target was requested from
  another link); a dropped article or attachment request is ``dropped``. A dropped list page that was simply
  linked twice (pagers link page 1 from every page) is only counted (``ogi/dropped/list``).
* :class:`LossMiddleware` (a spider middleware, ``SPIDER_MIDDLEWARES``, outside Scrapy's DepthMiddleware) turns
  a request beyond ``DEPTH_LIMIT`` — the rest of a long 下一页 chain, an endless pager — into a ``depth-limit``
  loss instead of Scrapy's silent drop, and recognises a list page that lists nothing where an earlier page of
  its column listed rows (a 200-status error page served as page 2: ``error-page`` when its title or text says
  so, else ``empty-page``), a list failure: the source is ``partial``.

Every loss reaches the pipeline as a :class:`~crawler.items.FailureItem` with ``partial=True`` (a ``failures``
row with the reason; the pipeline's per-source counters make the source and the run not ``ok``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response, TextResponse

from crawler.items import FailureItem, ListingItem

__all__ = ["ERRORISH", "LossMiddleware", "LossRecorder"]

logger = logging.getLogger(__name__)

ERRORISH = re.compile(r"错误|出错|异常|繁忙|维护|不存在|无法访问|访问受限|error|exception|unavailable|not found|"
                      r"\b50\d\b|\b40\d\b", re.I)


def _source(request: Request) -> str:
    ctx = request.cb_kwargs.get("ctx") or {}
    return str(request.meta.get("ogi_source") or ctx.get("source") or "?")


def _pipeline(crawler: Crawler) -> Any:
    """The crawl's ArchivePipeline (None before the engine runs or without one)."""
    engine = getattr(crawler, "engine", None)
    itemproc = getattr(getattr(engine, "scraper", None), "itemproc", None)
    for mw in getattr(itemproc, "middlewares", ()) or ():
        if hasattr(mw, "_failure") and hasattr(mw, "counts"):
            return mw
    return None


class LossRecorder:
    """Given a crawler, record every request Scrapy drops that loses or hides an item."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LossRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        return ext

    def record(self, item: FailureItem) -> None:
        """Hand one loss to the pipeline (a ``failures`` row; the source's counters)."""
        self.crawler.stats.inc_value(f"ogi/losses/{item['reason']}")
        pipeline = _pipeline(self.crawler)
        if pipeline is None or getattr(pipeline, "gateway", None) is None:
            logger.warning("lost %s (%s) with no pipeline to record it", item["url"], item["reason"])
            return
        pipeline._failure(item)

    def request_dropped(self, request: Request, spider: Any = None) -> None:
        """Scrapy's scheduler refused ``request`` (the duplicate filter): record what that loses."""
        kind = str(request.meta.get("ogi_kind") or "article")
        chain = [str(u) for u in request.meta.get("redirect_urls") or []]
        source = _source(request)
        if chain:
            loop = request.url in chain
            reason = "redirect-loop" if loop else "redirect-duplicate"
            detail = " -> ".join([*chain, request.url])[:500]
            self.record(FailureItem(url=chain[0], reason=reason, source=source, detail=detail,
                                    kind="list" if kind == "list" and loop else kind, partial=loop))
            return
        if kind == "list":
            self.crawler.stats.inc_value("ogi/dropped/list")
            return
        self.record(FailureItem(url=request.url, reason="dropped", source=source, kind=kind, partial=True,
                                detail="dropped by the scheduler's duplicate filter"))


class LossMiddleware:
    """Spider middleware: depth-capped requests and error pages in a column become recorded losses."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_depth = crawler.settings.getint("DEPTH_LIMIT", 0)
        self.column_rows: dict[str, int] = {}  # column -> rows listed so far

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LossMiddleware:
        return cls(crawler)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for out in result:
            for o in self.judge(response, out):
                yield o

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        for out in result:
            yield from self.judge(response, out)

    def judge(self, response: Response, out: Any) -> Iterator[Any]:
        """Given one output of the spider for ``response``, return it, or its recorded loss instead."""
        if isinstance(out, Request) and self.max_depth and not out.meta.get("ogi_start"):
            depth = int(response.meta.get("depth", 0)) + 1
            if depth > self.max_depth:
                self.crawler.stats.inc_value("ogi/losses/depth-limit")
                kind = str(out.meta.get("ogi_kind") or "article")
                yield FailureItem(url=out.url, reason="depth-limit", source=_source(out), kind=kind, partial=True,
                                  detail=f"not requested: depth {depth} > DEPTH_LIMIT {self.max_depth}")
                return
        if isinstance(out, ListingItem):
            loss = self.empty_page(response, out)
            if loss is not None:
                yield loss
        yield out

    def empty_page(self, response: Response, listing: ListingItem) -> FailureItem | None:
        """A FailureItem when a later page of a column lists nothing although earlier pages listed rows."""
        column = str(listing.get("column") or "")
        rows = listing.get("rows")
        if rows is None or not column:
            return None
        before = self.column_rows.get(column, 0)
        self.column_rows[column] = before + len(rows)
        if rows or not before or response.meta.get("ogi_not_modified"):
            return None
        title = ""
        if isinstance(response, TextResponse):
            title = (response.css("title::text").get() or "") + " " + " ".join(response.css("h1::text, h2::text").getall())
        reason = "error-page" if ERRORISH.search(title) else "empty-page"
        self.crawler.stats.inc_value(f"ogi/losses/{reason}")
        return FailureItem(url=response.url, reason=reason, source=str(listing.get("source") or "?"), kind="list",
                           partial=True, detail=f"list page of {column} lists 0 items after {before} ({title.strip()[:80]})")
