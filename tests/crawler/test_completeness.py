"""Completeness reconciliation, the duplicate ledger and gkmlpt under a prefix: small pure cases."""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.completeness import Column, source_completeness
from crawler.items import LinkDecisionItem
from crawler.middlewares import LinkLedgerMiddleware
from crawler.spiders.auto import AutoSpider, detect_family
from crawler.spiders.families.gkmlpt import api_base, hash_category


def column(**listing) -> Column:
    col = Column()
    col.add(listing)
    return col


def test_declared_items_missing_make_a_partial_column():
    found = source_completeness([("c", column(declared=20, rows=[f"u{i}" for i in range(17)]))])
    assert (found.state, found.declared, found.listed, found.missing) == ("partial", 20, 17, 3)
    assert found.detail == "c: 3 of 20 declared items missing"


def test_all_declared_pages_read_is_ok_and_a_missing_page_is_partial():
    col = column(declared_pages=2, rows=["a", "b"])
    assert source_completeness([("c", col)]).state == "partial"
    col.add({"declared_pages": 2, "rows": ["c", "d"]})
    found = source_completeness([("c", col)])
    assert (found.state, found.listed, found.missing) == ("ok", 4, 0)


def test_nothing_declared_is_unknown_never_ok():
    found = source_completeness([("c", column(rows=["a"]))])
    assert (found.state, found.missing) == ("unknown", None)
    assert source_completeness([]).state == "unknown"


def test_a_hub_is_left_out_and_the_worst_column_decides():
    hub = column(rows=["http://x/col1/", "http://x/dead/"])
    ok = column(declared=2, rows=["http://x/col1/a", "http://x/col1/b"])
    found = source_completeness([("hub", hub), ("http://x/col1/", ok)], lists=["http://x/col1/"],
                                recorded=["http://x/dead/"])
    assert (found.state, found.declared, found.listed) == ("ok", 2, 2)
    bad = column(declared=5, rows=["http://x/col2/a"])
    assert source_completeness([("hub", hub), ("c1", ok), ("c2", bad)], lists=["http://x/col1/"],
                               recorded=["http://x/dead/"]).state == "partial"


def test_a_document_link_met_twice_is_a_recorded_duplicate():
    crawler = get_crawler(AutoSpider)
    mw = LinkLedgerMiddleware.from_crawler(crawler)
    page = HtmlResponse("http://x.gov.cn/list_2.html", body=b"<html></html>")

    def link(url: str) -> Request:
        return Request(url, meta={"ogi_kind": "article", "ogi_source": "s"},
                       cb_kwargs={"ctx": {"source": "s", "list_url": page.url, "title": "某局2023年年报"}})

    out = list(mw.process_spider_output(page, [link("http://x.gov.cn/a.html"), link("http://x.gov.cn/a.html"),
                                               link("http://x.gov.cn/b.html")]))
    assert [type(o).__name__ for o in out] == ["Request", "LinkDecisionItem", "Request"]
    dup = out[1]
    assert isinstance(dup, LinkDecisionItem)
    assert (dup["url"], dup["reason"], dup["title"], dup["source"]) == ("http://x.gov.cn/a.html", "duplicate",
                                                                        "某局2023年年报", "s")


def test_gkmlpt_under_a_prefix_and_the_hash_category():
    assert api_base("http://fj.gov.cn/xxgk/gkmlpt/index") == "http://fj.gov.cn/xxgk/gkmlpt/"
    assert api_base("http://fj.gov.cn/xxgk/gkmlpt/api/all/2541?page=2&sid=1") == "http://fj.gov.cn/xxgk/gkmlpt/"
    assert api_base("http://gz.gov.cn/catalog/index") == "http://gz.gov.cn/catalog/"
    assert hash_category("http://fj.gov.cn/xxgk/gkmlpt/index#2541") == "2541"
    assert hash_category("http://fj.gov.cn/gkmlpt/index", "http://fj.gov.cn/gkmlpt/index#/category/77") == "77"
    assert hash_category("http://fj.gov.cn/gkmlpt/index") is None
    shell = HtmlResponse("http://fj.gov.cn/somewhere/else", body=b"<script>window._CONFIG = {SID: '350001'};</script>")
    assert detect_family(shell) == "gkmlpt"  # by content, not by a /gkmlpt/ path
    plain = HtmlResponse("http://fj.gov.cn/gkmlpt/list.html", body=b"<html><a href='a.html'>x</a></html>")
    assert detect_family(plain) == "generic"  # a /gkmlpt/ path alone is not a gkmlpt shell
