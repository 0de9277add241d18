"""TRS WCM static publishing: ``index.html``, ``index_1.html`` … with the page count in an inline script.

Both pager variants are read from the page, never assumed: ``createPageHTML(total, cur, "index", "html")`` is
0-based (page 2 = ``index_1``), ``createPageHTML('paging', total, cur, 'index', 'shtml', n)`` is 1-based (page
2 = ``index_2``); ``var countPage = N`` (0-based) and ``共N页`` are fallbacks. A declared page that 404s or is a
stub ends that column as ``partial`` (recorded by the base spider).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.spiders.families.base import ReportSpider, anchor_rows, page_hub

PAGER_0 = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")
PAGER_1 = re.compile(
    r"createPageHTML\(\s*[\"'][\w-]+[\"']\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']"
)
COUNT_PAGE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页")
INDEX_URL = re.compile(r"/(?P<prefix>index)(?:_\d+)?\.(?P<ext>s?html?)$")
MAX_PAGES = 500


def trs_page_urls(text: str, url: str) -> list[str]:
    """Every list page URL that the TRS pager script on this page declares (page 1 included)."""
    base: int
    if m := PAGER_1.search(text):
        total, prefix, ext, base = int(m.group(1)), m.group(3), m.group(4), 1
    elif m := PAGER_0.search(text):
        total, prefix, ext, base = int(m.group(1)), m.group(3), m.group(4), 0
    else:
        m2 = COUNT_PAGE.search(text) or TOTAL_PAGES.search(text)
        path_m = INDEX_URL.search(urlsplit(url).path)
        if not m2:
            return []
        total, base = int(m2.group(1)), 0
        prefix, ext = (path_m.group("prefix"), path_m.group("ext")) if path_m else ("index", "html")
    total = min(total, MAX_PAGES)
    urls = [urljoin(url, f"{prefix}.{ext}")]
    first_suffix = 1 if base == 0 else 2
    urls.extend(urljoin(url, f"{prefix}_{n}.{ext}") for n in range(first_suffix, first_suffix + total - 1))
    return urls


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

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        return self.trs_parse_list(response, ctx)

    def trs_parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Report links of one TRS list page plus requests for the other declared pages."""
        ctx = {**ctx, "family": "trs"}
        hub = page_hub(response)
        for href, text, title, date in anchor_rows(response):
            yield from self.follow_report_link(response.url, href, text, title, ctx, date=date, hub=hub)
        for url in trs_page_urls(response.text, response.url):
            if url != response.url:
                yield self.list_request(url, ctx, callback=self.parse)


family = "trs"
SPIDER = TrsStaticSpider
trs_parse_list = TrsStaticSpider.trs_parse_list
