"""Plain lists: report links in the HTML, pagination by "下一页" links or ``page=N`` with "共N页".

Also the fallback for any page no other family recognises (hubs, ASP.NET ``InfoPublic.aspx`` lists, …).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import Response

from crawler.spiders import titles
from crawler.spiders.families.base import ReportSpider, anchor_rows, looks_like_item, page_hub
from crawler.spiders.families.caps import setting_int

NEXT_TEXT = re.compile(r"^(?:下一页|下页|后一页|next|Next|›|»|>)$")
TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页")
TOTAL_ITEMS = re.compile(r"共\s*(\d+)\s*(?:条|篇|项|个)(?:记录|信息|数据)?")
PAGE_PARAMS = ("page", "pageIndex", "pageNo", "currPage", "currpage", "cur_page", "pageNum")
MAX_PAGES = 200  # default of the OGI_GENERIC_MAX_PAGES setting: list pages read per column


def with_page(url: str, param: str, n: int) -> str:
    parts = urlsplit(url)
    query = [(k, (str(n) if k == param else v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def generic_page_urls(response: Response, max_pages: int = MAX_PAGES) -> list[str]:
    """Next-list-page URLs: "下一页"/"尾页" links, and ``page=N`` URLs up to "共N页" (at most ``max_pages``)."""
    urls: list[str] = []
    for a in response.css("a[href]"):
        text = "".join(a.css("::text").getall()).strip()
        href = a.attrib.get("href", "")
        if NEXT_TEXT.match(text) and not href.lower().startswith("javascript"):
            urls.append(urljoin(response.url, href))
    m = TOTAL_PAGES.search(response.text)
    if m:
        params = dict(parse_qsl(urlsplit(response.url).query, keep_blank_values=True))
        param = next((p for p in PAGE_PARAMS if p in params), None)
        if param:
            urls.extend(with_page(response.url, param, n) for n in range(1, min(int(m.group(1)), max_pages) + 1))
    return [u for u in dict.fromkeys(urls) if u != response.url]


def detect(response: Response) -> bool:
    """True for any page: the fallback family (plain HTML lists with next-links), detected last."""
    return True


class GenericListSpider(ReportSpider):
    """Family base for plain HTML lists with next-links."""

    name = "generic"
    family = "generic"

    @cached_property
    def generic_max_pages(self) -> int:
        """The ``OGI_GENERIC_MAX_PAGES`` setting (default :data:`MAX_PAGES`), read once per spider."""
        return setting_int(self, "OGI_GENERIC_MAX_PAGES", MAX_PAGES)

    @cached_property
    def generic_list_urls(self) -> dict[str, set[str]]:
        """List page URLs requested so far, per column (a 下一页 chain or a pager without end stops at the cap,
        and the first page not requested is a ``page-limit`` record)."""
        return {}

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Given a list page, yield its report-link and next-page requests and what it lists.

        @sample_page
        @returns requests 1
        @returns items 1
        """
        return self.generic_parse_list(response, ctx)

    def generic_parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Report links on a plain list page and its next pages."""
        ctx = {**ctx, "family": ctx.get("family") or "generic", "column": ctx.get("column") or response.url}
        hub = page_hub(response)
        rows = []
        for href, text, title, date in anchor_rows(response):
            if href and looks_like_item(titles.full_title(text, title)) and not href.lower().startswith("javascript"):
                rows.append(urljoin(response.url, href.strip()))
            yield from self.follow_report_link(response.url, href, text, title, ctx, date=date, hub=hub)
        items, pages = TOTAL_ITEMS.search(response.text), TOTAL_PAGES.search(response.text)
        yield self.listing(response, ctx, mechanism="generic", declared=int(items.group(1)) if items else None,
                           declared_pages=int(pages.group(1)) if pages else None, rows=rows)
        cap = self.generic_max_pages
        asked = self.generic_list_urls.setdefault(str(ctx["column"]), {response.url})
        for url in generic_page_urls(response, cap + 1):  # one beyond the cap: a page not read is recorded
            if url in asked:
                continue
            if len(asked) >= cap:
                yield self.link_decision(url, "page-limit", ctx, list_url=response.url,
                                         detail=f"not requested: this column's list pages reach the limit {cap}"
                                                " (OGI_GENERIC_MAX_PAGES)")
                continue
            asked.add(url)
            yield self.list_request(url, ctx, callback=self.parse)


family = "generic"
SPIDER_CLASS = "GenericListSpider"  # a name, not the class: Scrapy's loader would list the class twice
generic_parse_list = GenericListSpider.generic_parse_list
