"""Downloader middlewares: safety, loopback host mapping, Retry-After/back-off, conditional requests.

Settings are read once in ``from_crawler``.

* ``SafetyMiddleware``: refuses loopback/private/link-local/metadata addresses (``OGI_ALLOW_PRIVATE`` lifts
  it) and off-site URLs, including redirect targets. The refusal reaches the spider's errback as
  :class:`RefusedRequest` with a ``reason`` (``unsafe/loopback``, ``offsite``, …).
* ``HostMapMiddleware``: ``OGI_HOST_MAP = {"fixture.test": "127.0.0.1:8765"}`` sends requests for
  ``*.fixture.test`` through that loopback server as an HTTP proxy, so URLs keep their real shape.
* ``RetryAfterMiddleware``: Scrapy's RetryMiddleware, plus a wait: ``Retry-After`` when the server sends it
  (up to ``OGI_RETRY_AFTER_MAX``), else ``OGI_RETRY_BACKOFF * 2**n``.
* ``RobotsMiddleware``: Scrapy's RobotsTxtMiddleware, except that a robots.txt answered with 401/403 refuses
  the whole host (Scrapy would read the error page as "allow all"): every request there fails with
  ``robots/403``. A URL disallowed by the rules fails with ``robots``.
* ``ConditionalRequestMiddleware``: ``If-None-Match``/``If-Modified-Since`` from the archive's last fetch of
  the URL, only when that copy was fully processed (so an interrupted crawl re-parses what it had not).
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafetyMiddleware:
        return cls(crawler)

    def _refuse(self, request: Request, reason: str, message: str) -> None:
        self.crawler.stats.inc_value(f"ogi/refused/{reason}")
        logger.info("refused %s: %s", request.url, message)
        raise RefusedRequest(reason, message)

    async def process_request(self, request: Request) -> None:
        site = request.meta.get("ogi_site")
        if site and not same_site(request.url, site):
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
            self._refuse(request, f"unsafe/{kind}", str(exc))


class HostMapMiddleware:
    def __init__(self, host_map: dict[str, str]) -> None:
        self.host_map = host_map

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostMapMiddleware:
        host_map = dict(crawler.settings.getdict("OGI_HOST_MAP"))
        if not host_map:
            raise NotConfigured("OGI_HOST_MAP is empty")
        return cls(host_map)

    def process_request(self, request: Request) -> None:
        target = mapped_proxy(urlsplit(request.url).hostname or "", self.host_map)
        if target is not None:
            request.meta["proxy"] = f"http://{target}"


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


class ConditionalRequestMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("ogi_conditional") or "ogi_prev" in request.meta:
            return
        from crawler.pipelines import ArchiveGateway

        gateway = ArchiveGateway.for_crawler(self.crawler)
        prev = gateway.last_fetch(request.url)
        if not prev or not prev.get("sha256") or not gateway.processed(prev["sha256"]):
            request.meta["ogi_prev"] = None
            return
        request.meta["ogi_prev"] = prev
        if prev.get("etag"):
            request.headers[b"If-None-Match"] = prev["etag"]
        if prev.get("last_modified"):
            request.headers[b"If-Modified-Since"] = prev["last_modified"]
        self.crawler.stats.inc_value("ogi/conditional")
