"""Downloader middlewares (safety, loopback host mapping, Retry-After/back-off, conditional requests and
their 304 replay) and the crawl-mode spider middleware.

Settings are read once in ``from_crawler``.

* ``SafetyMiddleware``: refuses loopback/private/link-local/metadata addresses (``OGI_ALLOW_PRIVATE`` lifts
  it) and off-site URLs, including redirect targets. The refusal reaches the spider's errback as
  :class:`RefusedRequest` with a ``reason`` (``unsafe/loopback``, ``offsite``, …).
* ``HostMapMiddleware``: ``OGI_HOST_MAP = {"fixture.test": "127.0.0.1:8765"}`` sends requests for
  ``*.fixture.test`` through that loopback server as an HTTP proxy, so URLs keep their real shape (``https://``
  ones too: :mod:`crawler.hostmap` fetches them from the server without a CONNECT tunnel).
* ``RetryAfterMiddleware``: Scrapy's RetryMiddleware, plus a wait: ``Retry-After`` when the server sends it
  (up to ``OGI_RETRY_AFTER_MAX``), else ``OGI_RETRY_BACKOFF * 2**n``.
* ``RobotsMiddleware``: Scrapy's RobotsTxtMiddleware, except that a robots.txt answered with 401/403 refuses
  the whole host (Scrapy would read the error page as "allow all"): every request there fails with
  ``robots/403``. A URL disallowed by the rules fails with ``robots``.
* ``ConditionalRequestMiddleware``: ``If-None-Match``/``If-Modified-Since`` from the archive's last fetch of
  the URL (GET only). Documents are asked conditionally only when that copy was fully processed (so an
  interrupted crawl re-parses what it had not); list pages whenever the archive holds a copy. A 304 is
  replayed: the spider gets the archived bytes as a 200 response flagged ``ogi_not_modified`` (its links are
  followed again; the pipeline archives nothing new); an unreadable copy sends the request again
  unconditionally. A request marked ``ogi_replay_unchanged`` (the API pages of a TRS list whose static page
  just answered 304) is answered from the archived copy of its URL without being sent, when there is one.
* ``CrawlModeMiddleware`` (spider middleware, ``OGI_MODE``): ``light`` drops requests for documents the
  archive already fetched and processed (counted once per URL in ``ogi/known_items[/<source>]`` and
  ``ogi/known_reports/<source>``, which the pipeline reads); ``revisions`` replaces a source's start request by
  conditional requests for its known reports (``ogi/revisions/<source>``), or walks the source when it has
  none (``ogi/revisions/walked``).
* ``LinkLedgerMiddleware`` (spider middleware): a document link requested a second time in one run (a row
  listed on two pages, an attachment linked from two articles) is not requested again and becomes a
  ``duplicate`` LinkDecisionItem instead of being dropped silently by the dupefilter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.httpobj import urlparse_cached

from crawler.gateway import ArchiveGateway
from crawler.hostmap import MAPPED
from crawler.items import LinkDecisionItem
from crawler.modes import FOUND, crawl_mode
from crawler.safety import UnsafeURL, check_address, check_url, same_site

logger = logging.getLogger(__name__)


class RefusedRequest(IgnoreRequest):
    """A request the crawler refused to send; ``reason`` is the recorded failure reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def mapped_proxy(host: str, host_map: dict[str, str]) -> str | None:
    """The loopback ``host:port`` serving ``host`` (exact name or a parent domain), or None."""
    host = host.lower()
    for name, target in host_map.items():
        if host == name or host.endswith("." + name):
            return target
    return None


class SafetyMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("OGI_ALLOW_PRIVATE")
        self.host_map: dict[str, str] = dict(crawler.settings.getdict("OGI_HOST_MAP"))
        self.extra_sites = tuple(crawler.settings.getlist("OGI_EXTRA_SITES"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafetyMiddleware:
        return cls(crawler)

    def _refuse(self, request: Request, reason: str, message: str) -> None:
        chain = request.meta.get("redirect_urls") or []
        if chain:  # a refused redirect hop: the record names the listed URL it came from
            message = f"{message} (redirected from {chain[0]})"
        self.crawler.stats.inc_value(f"ogi/refused/{reason}")
        logger.info("refused %s: %s", request.url, message)
        raise RefusedRequest(reason, message)

    async def process_request(self, request: Request) -> None:
        site = request.meta.get("ogi_site")
        if site and not same_site(request.url, site, self.extra_sites):
            self._refuse(request, "offsite", f"{request.url} is not on the site of {site}")
        host = urlsplit(request.url).hostname or ""
        target = mapped_proxy(host, self.host_map)
        if target is not None:
            reason = check_address(target.rsplit(":", 1)[0])
            if reason and not self.allow_private:
                self._refuse(request, f"unsafe/{reason}", f"{host} is mapped to {target} ({reason})")
            return
        try:
            await asyncio.to_thread(check_url, request.url, allow_private=self.allow_private)
        except UnsafeURL as exc:
            kind = str(exc).rsplit(": ", 1)[-1].split()[0] if ": " in str(exc) else "address"
            # a name that does not resolve is not unsafe: it is a DNS failure (docs/crawler.md, reasons)
            self._refuse(request, "dns" if kind == "unresolvable" else f"unsafe/{kind}", str(exc))


class HostMapMiddleware:
    def __init__(self, host_map: dict[str, str]) -> None:
        self.host_map = host_map

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostMapMiddleware:
        host_map = dict(crawler.settings.getdict("OGI_HOST_MAP"))
        if not host_map:
            raise NotConfigured  # OGI_HOST_MAP is empty (no message: Scrapy would print a warning on every crawl)
        return cls(host_map)

    def process_request(self, request: Request) -> None:
        target = mapped_proxy(urlsplit(request.url).hostname or "", self.host_map)
        if target is not None:
            request.meta["proxy"] = f"http://{target}"
            request.meta[MAPPED] = True  # https too: crawler.hostmap fetches it from the server in plain HTTP


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(text) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("OGI_RETRY_BACKOFF", 1.0)
        self.retry_after_max = settings.getfloat("OGI_RETRY_AFTER_MAX", 120.0)
        if self.backoff < 0:
            raise NotConfigured(f"OGI_RETRY_BACKOFF ({self.backoff!r}) must be >= 0")

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retries = request.meta.get("retry_times", 0)
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.retry_after_max:
            logger.info("giving up on %s: Retry-After %.0fs", request.url, wait)
            return response
        if wait is None:
            wait = self.backoff * (2**retries)
        if wait > 0 and retries < self.max_retry_times:
            await asyncio.sleep(wait)
        reason = f"{response.status}"
        return self._retry(request, reason) or response


class RobotsMiddleware(RobotsTxtMiddleware):
    REFUSING_STATUSES = (401, 403)
    DENY_ALL = b"User-agent: *\nDisallow: /\n"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.refused: dict[str, int] = {}  # netloc -> status of its robots.txt

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:  # type: ignore[override]
        if response.status in self.REFUSING_STATUSES:
            self.refused[netloc] = response.status
            logger.info("robots.txt of %s answered %d: fetching nothing there", netloc, response.status)
            response = response.replace(body=self.DENY_ALL)
        await super()._parse_robots(response, netloc, request)

    def process_request_2(self, rp: Any, request: Request) -> None:
        status = self.refused.get(urlparse_cached(request).netloc)
        if status is not None:
            self._stats.inc_value(f"ogi/refused/robots/{status}")
            raise RefusedRequest(f"robots/{status}", f"robots.txt answered {status}: the host refuses crawlers")
        try:
            super().process_request_2(rp, request)
        except RefusedRequest:
            raise
        except IgnoreRequest as exc:
            raise RefusedRequest("robots", str(exc)) from None


CONDITIONAL_HEADERS = (b"if-none-match", b"if-modified-since")


class ConditionalRequestMiddleware:
    """Conditional GETs from the archive's last fetch, and the replay of a 304 from the archived copy."""

    def __init__(self, crawler: Crawler, gateway: Callable[[], ArchiveGateway]) -> None:
        self.crawler = crawler
        self._gateway = gateway

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler, lambda: ArchiveGateway.for_crawler(crawler))

    def process_request(self, request: Request) -> Response | None:
        if request.meta.get("ogi_replay_unchanged"):
            return self.replay_unchanged(request)
        if not request.meta.get("ogi_conditional") or "ogi_prev" in request.meta or request.method != "GET":
            return None
        gateway = self._gateway()
        prev = gateway.last_fetch(request.url)
        is_list = request.meta.get("ogi_kind") == "list"
        if not prev or not prev.get("sha256") or not (is_list or gateway.processed(prev["sha256"])):
            request.meta["ogi_prev"] = None
            return None
        request.meta["ogi_prev"] = prev
        if prev.get("etag"):
            request.headers[b"If-None-Match"] = prev["etag"]
        if prev.get("last_modified"):
            request.headers[b"If-Modified-Since"] = prev["last_modified"]
        self.crawler.stats.inc_value("ogi/conditional")
        return None

    def replay_unchanged(self, request: Request) -> Response | None:
        """The archived answer of ``request``'s URL (flagged ``ogi_not_modified``), or None to send it."""
        gateway = self._gateway()
        prev = gateway.last_fetch(request.url)
        body = gateway.read_document(prev["sha256"]) if prev and prev.get("sha256") else None
        if body is None:
            return None
        self.crawler.stats.inc_value("ogi/replayed_unchanged")
        request.meta["ogi_not_modified"] = True
        ctype = str(prev.get("content_type") or "application/json") if prev else "application/json"
        return TextResponse(request.url, status=200, body=body, request=request,
                            headers={"Content-Type": ctype, "X-OGI-Replayed": "unchanged"})

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """A 304 to a conditional request becomes the archived copy (flagged ``ogi_not_modified``), or the
        request again without conditions when that copy cannot be read."""
        prev = request.meta.get("ogi_prev") or {}
        if response.status != 304 or not prev.get("sha256"):
            return response
        body = self._gateway().read_document(prev["sha256"])
        if body is None:
            self.crawler.stats.inc_value("ogi/refetch_304")
            return unconditional(request)
        headers: dict[bytes, Any] = {k: v for k, v in response.headers.items() if k.lower() != b"content-length"}
        if b"Content-Type" not in response.headers:
            headers[b"Content-Type"] = b"text/html"
        self.crawler.stats.inc_value("ogi/replayed_304")
        request.meta["ogi_not_modified"] = True
        return HtmlResponse(response.url, status=200, headers=headers, body=body, request=request)


def unconditional(request: Request) -> Request:
    """Given a conditional request, return it again without If-None-Match/If-Modified-Since (its archived copy
    is unreadable, so a 304 tells us nothing we can use)."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in CONDITIONAL_HEADERS}
    meta = {k: v for k, v in request.meta.items() if k.startswith("ogi_") or k == "handle_httpstatus_list"}
    meta.update(ogi_conditional=False, ogi_prev=None)
    return request.replace(headers=headers, meta=meta, dont_filter=True)


class CrawlModeMiddleware(BaseSpiderMiddleware):
    """What the crawl mode requests: light skips known documents, revisions starts from the known reports."""

    def __init__(self, crawler: Crawler, gateway: Callable[[], ArchiveGateway] | None = None) -> None:
        super().__init__(crawler)
        self.mode = crawl_mode(crawler.settings)
        self._gateway = gateway or (lambda: ArchiveGateway.for_crawler(crawler))
        self._known_seen: set[str] = set()  # light mode: known links already counted (rows listed twice)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlModeMiddleware:
        return cls(crawler, lambda: ArchiveGateway.for_crawler(crawler))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for o in start:
            for out in self.start_outputs(o):
                yield out

    def process_start_requests(self, start: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        """The synchronous form of :meth:`process_start` (unit tests; Scrapy < 2.13)."""
        for o in start:
            yield from self.start_outputs(o)

    def start_outputs(self, o: Any) -> Iterator[Any]:
        """Given one start request, return what is requested instead in this mode."""
        if self.mode != "revisions" or not isinstance(o, Request) or not o.meta.get("ogi_start"):
            yield o
            return
        ctx = o.cb_kwargs.get("ctx") or {}
        source = str(ctx.get("source") or o.meta.get("ogi_source") or "?")
        known = self._gateway().known_documents(source)
        stats = self.crawler.stats
        if not known:
            logger.info("revisions: %s has no known report; walking its list pages", source)
            stats.inc_value("ogi/revisions/walked")
            yield o
            return
        logger.info("revisions: re-checking %d known reports of %s", len(known), source)
        stats.set_value(f"ogi/revisions/{source}", len(known))
        spider: Any = self.crawler.spider  # a ReportSpider (the only spiders this project runs)
        for url, kind, hints in known:
            yield spider.revision_request(url, kind, hints, ctx)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        """Light mode: None (dropped) for an article/attachment the archive already fetched and processed."""
        if self.mode != "light" or request.meta.get("ogi_kind") not in ("article", "attachment"):
            return request
        fetched, status = self._gateway().known_status(request.url)
        if not fetched or status is None or status == "list":  # new, unfinished, or a list page: request it
            return request
        if request.url not in self._known_seen:
            self._known_seen.add(request.url)
            stats, source = self.crawler.stats, request.meta.get("ogi_source") or "?"
            stats.inc_value("ogi/known_items")
            stats.inc_value(f"ogi/known_items/{source}")
            if status in FOUND:
                stats.inc_value(f"ogi/known_reports/{source}")
        return None


class LinkLedgerMiddleware(BaseSpiderMiddleware):
    """Document links are requested once per run; a repeat is a recorded ``duplicate`` decision."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: dict[str, str] = {}  # url -> the list page or article it was first found on

    def get_processed_request(self, request: Request, response: Response | None) -> Any:
        if request.meta.get("ogi_kind") not in ("article", "attachment") or request.dont_filter:
            return request
        url = request.url.split("#", 1)[0]
        ctx = request.cb_kwargs.get("ctx") or {}
        here = ctx.get("referer") or ctx.get("list_url") or (response.url if response is not None else "")
        if url not in self.seen:
            self.seen[url] = here
            return request
        first = self.seen[url]
        self.crawler.stats.inc_value("ogi/decision/duplicate")
        return LinkDecisionItem(source=request.meta.get("ogi_source") or ctx.get("source") or "?", url=url,
                                reason="duplicate", title=ctx.get("title"), list_url=here or None,
                                detail=f"already requested from {first}" if first else "already requested")
