"""Hanweb / 大汉 jcms columns: the first page embedded as XML in the HTML, later pages by POST windows.

``/col/col<id>/index.html`` holds ``<script type="text/xml"><datastore>…<record><![CDATA[<li>…]]></record>``
and a pager initialiser with ``totalRecord``/``perPage``. Next pages come from
``POST /module/web/jpage/dataproxy.jsp?startrecord=S&endrecord=E&perpage=P`` with the column form (webid,
columnid, unitid found in the page). A column without totals pages through its opaque ``<nextgroup>`` URL;
an empty answer there ends the column as ``partial``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import FormRequest, Response, TextResponse
from scrapy.selector import Selector

from crawler.items import FailureItem
from crawler.spiders.families.base import ReportSpider, anchor_rows, page_hub
from crawler.spiders.families.caps import setting_int

RECORD = re.compile(r"<record[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
DATASTORE = re.compile(r"<datastore", re.I)
TOTAL = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)")
PERPAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)")
WEBID = re.compile(r"webid\s*[=:]\s*['\"]?(\d+)", re.I)
UNITID = re.compile(r"unitid\s*[=:]\s*['\"]?(\d+)", re.I)
COLUMNID = re.compile(r"columnid\s*[=:]\s*['\"]?(\d+)", re.I)
COL_URL = re.compile(r"/col/col(\d+)/")
NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S)
WEBNAME = re.compile(r"webname\s*[=:]\s*['\"]?([^'\"&,}]+)", re.I)
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
MAX_WINDOWS = 200


def hanweb_records(text: str) -> list[str]:
    """The HTML fragments of the ``<record>`` rows of a datastore (embedded or a dataproxy answer)."""
    return RECORD.findall(text)


def hanweb_params(text: str, url: str) -> dict[str, str]:
    """The dataproxy form parameters found in a column page (webid, columnid, unitid, webname)."""
    params: dict[str, str] = {}
    for key, rx in (("webid", WEBID), ("unitid", UNITID), ("columnid", COLUMNID), ("webname", WEBNAME)):
        if m := rx.search(text):
            params[key] = m.group(1)
    if "columnid" not in params and (m := COL_URL.search(url)):
        params["columnid"] = m.group(1)
    return params


def dataproxy_windows(total: int, per_page: int, already: int, cap: int = MAX_WINDOWS) -> list[tuple[int, int]]:
    """(startrecord, endrecord) windows, 1-based and inclusive, for the records after the first ``already``
    (at most ``cap`` windows)."""
    per_page = max(per_page, 1)
    windows: list[tuple[int, int]] = []
    start = already + 1
    while start <= total and len(windows) < cap:
        end = min(start + per_page - 1, total)
        windows.append((start, end))
        start = end + 1
    return windows


def detect(response: Response) -> bool:
    """True when a page embeds a jpage datastore or calls dataproxy.jsp."""
    if not isinstance(response, TextResponse):
        return False
    text = response.text
    return bool(DATASTORE.search(text)) or "dataproxy.jsp" in text


class HanwebJpageSpider(ReportSpider):
    """Family base for Hanweb jpage columns."""

    name = "hanweb"
    family = "hanweb"

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Given a list page, yield its report-link and next-page requests and what it lists.

        @sample_page
        @returns requests 1
        @returns items 1
        """
        return self.hanweb_parse_list(response, ctx)

    def hanweb_rows(self, response: Response, fragments: list[str], ctx: dict[str, Any], hub: bool,
                    urls: list[str] | None = None) -> Iterator[Any]:
        """Returns the requests (and decisions) for the ``<record>`` rows; their URLs are added to ``urls``."""
        for fragment in fragments:
            for href, text, title, date in anchor_rows(Selector(text=fragment)):
                if urls is not None and href:
                    urls.append(urljoin(response.url, href.strip()))
                yield from self.follow_report_link(response.url, href, text, title, ctx, date=date, hub=hub,
                                                   candidate=True)

    def hanweb_parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Rows embedded in a column page, then POST windows for the rest (or its nextgroup URL)."""
        ctx = {**ctx, "family": "hanweb", "column": ctx.get("column") or response.url}
        text = response.text
        hub = page_hub(response)
        records = hanweb_records(text)
        if not records:  # some deployments list /art/ links straight in the HTML
            for href, label, title, date in anchor_rows(response):
                yield from self.follow_report_link(response.url, href, label, title, ctx, date=date, hub=hub)
        urls: list[str] = []
        yield from self.hanweb_rows(response, records, ctx, hub, urls)
        total_m, per_m = TOTAL.search(text), PERPAGE.search(text)
        yield self.listing(response, ctx, mechanism="hanweb/datastore",
                           declared=int(total_m.group(1)) if total_m else None, rows=urls if records else None)
        params = hanweb_params(text, response.url)
        if total_m and "columnid" in params:
            total, per_page = int(total_m.group(1)), int(per_m.group(1)) if per_m else 15
            window_ctx = {**ctx, "hub": hub, "column_url": response.url}
            cap = setting_int(self, "OGI_HANWEB_MAX_WINDOWS", MAX_WINDOWS)
            windows = dataproxy_windows(total, per_page, len(records), cap)
            for start, end in windows:
                yield self.hanweb_window_request(response.url, params, start, end, per_page, window_ctx)
            covered = windows[-1][1] if windows else len(records)
            if covered < total:  # the cap: the records not asked for are a recorded loss, never a silent one
                first = covered + 1
                url = urljoin(response.url, f"{DATAPROXY}?startrecord={first}&endrecord={total}&perpage={per_page}")
                yield self.link_decision(url, "page-limit", ctx, list_url=response.url,
                                         detail=f"records {first}-{total} of {total} beyond the limit of {cap} "
                                                "dataproxy windows (OGI_HANWEB_MAX_WINDOWS)")
        elif (m := NEXTGROUP.search(text)) and (href := Selector(text=m.group(1)).css("a::attr(href)").get()):
            yield self.list_request(urljoin(response.url, href), {**ctx, "hub": hub, "column_url": response.url},
                                    callback=self.hanweb_parse_window)

    def hanweb_window_request(
        self, column_url: str, params: dict[str, str], start: int, end: int, per_page: int, ctx: dict[str, Any]
    ) -> FormRequest:
        """The dataproxy POST for records ``start..end`` (the whole window is asked for at once)."""
        form = {"col": "1", "appid": "1", "webid": params.get("webid", "1"), "path": "/",
                "columnid": params["columnid"], "sourceContentType": "1", "unitid": params.get("unitid", ""),
                "webname": params.get("webname", ""), "permissiontype": "0"}
        url = urljoin(column_url, f"{DATAPROXY}?startrecord={start}&endrecord={end}&perpage={per_page}")
        meta = {"ogi_kind": "list", "ogi_site": ctx["site"], "ogi_source": ctx["source"]}
        return FormRequest(url, formdata=form, callback=self.hanweb_parse_window, errback=self.on_error,
                           cb_kwargs={"ctx": ctx}, meta=meta,
                           headers={"Referer": column_url,
                                    "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})

    def hanweb_parse_window(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Rows of one dataproxy window or nextgroup page; an empty answer ends the column."""
        yield self.document_item(response, ctx, kind="list")
        self.crawler.stats.inc_value(f"ogi/pages/{ctx['source']}")
        text = response.text if isinstance(response, TextResponse) else ""
        records = hanweb_records(text)
        if not records:
            self.crawler.stats.inc_value("ogi/failure/partial")
            yield FailureItem(url=response.url, reason="partial/empty-page", source=ctx["source"], kind="list",
                              partial=True, detail=f"{len(response.body)}-byte answer, no records; column "
                              f"{ctx.get('column_url')} may be incomplete")
            return
        urls: list[str] = []
        yield from self.hanweb_rows(response, records, ctx, bool(ctx.get("hub")), urls)
        yield self.listing(response, ctx, mechanism="hanweb/dataproxy", rows=urls)
        if response.request is not None and response.request.method == "GET":
            m = NEXTGROUP.search(text)
            href = Selector(text=m.group(1)).css("a::attr(href)").get() if m else None
            if href:
                yield self.list_request(urljoin(response.url, href), ctx, callback=self.hanweb_parse_window)


family = "hanweb"
SPIDER_CLASS = "HanwebJpageSpider"  # a name, not the class: Scrapy's loader would list the class twice
hanweb_parse_list = HanwebJpageSpider.hanweb_parse_list
