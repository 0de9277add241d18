"""Guangdong gkmlpt (政府信息公开目录管理平台): a JS shell backed by a JSON API.

``/gkmlpt/index`` holds ``window._CONFIG = {SID: '…', TREE: [...]}``; the report categories are read from the
TREE, then ``GET /gkmlpt/api/all/<cat>?page=N&sid=<SID>`` returns ``{"total", "articles": [...]}``. Pages are
computed from ``total`` on every answer (it can grow mid-crawl). A BOM is tolerated; an HTML error page served
with 200 instead of JSON is a recorded failure.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.items import FailureItem
from crawler.spiders import titles
from crawler.spiders.families.base import ReportSpider
from crawler.spiders.families.caps import setting_int

SID = re.compile(r"SID\s*['\"]?\s*:\s*['\"]?(\d+)")
TREE_ITEM = re.compile(
    r"['\"]?id['\"]?\s*:\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?name['\"]?\s*:\s*['\"]([^'\"]+)['\"]"
)
API_PATH = re.compile(r"/api/all/(\d+)")
SHELL_PREFIX = re.compile(r"^(.*?/gkmlpt/)")
HASH_CATEGORY = re.compile(r"#\D{0,20}?(\d+)")
COLUMN_NAME = re.compile(r"年报|年度报告|工作报表")
MAX_PAGES = 200  # default of the OGI_GKMLPT_MAX_PAGES setting: API pages read per category


def gkmlpt_config(text: str) -> tuple[str | None, list[tuple[str, str]]]:
    """(SID, [(category id, name), …]) from a gkmlpt shell page."""
    sid = SID.search(text)
    return (sid.group(1) if sid else None), TREE_ITEM.findall(text)


def report_categories(tree: list[tuple[str, str]]) -> list[str]:
    """Category ids whose names are annual-report columns (all of them when none is named so)."""
    named = [cid for cid, name in tree if COLUMN_NAME.search(name) and titles.reject_reason(name) != "confusable"]
    return named or [cid for cid, _ in tree]


def load_json(body: bytes) -> Any:
    """JSON from bytes, tolerating a UTF-8 BOM. Raises ValueError when it is not JSON."""
    return json.loads(body.decode("utf-8-sig"))


def detect(response: Response) -> bool:
    """True for a gkmlpt shell page (``window._CONFIG`` with a SID, under any path) or an API answer (JSON
    with ``articles``); never by the URL path alone."""
    if not isinstance(response, TextResponse):
        return False
    text = response.text
    if "window._CONFIG" in text and SID.search(text):
        return True
    head = text.lstrip("\ufeff \r\n\t")[:1]
    return head == "{" and '"articles"' in text[:200_000] and bool(API_PATH.search(response.url))


def api_base(url: str) -> str:
    """Given a shell or API URL, return the URL the ``api/all/<cat>`` paths hang from: ``…/gkmlpt/`` under any
    prefix (``/zwgk/gkmlpt/index`` -> ``/zwgk/gkmlpt/``), else the page's directory."""
    parts = urlsplit(url)
    path = parts.path
    if m := re.match(r"^(.*/)api/all/\d+", path):
        base = m.group(1)
    elif m := SHELL_PREFIX.match(path):
        base = m.group(1)
    else:
        base = path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc}{base}"


def hash_category(*urls: str | None) -> str | None:
    """The category id chosen by a URL hash (``…/gkmlpt/index#3011``), from the first URL that has one."""
    for url in urls:
        if url and "#" in url and (m := HASH_CATEGORY.search(url[url.index("#"):])):
            return m.group(1)
    return None


