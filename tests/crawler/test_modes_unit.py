"""Crawl modes without a crawl: what the spider requests in light/revisions/full mode, and the state they use."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from archive import open_archive
from crawler.gateway import ArchiveGateway
from crawler.items import DocumentItem
from crawler.middlewares import CrawlModeMiddleware
from crawler.modes import CRAWL_MODES, crawl_mode
from crawler.spiders.auto import AutoSpider
from crawler.spiders.families.base import MAX_LIST_DEPTH
from ogi.demo.portal import Portal

from .conftest import ctx_for, portal_response

MIN = "http://ministry.fixture.test/zfxxgk/zfxxgknb/"
LIST = MIN + "index.html"


@pytest.fixture(scope="module")
def portal() -> Portal:
    return Portal()


class ModeSpider:
    """A spider seen through the crawl-mode middleware, as the engine sees it."""

    def __init__(self, spider: AutoSpider) -> None:
        self.spider = spider
        self.crawler = spider.crawler
        self.mw = CrawlModeMiddleware.from_crawler(spider.crawler)

    def __getattr__(self, name: str):
        method = getattr(self.spider, name)
        if name == "start_requests":
            return lambda: self.mw.process_start_requests(method())
        if not callable(method) or not name.startswith("parse"):
            return method
        return lambda response, *a, **kw: self.mw.process_spider_output(response, method(response, *a, **kw))


def spider_on(db: Path, mode: str, url: str = LIST) -> tuple[ModeSpider, ArchiveGateway]:
    crawler = get_crawler(AutoSpider, {"OGI_DB": str(db), "OGI_MODE": mode, "OGI_EXTRA_SITES": ["fixture.test"]})
    crawler._apply_settings()
    spider = AutoSpider.from_crawler(crawler, url=url, source="t")
    crawler.spider = spider
    if getattr(crawler, "stats", None) is None:
        from scrapy.statscollectors import MemoryStatsCollector

        crawler.stats = MemoryStatsCollector(crawler)
    return ModeSpider(spider), ArchiveGateway.for_crawler(crawler)


def remember(gateway: ArchiveGateway, url: str, status: str | None, *, kind: str = "article",
             source: str = "t", **fields: object) -> str:
    """Archive a fetch of ``url``; when ``status`` is given, mark it processed (as the pipeline does)."""
    body = f"<html><body>{url}</body></html>".encode()
    sha = gateway.arc.save_document(body, url=url, http_status=200)
    if status is not None:
        gateway.mark_processed(sha, status)
        gateway.mark_url(DocumentItem(kind=kind, url=url, source=source, **fields), sha, status)
    gateway.commit()
    return sha


def requests_in(db: Path, mode: str, url: str, call) -> list[Request]:
    """The requests ``call(spider)`` yields with a fresh spider in ``mode`` on its own archive."""
    spider, gateway = spider_on(db, mode, url)
    try:
        return [r for r in call(spider) if isinstance(r, Request)]
    finally:
        gateway.close()


def document_urls(results) -> list[str]:
    return [r.url for r in results if isinstance(r, Request) and r.meta.get("ogi_kind") != "list"]


@pytest.mark.parametrize(("value", "expected"), [(None, "full"), ("", "full"), ("LIGHT", "light"),
                                                 (" revisions ", "revisions"), ("full", "full")])
def test_crawl_mode_setting(value, expected):
    assert crawl_mode({"OGI_MODE": value}) == expected


def test_crawl_mode_rejects_unknown_values():
    with pytest.raises(ValueError, match="OGI_MODE must be one of full, light, revisions"):
        crawl_mode({"OGI_MODE": "turbo"})
    assert CRAWL_MODES == ("full", "light", "revisions")


def test_light_mode_requests_only_unknown_documents(tmp_path, portal):
    response = portal_response(portal, LIST)
    spider, gateway = spider_on(tmp_path / "l.db", "light")
    try:
        everything = document_urls(requests_in(tmp_path / "f.db", "full", LIST,
                                               lambda s: s.parse(response, ctx_for(LIST))))
        assert len(everything) >= 4
        known, unfinished, image_only = everything[0], everything[1], everything[2]
        remember(gateway, known, "new")
        remember(gateway, unfinished, None)  # archived, never parsed (a crawl killed in between)
        remember(gateway, image_only, "image_only")
        requested = document_urls(spider.parse(response, ctx_for(LIST)))
        again = document_urls(spider.parse(response, ctx_for(LIST)))  # the same rows listed on another page
    finally:
        gateway.close()
    assert requested == [u for u in everything if u not in (known, image_only)]
    assert unfinished in requested
    assert again == requested
    stats = spider.crawler.stats
    assert stats.get_value("ogi/known_items") == 2  # counted once, though listed twice
    assert stats.get_value("ogi/known_items/t") == 2
    assert stats.get_value("ogi/known_reports/t") == 2  # both are reports (found, still listed)


def test_light_mode_skips_known_attachments(tmp_path, portal):
    article = "http://province.fixture.test/art/2024/1/2/art_1001_41790.html"
    response = portal_response(portal, article)
    ctx = {**ctx_for(article), "depth": MAX_LIST_DEPTH}
    full = requests_in(tmp_path / "f.db", "full", article, lambda s: s.parse_article(response, ctx))
    [attachment] = [r.url for r in full if r.meta["ogi_kind"] == "attachment" and "dead" not in r.url]
    spider, gateway = spider_on(tmp_path / "l.db", "light", article)
    try:
        remember(gateway, attachment, "new", kind="attachment")
        light = [r.url for r in spider.parse_article(response, ctx) if isinstance(r, Request)]
    finally:
        gateway.close()
    assert attachment not in light
    assert any("dead.pdf" in u for u in light)  # never fetched: still requested


def test_revisions_mode_starts_from_the_known_reports(tmp_path):
    db = tmp_path / "r.db"
    spider, gateway = spider_on(db, "revisions")
    try:
        report = MIN + "202401/t20240110_100100.html"
        attachment = "http://ministry.fixture.test/attach/report.pdf"
        remember(gateway, report, "new", title="某某部2023年政府信息公开工作年度报告", year_hint=2023,
                 list_url=LIST)
        remember(gateway, attachment, "new_version", kind="attachment", referer=report)
        remember(gateway, MIN + "202401/t20240126_100301.html", "not_report")  # not a report: not re-checked
        remember(gateway, MIN + "other.html", "new", source="another source")
        requests = list(spider.start_requests())
    finally:
        gateway.close()
    assert [(r.url, r.meta["ogi_kind"]) for r in requests] == [(report, "article"), (attachment, "attachment")]
    article, pdf = requests
    assert article.callback == spider.spider.parse_article
    assert pdf.callback == spider.spider.parse_attachment
    assert all(r.meta["ogi_conditional"] for r in requests)  # ETag / Last-Modified from the archive
    ctx = article.cb_kwargs["ctx"]
    assert ctx["depth"] == MAX_LIST_DEPTH  # a known report is never read as a list page
    assert (ctx["source"], ctx["site"], ctx["year"], ctx["list_url"]) == ("t", LIST, 2023, LIST)
    assert ctx["title"] == "某某部2023年政府信息公开工作年度报告"
    assert pdf.cb_kwargs["ctx"]["referer"] == report
    assert spider.crawler.stats.get_value("ogi/revisions/t") == 2


def test_revisions_mode_walks_a_source_without_known_reports(tmp_path):
    spider, gateway = spider_on(tmp_path / "n.db", "revisions")
    try:
        [request] = list(spider.start_requests())
    finally:
        gateway.close()
    assert request.url == LIST
    assert request.meta["ogi_kind"] == "list"
    assert spider.crawler.stats.get_value("ogi/revisions/walked") == 1


def test_full_and_light_modes_start_from_the_list(tmp_path):
    for mode in ("full", "light"):
        spider, gateway = spider_on(tmp_path / f"{mode}.db", mode)
        try:
            remember(gateway, MIN + "202401/t20240110_100100.html", "new")
            [request] = list(spider.start_requests())
        finally:
            gateway.close()
        assert request.meta["ogi_kind"] == "list", mode


def test_known_documents_survive_a_new_gateway(tmp_path):
    db = tmp_path / "s.db"
    gateway = ArchiveGateway(open_archive(db))
    try:
        url = MIN + "202401/t20240110_100100.html"
        sha = remember(gateway, url, "new", year_hint=2023)
        assert gateway.known_status(url) == (True, "new")
        assert gateway.known_status(MIN + "never.html") == (False, None)
    finally:
        gateway.close()
    gateway = ArchiveGateway(open_archive(db))
    try:
        assert gateway.known_documents("t") == [(url, "article", {"year": 2023})]
        assert gateway.known_documents("t", statuses=("not_report",)) == []
        assert gateway.processed(sha) == "new"
    finally:
        gateway.close()
