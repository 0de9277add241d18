"""Scrapy's cookie jar without a network fetch: the Public Suffix List from tldextract's bundled snapshot.

Scrapy's ``CookiesMiddleware`` decides whether a cookie's domain is a public suffix through a module-level
``tldextract.TLDExtract(include_psl_private_domains=True)`` built at import. On first use that extractor
downloads the Public Suffix List (publicsuffix.org, then GitHub) into a per-venv cache, so every fresh
install makes two unasked-for HTTPS requests outside the crawl targets, and prints a traceback for each
when the machine is offline. :class:`OfflineCookiesMiddleware` (enabled in ``crawler.settings`` in place of
Scrapy's) is Scrapy's middleware unchanged, except that when a crawler builds it, that module-level
extractor is replaced once by one with ``suffix_list_urls=()`` (no fetch) and ``cache_dir=None`` (no cache
file written): tldextract then answers from the snapshot shipped in its wheel.

Why a subclass rather than patching at import: the replacement happens exactly when (and only if) cookies
are enabled for a crawl, through Scrapy's own component mechanism (``DOWNLOADER_MIDDLEWARES``), and it also
covers ``scrapy crawl`` / ``scrapy check`` started without the ``ogi`` CLI.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from tldextract import TLDExtract

__all__ = ["OFFLINE_EXTRACT", "OfflineCookiesMiddleware", "use_offline_suffix_list"]

# the bundled snapshot only: no download, no cache file
OFFLINE_EXTRACT = TLDExtract(include_psl_private_domains=True, suffix_list_urls=(), cache_dir=None)


def use_offline_suffix_list() -> None:
    """Given Scrapy's cookies module, make its public-suffix test use :data:`OFFLINE_EXTRACT` (idempotent)."""
    scrapy_cookies._split_domain = OFFLINE_EXTRACT  # type: ignore[attr-defined]


class OfflineCookiesMiddleware(CookiesMiddleware):
    """Scrapy's CookiesMiddleware, with the Public Suffix List from tldextract's snapshot (no network)."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        """Given a crawler, return the middleware (NotConfigured when cookies are off), after switching the
        suffix list to the bundled snapshot."""
        use_offline_suffix_list()
        return super().from_crawler(crawler)
