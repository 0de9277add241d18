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
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.items import FailureItem
from crawler.spiders import titles
from crawler.spiders.families.base import ReportSpider

SID = re.compile(r"SID\s*['\"]?\s*:\s*['\"]?(\d+)")
TREE_ITEM = re.compile(
    r"['\"]?id['\"]?\s*:\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?name['\"]?\s*:\s*['\"]([^'\"]+)['\"]"
)
API_PATH = re.compile(r"/gkmlpt/api/all/(\d+)")
COLUMN_NAME = re.compile(r"年报|年度报告|工作报表")
MAX_PAGES = 200


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
    """True for a gkmlpt shell page or API answer."""
    if "/gkmlpt/" in response.url:
        return True
    return isinstance(response, TextResponse) and "window._CONFIG" in response.text and "SID" in response.text


class GkmlptSpider(ReportSpider):
    """Family base for gkmlpt catalogues."""

    name = "gkmlpt"
    family = "gkmlpt"

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        return self.gkmlpt_parse_list(response, ctx)

    def gkmlpt_api_url(self, base: str, cat: str, page: int, sid: str) -> str:
        return urljoin(base, f"/gkmlpt/api/all/{cat}?page={page}&sid={sid}")

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
        for cat in report_categories(tree):
            yield self.list_request(self.gkmlpt_api_url(response.url, cat, 1, sid), ctx,
                                    callback=self.gkmlpt_parse_api)

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
        for art in articles:
            if not isinstance(art, dict):
                continue
            url = art.get("url") or art.get("post_url")
            stamp = art.get("display_publish_time") or art.get("create_time")
            date = None
            if isinstance(stamp, int | float) and stamp > 0:
                date = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
            yield from self.follow_report_link(response.url, url, art.get("title"), None, ctx, date=date)
        query = parse_qs(urlsplit(response.url).query)
        sid = (query.get("sid") or [""])[0]
        page = int((query.get("page") or ["1"])[0] or 1)
        m = API_PATH.search(response.url)
        per_page = int(ctx.get("gk_per_page") or len(articles) or 10)
        if m and articles and total:
            pages = min(math.ceil(total / per_page), MAX_PAGES)
            page_ctx = {**ctx, "gk_per_page": per_page}
            for n in range(max(page, 1) + 1, pages + 1):
                yield self.list_request(self.gkmlpt_api_url(response.url, m.group(1), n, sid), page_ctx,
                                        callback=self.gkmlpt_parse_api)


family = "gkmlpt"
SPIDER = GkmlptSpider
gkmlpt_parse_list = GkmlptSpider.gkmlpt_parse_list
