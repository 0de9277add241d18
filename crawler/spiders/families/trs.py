"""TRS WCM static publishing: ``index.html``, ``index_1.html`` … with the page count in an inline script.

Both pager variants are read from the page, never assumed: ``createPageHTML(total, cur, "index", "html")`` is
0-based (page 2 = ``index_1``), ``createPageHTML('paging', total, cur, 'index', 'shtml', n)`` is 1-based (page
2 = ``index_2``); ``var countPage = N`` (0-based) and ``共N页`` are fallbacks. A declared page that 404s or is a
stub ends that column as ``partial`` (recorded by the base spider).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.spiders.families.base import ReportSpider, anchor_rows, page_hub
from crawler.spiders.families.caps import setting_int

PAGER_0 = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")
PAGER_1 = re.compile(
    r"createPageHTML\(\s*[\"'][\w-]+[\"']\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']"
)
COUNT_PAGE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页")
TRS_DOC = re.compile(r"(?:^|/)t\d{8}_\d+\.s?html?$|(?:^|/)P0\d{8}\w*\.\w+$")  # ./YYYYMM/tYYYYMMDD_id.html, P0… files
INDEX_URL = re.compile(r"/(?P<prefix>index)(?:_\d+)?\.(?P<ext>s?html?)$")
MAX_PAGES = 500  # default of the OGI_TRS_MAX_PAGES setting: list pages read per TRS column


def trs_page_urls(text: str, url: str) -> list[str]:
    """Every list page URL that the TRS pager script on this page declares (page 1 included; at most
    :data:`MAX_PAGES`)."""
    return trs_pages(text, url)[0][:MAX_PAGES]


def trs_pages(text: str, url: str) -> tuple[list[str], int | None]:
    """(every declared list page URL, the declared page count) of a TRS pager script; ([], None) without."""
    base: int
    if m := PAGER_1.search(text):
        total, prefix, ext, base = int(m.group(1)), m.group(3), m.group(4), 1
    elif m := PAGER_0.search(text):
        total, prefix, ext, base = int(m.group(1)), m.group(3), m.group(4), 0
    else:
        m2 = COUNT_PAGE.search(text) or TOTAL_PAGES.search(text)
        path_m = INDEX_URL.search(urlsplit(url).path)
        if not m2:
            return [], None
        total, base = int(m2.group(1)), 0
        prefix, ext = (path_m.group("prefix"), path_m.group("ext")) if path_m else ("index", "html")
    urls = [urljoin(url, f"{prefix}.{ext}")]
    first_suffix = 1 if base == 0 else 2
    urls.extend(urljoin(url, f"{prefix}_{n}.{ext}") for n in range(first_suffix, first_suffix + max(total, 1) - 1))
    return urls, total


def detect(response: Response) -> bool:
    """True when a list page carries a TRS pager script."""
    if not isinstance(response, TextResponse):
        return False
    text = response.text
    return bool(PAGER_0.search(text) or PAGER_1.search(text) or COUNT_PAGE.search(text))


class TrsStaticSpider(ReportSpider):
    """Family base for TRS static columns (ministries, many provinces and cities)."""

    name = "trs"
    family = "trs"

    @cached_property
    def trs_max_pages(self) -> int:
        """The ``OGI_TRS_MAX_PAGES`` setting (default :data:`MAX_PAGES`), read once per spider."""
        return setting_int(self, "OGI_TRS_MAX_PAGES", MAX_PAGES)

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Given a list page, yield its report-link and next-page requests and what it lists.

        @sample_page
        @returns requests 1
        @returns items 1
        """
        return self.trs_parse_list(response, ctx)

    def trs_parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Report links of one TRS list page plus requests for the other declared pages."""
        ctx = {**ctx, "family": "trs", "column": ctx.get("column") or response.url}
        hub = page_hub(response)
        rows = []
        for href, text, title, date in anchor_rows(response):
            url = urljoin(response.url, (href or "").strip())
            is_row = bool(href) and bool(TRS_DOC.search(urlsplit(url).path))
            if is_row:
                rows.append(url)
            yield from self.follow_report_link(response.url, href, text, title, ctx, date=date, hub=hub,
                                               candidate=True if is_row else None)
        urls, declared_pages = trs_pages(response.text, response.url)
        yield self.listing(response, ctx, mechanism="trs/pager", declared_pages=declared_pages, rows=rows)
        cap = self.trs_max_pages
        for url in urls[:cap]:
            if url != response.url:
                yield self.list_request(url, ctx, callback=self.parse)
        if len(urls) > cap:
            yield self.link_decision(urls[cap], "page-limit", ctx, list_url=response.url,
                                     detail=f"{len(urls) - cap} declared pages beyond the limit {cap}"
                                            " (OGI_TRS_MAX_PAGES)")


family = "trs"
SPIDER_CLASS = "TrsStaticSpider"  # a name, not the class: Scrapy's loader would list the class twice
trs_parse_list = TrsStaticSpider.trs_parse_list