class GkmlptSpider(ReportSpider):
    """Family base for gkmlpt catalogues."""

    name = "gkmlpt"
    family = "gkmlpt"

    @cached_property
    def gkmlpt_max_pages(self) -> int:
        """The ``OGI_GKMLPT_MAX_PAGES`` setting (default :data:`MAX_PAGES`), read once per spider."""
        return setting_int(self, "OGI_GKMLPT_MAX_PAGES", MAX_PAGES)

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Given a list page, yield its report-link and next-page requests and what it lists.

        @sample_page
        @returns requests 1
        """
        return self.gkmlpt_parse_list(response, ctx)

    def gkmlpt_api_url(self, base: str, cat: str, page: int, sid: str) -> str:
        """Returns the API URL of one category page, beside the shell (any path prefix)."""
        return urljoin(api_base(base), f"api/all/{cat}?page={page}&sid={sid}")

    def gkmlpt_parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """The shell page: read SID and the report categories, then ask the API for page 1 of each."""
        ctx = {**ctx, "family": "gkmlpt"}
        if API_PATH.search(response.url):
            yield from self.gkmlpt_parse_api(response, ctx)
            return
        sid, tree = gkmlpt_config(response.text if isinstance(response, TextResponse) else "")
        if not sid:
            yield FailureItem(url=response.url, reason="partial/no-config", source=ctx["source"], kind="list",
                              partial=True, detail="gkmlpt page without window._CONFIG SID")
            return
        request_url = response.request.url if response.request is not None else None
        chosen = hash_category(request_url, ctx.get("site") if ctx.get("depth", 0) == 0 else None)
        categories = report_categories(tree) if tree else ([chosen] if chosen else [])
        if not categories:
            yield FailureItem(url=response.url, reason="partial/no-category", source=ctx["source"], kind="list",
                              partial=True, detail="gkmlpt shell without TREE and without a category in the URL hash")
            return
        for cat in categories:
            url = self.gkmlpt_api_url(response.url, cat, 1, sid)
            yield self.list_request(url, {**ctx, "column": url}, callback=self.gkmlpt_parse_api)

    def gkmlpt_parse_api(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """One API page: report links, plus the other pages computed from ``total``."""
        yield self.document_item(response, ctx, kind="list")
        self.crawler.stats.inc_value(f"ogi/pages/{ctx['source']}")
        try:
            data = load_json(response.body)
            articles = data.get("articles") or []
            total = int(data.get("total") or 0)
        except (ValueError, AttributeError, TypeError) as exc:
            looks_html = response.body.lstrip()[:1] == b"<"
            reason = "error-page-200" if looks_html else "bad-json"
            self.crawler.stats.inc_value(f"ogi/failure/{reason}")
            yield FailureItem(url=response.url, reason=reason, source=ctx["source"], kind="list", partial=True,
                              detail=f"API answer is not JSON: {exc}"[:300])
            return
        rows = []
        for art in articles:
            if not isinstance(art, dict):
                continue
            url = art.get("url") or art.get("post_url")
            if isinstance(url, str) and url:
                rows.append(urljoin(response.url, url))
            stamp = art.get("display_publish_time") or art.get("create_time")
            date = None
            if isinstance(stamp, int | float) and stamp > 0:
                date = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
            yield from self.follow_report_link(response.url, url, art.get("title"), None, ctx, date=date,
                                               candidate=True)
        yield self.listing(response, ctx, mechanism="gkmlpt/api", declared=total if total or not articles else None,
                           rows=rows)
        query = parse_qs(urlsplit(response.url).query)
        sid = (query.get("sid") or [""])[0]
        page = int((query.get("page") or ["1"])[0] or 1)
        m = API_PATH.search(response.url)
        per_page = int(ctx.get("gk_per_page") or len(articles) or 10)
        if m and articles and total:
            declared_pages = math.ceil(total / per_page)
            cap = self.gkmlpt_max_pages
            pages = min(declared_pages, cap)
            page_ctx = {**ctx, "gk_per_page": per_page}
            for n in range(max(page, 1) + 1, pages + 1):  # from every answer: the total can grow mid-crawl
                yield self.list_request(self.gkmlpt_api_url(response.url, m.group(1), n, sid), page_ctx,
                                        callback=self.gkmlpt_parse_api)
            if page == 1 and declared_pages > cap:
                yield self.link_decision(self.gkmlpt_api_url(response.url, m.group(1), cap + 1, sid),
                                         "page-limit", ctx, list_url=response.url,
                                         detail=f"{declared_pages - cap} pages beyond the limit {cap}"
                                                " (OGI_GKMLPT_MAX_PAGES)")


family = "gkmlpt"
SPIDER_CLASS = "GkmlptSpider"  # a name, not the class: Scrapy's loader would list the class twice
gkmlpt_parse_list = GkmlptSpider.gkmlpt_parse_list
