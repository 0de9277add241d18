"""The base of every family spider: sources, link selection, article pages, attachments and failures.

A family subclass implements one hook, :meth:`ReportSpider.parse_list` (a list page -> report links and the
next list pages). Everything after a report link is shared: the article page is fetched and archived as is,
its attachments (PDF, DOC/DOCX, WPS, XLS; also behind download servlets and redirects) are fetched and
archived, and every URL that did not yield a document is a :class:`~crawler.items.FailureItem` with a reason.
Per-link data travels in ``cb_kwargs`` (``ctx``), never in spider state.

The spiders have no access to the archive. The crawl mode (``OGI_MODE``, :mod:`crawler.modes`) is applied to
what they yield by :class:`crawler.middlewares.CrawlModeMiddleware`, and a 304 reaches them as the archived copy
(``response.meta["ogi_not_modified"]``) through :class:`crawler.middlewares.ConditionalRequestMiddleware`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from crawler.items import DocumentItem, FailureItem, LinkDecisionItem, ListingItem
from crawler.reasons import is_loss
from crawler.responses import content_type, failure_reason, header_dict, now_iso
from crawler.safety import same_site
from crawler.sources import SourceInfo
from crawler.spiders import titles, walls

logger = logging.getLogger(__name__)

ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|wps|xlsx?|et|rtf|ofd)(?:$|[?#])", re.I)
DOWNLOAD_SERVLET = re.compile(r"downfile|download|/attach/|getfile|fileDownload", re.I)
JS_DOWNLOAD = re.compile(r"^javascript:\s*\w*download\w*\(\s*['\"]([^'\"]+)", re.I)
REPORTISH = re.compile(r"年报|年度报告|年度报表|工作报告|报表")
MAX_LIST_DEPTH = 2  # hub -> column -> (sub-column)
REPORT_BODY = re.compile(r"总体情况|收到和处理政府信息公开申请")
# a page without any of these bytes (lower-cased) has no link that article_attachments could follow or record
# (substring tests on the lower-cased body: ~3x cheaper than one case-insensitive regex over a report page)
MAY_LINK_ATTACHMENT = (b".pdf", b".doc", b".wps", b".xls", b".et", b".rtf", b".ofd", b"downfile", b"download",
                       b"javascript:")


def may_link_attachment(body: bytes) -> bool:
    """False when no link in ``body`` could be an attachment (no extension, servlet or javascript: in it)."""
    low = body.lower()
    return any(token in low for token in MAY_LINK_ATTACHMENT)


def is_html(response: Response) -> bool:
    ctype = content_type(response)
    if ctype:
        return "html" in ctype or "xml" in ctype
    return isinstance(response, TextResponse)


class ReportSpider(scrapy.Spider):
    """Base spider. Subclasses set ``family`` and implement :meth:`parse_list`.

    Arguments (``scrapy crawl <name> -a url=... -a source=... -a agency=...``): ``url`` (one start URL, may be
    comma-separated), ``sources`` (a JSON list of source dicts, used by ``ogi crawl``).
    """

    name = "ogi_base"
    family = "generic"
    agency: str | None = None
    region: str | None = None
    level: str | None = None
    start_urls: list[str] = []  # noqa: RUF012 (scrapy convention)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        """Given the crawler and the spider arguments, return the spider. ``-a mode=full|light|revisions``
        sets ``OGI_MODE`` (a ``-s OGI_MODE=`` still wins); a spider started without ``url``, ``sources`` or
        ``source`` (``scrapy crawl ogi_base``, ``scrapy check``) runs without the archive pipeline, so it
        never creates or changes an ``ogi.db``."""
        from crawler.modes import crawl_mode

        if kwargs.get("mode") is not None:
            crawler.settings.set("OGI_MODE", crawl_mode({"OGI_MODE": kwargs["mode"]}), priority="spider")
        if not any(kwargs.get(k) for k in ("url", "sources", "source")):
            logger.warning("%s: no start URL (give -a url=…): nothing is written to the archive", cls.name)
            crawler.settings.set("ITEM_PIPELINES", {}, priority="cmdline")
        return super().from_crawler(crawler, *args, **kwargs)

    def __init__(
        self,
        url: str | None = None,
        sources: str | list[dict[str, Any]] | None = None,
        source: str | None = None,
        agency: str | None = None,
        region: str | None = None,
        level: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        agency = agency or self.agency
        region = region or self.region
        level = level or self.level
        infos: list[SourceInfo] = []
        if sources:
            data = json.loads(sources) if isinstance(sources, str) else sources
            infos.extend(SourceInfo.from_dict(d) for d in data)
        if url:
            for u in str(url).split(","):
                if u.strip():
                    infos.append(SourceInfo(source or u.strip(), u.strip(), agency, region, level))
        if not infos:
            infos = [SourceInfo(source or self.name, u, agency, region, level) for u in self.start_urls]
        self.sources: list[SourceInfo] = infos
        self._extra_sites: tuple[str, ...] | None = None

    @property
    def extra_sites(self) -> tuple[str, ...]:
        """``OGI_EXTRA_SITES``: domains under which every host is one site (loopback test portals)."""
        if self._extra_sites is None:
            crawler = getattr(self, "crawler", None)
            self._extra_sites = tuple(crawler.settings.getlist("OGI_EXTRA_SITES")) if crawler is not None else ()
        return self._extra_sites

    def same_site(self, url: str, site: str) -> bool:
        """True when ``url`` may be followed from a crawl that started at ``site``."""
        return same_site(url, site, self.extra_sites)

    # ---- start -------------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for item in self.start_requests():
            yield item

    def start_requests(self) -> Iterator[Request]:
        """One list request per source, marked ``ogi_start`` (the crawl-mode middleware may replace it)."""
        for src in self.sources:
            ctx = {"source": src.name, "site": src.url, "agency": src.agency, "region": src.region,
                   "level": src.level, "depth": 0, "family": src.family}
            yield self.list_request(src.url, ctx, dont_filter=True, meta={"ogi_start": True})

    def revision_request(self, url: str, kind: str, hints: dict[str, Any], ctx: dict[str, Any]) -> Request:
        """A conditional request for one known report; its page is never read as a list (depth at the limit)."""
        doc_ctx = {**ctx, **{k: v for k, v in hints.items() if k not in ("source", "site", "depth")},
                   "depth": MAX_LIST_DEPTH}
        return self.document_request(url, doc_ctx, "attachment" if kind == "attachment" else "article")

    # ---- requests ----------------------------------------------------------------------------------------
    def list_request(
        self, url: str, ctx: dict[str, Any], *, callback: Any = None, dont_filter: bool = False, **kwargs: Any
    ) -> Request:
        """A request for a list page (or list API window); its answer goes to ``callback`` (default parse).
        A GET is sent conditionally when the archive holds a copy (a 304 comes back as that copy)."""
        meta = {"ogi_kind": "list", "ogi_site": ctx["site"], "ogi_source": ctx["source"], "ogi_conditional": True,
                "handle_httpstatus_list": [304], **kwargs.pop("meta", {})}
        return Request(url, callback=callback or self.parse, errback=self.on_error, cb_kwargs={"ctx": ctx},
                       meta=meta, dont_filter=dont_filter, **kwargs)

    def document_request(self, url: str, ctx: dict[str, Any], kind: str) -> Request:
        """A request for an article page or an attachment, sent conditionally on re-crawls."""
        callback = self.parse_article if kind == "article" else self.parse_attachment
        meta = {"ogi_kind": kind, "ogi_site": ctx["site"], "ogi_source": ctx["source"], "ogi_conditional": True,
                "handle_httpstatus_list": [304]}
        return Request(url, callback=callback, errback=self.on_error, cb_kwargs={"ctx": ctx}, meta=meta)

    # ---- what a list page declared, and links not followed ----------------------------------------------
    def listing(self, response: Response, ctx: dict[str, Any], *, mechanism: str, declared: int | None = None,
                declared_pages: int | None = None, rows: list[str] | None = None) -> ListingItem:
        """Returns the completeness evidence of one list page: what its column declares and which items it
        lists (``rows``; None when the family cannot tell rows from navigation)."""
        return ListingItem(source=ctx["source"], column=ctx.get("column") or response.url, list_url=response.url,
                           mechanism=mechanism, declared=declared, declared_pages=declared_pages,
                           rows=None if rows is None else list(dict.fromkeys(rows)),
                           hub=is_html(response) and page_hub(response))

    def link_decision(self, url: str, reason: str, ctx: dict[str, Any], *, title: str | None = None,
                      list_url: str | None = None, detail: str | None = None) -> LinkDecisionItem:
        """Returns the record of a candidate link not followed, with its reason."""
        self.crawler.stats.inc_value(f"ogi/decision/{reason}")
        return LinkDecisionItem(source=ctx["source"], url=url, reason=reason, title=title or None,
                                list_url=list_url, detail=detail)

    # ---- the hook ----------------------------------------------------------------------------------------
    def parse(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:  # type: ignore[override]
        """Archive a list page, check it is a real page, then hand it to the family's :meth:`parse_list`."""
        failure = self.check_page(response, ctx, kind="list")
        if failure is not None:
            yield failure
            return
        yield self.document_item(response, ctx, kind="list")
        self.crawler.stats.inc_value(f"ogi/pages/{ctx['source']}")
        yield from self.parse_list(response, ctx)

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterable[Any]:
        """Report-link requests and next-list-page requests found on one list page."""
        raise NotImplementedError("Must implement parse_list")

    # ---- shared helpers ----------------------------------------------------------------------------------
    def check_page(self, response: Response, ctx: dict[str, Any], *, kind: str) -> FailureItem | None:
        """A FailureItem when a 2xx response is really a wall, a soft 404, a stub or a moved page."""
        if response.status == 304 or response.meta.get("ogi_not_modified"):
            return None
        reason = walls.classify(response.status, response.headers, response.body)
        if reason == "stub" and kind != "list" and (self.attachment_links(response) or has_list_marker(response)):
            reason = None  # a short page that links its report as an attachment (or a list shell) is not a stub
        if reason is None and kind != "list":
            requested = urlsplit(response.request.url if response.request else response.url)
            final = urlsplit(response.url)
            if final.path in ("", "/") and requested.path not in ("", "/"):
                reason = "moved/homepage"
        if reason is None:
            return None
        self.crawler.stats.inc_value(f"ogi/failure/{reason}")
        return FailureItem(url=response.url, reason=reason, source=ctx["source"], kind=kind,
                           detail=f"HTTP {response.status}, {len(response.body)} bytes", partial=is_loss(kind, reason))

    def document_item(self, response: Response, ctx: dict[str, Any], *, kind: str) -> DocumentItem:
        """The archived form of one response."""
        request = response.request
        prev = (request.meta.get("ogi_prev") or {}) if request is not None else {}
        not_modified = response.status == 304 or bool(response.meta.get("ogi_not_modified"))
        return DocumentItem(
            kind=kind,
            url=(request.meta.get("redirect_urls") or [request.url])[0] if request is not None else response.url,
            final_url=response.url,
            http_status=304 if not_modified else response.status,
            headers=header_dict(response.headers),
            body=b"" if not_modified else response.body,  # a replayed 304 moved no body
            content_type=content_type(response) or None,
            fetched_at=now_iso(),
            not_modified=not_modified,
            prev_sha256=prev.get("sha256"),
            source=ctx["source"],
            family=ctx.get("family") or self.family,
            list_url=ctx.get("list_url"),
            referer=ctx.get("referer"),
            title=ctx.get("title"),
            year_hint=ctx.get("year"),
            year_source=ctx.get("year_source"),
            agency=ctx.get("agency"),
            region=ctx.get("region"),
            level=ctx.get("level"),
            request_headers=header_dict(request.headers) if request is not None else {},
            method=request.method if request is not None else "GET",
        )

    def follow_report_link(
        self,
        base_url: str,
        href: str | None,
        text: str | None,
        title_attr: str | None,
        ctx: dict[str, Any],
        *,
        date: str | None = None,
        hub: bool = False,
        candidate: bool | None = None,
    ) -> Iterator[Any]:
        """Returns a request for one list row when its title names an annual report, or may name one (an
        ambiguous title: the document decides); else a recorded decision (``candidate`` rows: every row of a
        list whose rows the family can tell from navigation; None: links that look like items) or, for a
        report-looking confusable, a failure. On a 汇总 hub page any article or attachment link is a candidate."""
        if not href or href.startswith(("#", "mailto:")):
            return
        title = titles.collapse(titles.full_title(text, title_attr))
        record = looks_like_item(title) if candidate is None else candidate
        js = JS_DOWNLOAD.match(href)
        if js:
            if hub or titles.is_report_title(title) or ATTACHMENT_EXT.search(js.group(1)):
                yield FailureItem(url=urljoin(base_url, js.group(1)), reason="js-link", source=ctx["source"],
                                  kind="link", detail=f"javascript download link, not followed: {href[:200]}")
            elif record:
                yield self.link_decision(urljoin(base_url, js.group(1)), "js-link", ctx, title=title,
                                         list_url=base_url, detail=href[:200])
            return
        if href.lower().startswith("javascript:"):
            return
        url = urljoin(base_url, href.strip())
        reason = titles.reject_reason(title)
        is_doc = bool(ATTACHMENT_EXT.search(url))
        ambiguous = reason == "not-report" and titles.is_ambiguous_title(title)
        if ambiguous:
            self.crawler.stats.inc_value("ogi/links/ambiguous")
        if reason is not None and not ambiguous and not (hub and (is_doc or "/art/" in url or "content" in url)):
            if reason == "confusable" and REPORTISH.search(title):
                self.crawler.stats.inc_value("ogi/links/confusable")
                yield FailureItem(url=url, reason="confusable", source=ctx["source"], kind="link", detail=title)
            elif record:
                yield self.link_decision(url, reason, ctx, title=title, list_url=base_url)
            return
        if not self.same_site(url, ctx["site"]):
            self.crawler.stats.inc_value("ogi/links/offsite")
            yield FailureItem(url=url, reason="offsite", source=ctx["source"], kind="link",
                              detail=f"{title} (not the start URL's site)")
            return
        year, year_source = titles.infer_year(title, url, date)
        link_ctx = {**ctx, "title": title or None, "year": year, "year_source": year_source,
                    "list_url": base_url, "depth": ctx.get("depth", 0), "ambiguous": ambiguous}
        self.crawler.stats.inc_value(f"ogi/links/{ctx['source']}")
        yield self.document_request(url, link_ctx, "attachment" if is_doc else "article")

    # ---- article pages and attachments ------------------------------------------------------------------
    def parse_article(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Archive an article page, then fetch its attachments; a page that is really a list (a hub linking
        report columns) is handed to list parsing instead."""
        unchanged = bool(response.meta.get("ogi_not_modified"))
        if not unchanged and not is_html(response):
            yield from self.parse_attachment(response, ctx)
            return
        failure = self.check_page(response, ctx, kind="article")
        if failure is not None:
            yield failure
            return
        # An unchanged page (a replayed 304: the response is the archived copy) is still read: a crawl
        # interrupted after archiving it may not have fetched its attachments, and a list's rows are counted.
        if ctx.get("depth", 0) < MAX_LIST_DEPTH and self.looks_like_list(response):
            list_ctx = {**ctx, "depth": ctx.get("depth", 0) + 1, "family": None, "column": None}
            yield self.document_item(response, list_ctx, kind="list")
            yield from self.parse_list(response, list_ctx)
            return
        item = self.document_item(response, ctx, kind="article")
        follow = list(self.article_attachments(response, ctx))
        # the attachments followed: a page that only carries its report's files is no failure of its own
        item["attachments"] = [r.url for r in follow if isinstance(r, Request)]
        yield item
        yield from follow

    def looks_like_list(self, response: Response) -> bool:
        """True for a page that lists several reports (a column or a hub), not one report."""
        if not isinstance(response, TextResponse):
            return False
        if has_list_marker(response):
            return True
        text = response.text
        if REPORT_BODY.search(text):  # the body of a report (checked first: it spares building the tree)
            return False
        count = 0
        for a in response.css("a[href]"):
            title = titles.full_title(a.css("::text").get(), a.attrib.get("title"))
            if titles.is_report_title(title):
                count += 1
        return count >= 3

    def attachment_links(self, response: Response) -> list[str]:
        """Returns the attachment URLs a page links (extensions, download servlets), in page order."""
        if not isinstance(response, TextResponse) or not may_link_attachment(response.body):
            return []
        out = []
        for a in response.css("a[href]"):
            href = (a.attrib.get("href") or "").strip()
            label = " ".join(a.css("::text").getall()).strip()
            if href.lower().startswith(("javascript:", "#", "mailto:")):
                continue
            url = urljoin(response.url, href)
            if ATTACHMENT_EXT.search(url) or ATTACHMENT_EXT.search(label) or "downfile" in url:
                out.append(url)
        return list(dict.fromkeys(out))

    def article_attachments(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Requests for the attachments linked from an article (and failures for links we cannot follow)."""
        body = response.body
        if not body.startswith((b"\xff\xfe", b"\xfe\xff")) and not may_link_attachment(body):
            return  # no link below could qualify: skip building the tree (most report pages)
        seen: set[str] = set()
        for a in response.css("a[href]"):
            href = (a.attrib.get("href") or "").strip()
            label = " ".join(a.css("::text").getall()).strip()
            js = JS_DOWNLOAD.match(href)
            if js:
                yield FailureItem(url=urljoin(response.url, js.group(1)), reason="js-link", source=ctx["source"],
                                  kind="attachment", detail=f"javascript download link, not followed: {href[:200]}")
                continue
            if href.lower().startswith(("javascript:", "#", "mailto:")):
                continue
            url = urljoin(response.url, href)
            if not (ATTACHMENT_EXT.search(url) or ATTACHMENT_EXT.search(label) or DOWNLOAD_SERVLET.search(url)):
                continue
            if not ATTACHMENT_EXT.search(url) and not ATTACHMENT_EXT.search(label) and "downfile" not in url:
                continue
            if url in seen:
                continue
            seen.add(url)
            if not self.same_site(url, ctx["site"]):
                yield FailureItem(url=url, reason="offsite", source=ctx["source"], kind="attachment", detail=label)
                continue
            att_ctx = {**ctx, "referer": response.url, "title": ctx.get("title") or label or None}
            yield self.document_request(url, att_ctx, "attachment")

    def parse_attachment(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Archive an attachment (PDF, DOC/DOCX, WPS, XLS …); the pipeline hands it to the parser."""
        if response.status != 304 and not response.meta.get("ogi_not_modified"):
            reason = walls.classify(response.status, response.headers, response.body)
            if reason is None and is_html(response) and len(response.body) < walls.SOFT_404_BYTES:
                reason = "not-attachment"
            if reason is None:
                final = urlsplit(response.url)
                requested = urlsplit(response.request.url if response.request else response.url)
                if final.path in ("", "/") and requested.path not in ("", "/"):
                    reason = "moved/homepage"
            if reason is not None:
                self.crawler.stats.inc_value(f"ogi/failure/{reason}")
                yield FailureItem(url=response.url, reason=reason, source=ctx["source"], kind="attachment",
                                  detail=f"HTTP {response.status}, {len(response.body)} bytes")
                return
        yield self.document_item(response, ctx, kind="attachment")

    # ---- failures ----------------------------------------------------------------------------------------
    def on_error(self, failure: Failure) -> Iterator[Any]:
        """Turn a failed request into a FailureItem with a specific reason; the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        ctx = request.cb_kwargs.get("ctx") or {"source": request.meta.get("ogi_source")}
        kind = request.meta.get("ogi_kind", "article")
        reason, detail = failure_reason(failure)
        self.crawler.stats.inc_value(f"ogi/failure/{reason}")
        logger.info("failed %s: %s (%s)", request.url, reason, detail)
        yield FailureItem(url=request.url, reason=reason, detail=detail, source=ctx.get("source"), kind=kind,
                          partial=is_loss(kind, reason))

    def source_info(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.sources]


def anchor_rows(selector: Any) -> Iterator[tuple[str | None, str, str | None, str | None]]:
    """(href, visible text, title attribute, date text) for every link under ``selector``.

    The date is the text of one of the next three siblings (``<span>``, after an ``<em>`` marker on TRS
    templates) or of the next ``<td>`` that looks like a date (dates split over lines are joined)."""
    for a in selector.css("a[href]"):
        text = " ".join(t.strip() for t in a.css("::text").getall()).strip()
        date = None
        for cand in a.xpath("following-sibling::*[position() <= 3]//text() | ../following-sibling::td[1]//text()"
                            ).getall():
            joined = re.sub(r"\s+", "", cand)
            if re.match(r"^\[?20\d{2}[-./年]\d{1,2}", joined):
                date = joined.strip("[]")
                break
        yield a.attrib.get("href"), text, a.attrib.get("title"), date


# not ``list2.trsapi`` alone: TRS article pages load it too, for their related-documents box (pingtan 9612's
# ``require(["detailpage", "jquery", "list2.trsapi"], …)``), and were read as lists, their reports never parsed
LIST_MARKERS = ("<datastore", "window._CONFIG", "createPageHTML", "listModel(")


def has_list_marker(response: Response) -> bool:
    """True when a page carries the list machinery of a known family (a jpage datastore, a gkmlpt shell, a TRS
    pager or a ``listModel`` config), whatever its length or link titles."""
    if not isinstance(response, TextResponse):
        return False
    text = response.text
    return any(marker in text for marker in LIST_MARKERS)


ITEM_TITLE_CHARS = 8  # a link whose title has at least this many characters looks like a list item, not navigation


def looks_like_item(title: str | None) -> bool:
    """True for a link title long enough to be a list item (navigation links are short: 首页, 政务公开 …)."""
    return len(titles.collapse(title)) >= ITEM_TITLE_CHARS


def page_hub(response: Response) -> bool:
    """True when the page is a 年报汇总 hub (title or ColumnName)."""
    if not isinstance(response, TextResponse):
        return False
    names = [response.css("title::text").get() or "", response.css('meta[name="ColumnName"]::attr(content)').get() or ""]
    return any(titles.is_hub_title(n) for n in names)
