"""Frozen REAL portal pages in, parsed items out, asserted field by field (the city-scrapers model).

The pages are saved copies from the public crawl ``changwu/pingtan-gov-zwgk-archive`` of www.pingtan.gov.cn
(non-annual columns; provenance and the facts asserted here in ``tests/fixtures/pages/README.md``). No real
answer of the search API was saved: the API answers below are rebuilt from the page's own script, as the
README says.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from scrapy.http import FormRequest, HtmlResponse, Request, TextResponse

from crawler.completeness import Column, source_completeness
from crawler.items import DocumentItem, LinkDecisionItem, ListingItem
from crawler.spiders.auto import detect_family
from crawler.spiders.families.trs_dynamic import js_value, list_config, static_rows

from .conftest import ctx_for, make_spider

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
GZJZQK = "https://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/"
QTWJ = "https://www.pingtan.gov.cn/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/fdzdgknr/10qtwjdzjg/"
API = "https://www.pingtan.gov.cn/fjdzapp/search"
ARTICLE = "https://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/202403/t20240329_88515.htm"


def real(name: str, url: str) -> HtmlResponse:
    body = (PAGES / name).read_bytes()
    return HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url))


@pytest.fixture(scope="module")
def gzjzqk() -> HtmlResponse:
    return real("trs_dynamic/pingtan-ghxx-gzjzqk-list.html", GZJZQK)


@pytest.fixture(scope="module")
def qtwj() -> HtmlResponse:
    return real("trs_dynamic/pingtan-czj-fdzdgknr-qtwj-dynamic-list.html", QTWJ)


@pytest.fixture(scope="module")
def parsed(gzjzqk):
    spider = make_spider(GZJZQK)
    return spider, list(spider.parse(gzjzqk, ctx_for(GZJZQK)))


def api_answer(request: Request, rows: list[dict], page_count: int) -> TextResponse:
    body = json.dumps({"pageCount": page_count, "data": rows}, ensure_ascii=False).encode()
    return TextResponse(request.url, body=body, headers={"Content-Type": "application/json"}, request=request)


# ---- 动静结合 (static + dynamic): 工作进展情况, ChnlId 1780 ------------------------------------------------------
def test_family_is_detected_by_content(gzjzqk, qtwj):
    assert detect_family(gzjzqk) == "trs_dynamic"
    assert detect_family(qtwj) == "trs_dynamic"


def test_list_config(gzjzqk):
    config = list_config(gzjzqk.text, GZJZQK)
    assert config is not None
    assert config.mode == "动静结合"
    assert config.max_static == 5
    assert config.prepage == 15
    assert config.declared == 107
    assert config.api == API
    assert config.form == {"channelid": "200210", "classsql": "chnlid=1780", "sortfield": "-docorderpri,-docreltime",
                           "classcol": "publishyear", "classsort": "0"}


def test_static_rows(gzjzqk):
    rows = static_rows(gzjzqk)
    assert len(rows) == 75
    assert len({href for href, *_ in rows}) == 75
    href, text, title, date = rows[0]
    assert href == "../../zdlyxxgk/ssjygk/sjccjg/202511/t20251111_103189.htm"
    assert title == "平潭综合实验区社会事业局关于2025年中小学教育装备产品“双随机、一公开”抽查工作情况的通报"
    assert text == title
    assert date == "2025-11-11"
    assert rows[1][0] == "../../zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqjjf/fdzdgknr/gzdt/202504/t20250408_98328.htm"
    assert rows[1][2] == "平潭综合实验区经济发展局关于2024年度拍卖企业年度核查工作情况的通报"
    assert rows[1][3] == "2025-04-03"
    assert rows[2][0] == "./202503/t20250321_97999.htm"
    assert rows[-1][0] == "./202104/t20210416_25621.htm"
    assert rows[-1][2] == "2021年第一季度区公安局治安巡特警支队开展保安单位“双随机”抽查工作情况"


def test_listing_declares_107_and_lists_75(parsed):
    _, out = parsed
    [listing] = [o for o in out if isinstance(o, ListingItem)]
    assert listing["declared"] == 107
    assert len(listing["rows"]) == 75
    assert listing["rows"][0] == "https://www.pingtan.gov.cn/zwgk/zdlyxxgk/ssjygk/sjccjg/202511/t20251111_103189.htm"
    assert listing["column"] == GZJZQK
    assert listing["mechanism"] == "trs_dynamic/动静结合"
    assert [o["kind"] for o in out if isinstance(o, DocumentItem)] == ["list"]


def test_pages_6_to_8_come_from_the_search_api(parsed):
    _, out = parsed
    posts = [o for o in out if isinstance(o, FormRequest)]
    assert [r.url for r in posts] == [f"{API}#page={n}&classsql=chnlid%3D1780" for n in (6, 7, 8)]
    forms = [{k: v[0] for k, v in parse_qs(r.body.decode()).items()} for r in posts]
    assert [f["page"] for f in forms] == ["6", "7", "8"]
    for form in forms:
        assert form["channelid"] == "200210"
        assert form["classsql"] == "chnlid=1780"
        assert form["prepage"] == "15"
        assert form["sortfield"] == "-docorderpri,-docreltime"
    assert all(r.method == "POST" and r.headers[b"Referer"] == GZJZQK.encode() for r in posts)


def test_every_static_row_not_followed_is_recorded(parsed):
    _, out = parsed
    decisions = [o for o in out if isinstance(o, LinkDecisionItem)]
    documents = [o for o in out if isinstance(o, Request) and o.meta.get("ogi_kind") in ("article", "attachment")]
    assert len(decisions) + len(documents) == 75  # every row is followed or recorded
    assert documents == []  # a column of inspection notices: no annual report in it
    assert {d["reason"] for d in decisions} == {"not-report", "confusable"}
    first = decisions[0]
    assert first["url"] == "https://www.pingtan.gov.cn/zwgk/zdlyxxgk/ssjygk/sjccjg/202511/t20251111_103189.htm"
    assert first["title"] == "平潭综合实验区社会事业局关于2025年中小学教育装备产品“双随机、一公开”抽查工作情况的通报"
    assert first["list_url"] == GZJZQK


def test_api_answer_rows_are_followed_or_recorded(parsed):
    _, out = parsed
    page6 = next(o for o in out if isinstance(o, FormRequest))
    rows = [  # rebuilt (README): the shape the page's template and the repository's crawler read
        {"doctitle": "平潭综合实验区公安局2020年政府信息公开工作年度报告", "docreltime": "2021-01-20 10:00:00",
         "chnldocurl": "https://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/202101/t20210120_20001.htm"},
        {"doctitle": "2020年第四季度区公安局开展“双随机”抽查工作情况", "docreltime": "2021-01-10 10:00:00",
         "docpuburl": "./202101/t20210110_20000.htm"},
    ]
    out6 = list(page6.callback(api_answer(page6, rows, 8), **page6.cb_kwargs))
    [doc] = [o for o in out6 if isinstance(o, DocumentItem)]
    assert doc["kind"] == "list"
    [request] = [o for o in out6 if isinstance(o, Request)]
    assert request.url == "https://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/202101/t20210120_20001.htm"
    ctx = request.cb_kwargs["ctx"]
    assert (ctx["title"], ctx["year"], ctx["year_source"]) == (rows[0]["doctitle"], 2020, "title")
    assert ctx["list_url"] == GZJZQK
    [decision] = [o for o in out6 if isinstance(o, LinkDecisionItem)]
    assert decision["url"] == "https://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/202101/t20210110_20000.htm"
    assert decision["reason"] == "not-report"
    [listing] = [o for o in out6 if isinstance(o, ListingItem)]
    assert (listing["declared"], listing["column"], len(listing["rows"])) == (107, GZJZQK, 2)


def test_completeness_of_the_real_column(parsed):
    _, out = parsed
    [static] = [o for o in out if isinstance(o, ListingItem)]
    col = Column()
    col.add(static)
    found = source_completeness([(GZJZQK, col)])
    assert (found.state, found.declared, found.listed, found.missing) == ("partial", 107, 75, 32)
    assert "32 of 107 declared items missing" in found.detail
    for page, n in ((6, 15), (7, 15), (8, 2)):  # the API pages (rebuilt): 75 + 32 = 107
        col.add({"declared": 107, "rows": [f"{GZJZQK}api/{page}/{i}.htm" for i in range(n)]})
    found = source_completeness([(GZJZQK, col)])
    assert (found.state, found.declared, found.listed, found.missing) == ("ok", 107, 107, 0)


# ---- 动态 (dynamic only): 其他文件, ChnlId 1427 ------------------------------------------------------------------
def test_dynamic_config_from_the_pages_own_expressions(qtwj):
    config = list_config(qtwj.text, QTWJ)
    assert config is not None
    assert (config.mode, config.max_static, config.prepage, config.declared) == ("动态", 0, 10, None)
    assert config.form == {"channelid": "200210", "classsql": "parentid,chnlid+=1427*modal=1", "sortfield": "-pubdate"}
    assert config.api == API  # no listApi on the page: list2.trsapi's endpoint
    assert static_rows(qtwj) == []


def test_dynamic_list_asks_page_1_then_the_pages_it_declares(qtwj):
    spider = make_spider(QTWJ)
    out = list(spider.parse(qtwj, ctx_for(QTWJ)))
    [first] = [o for o in out if isinstance(o, FormRequest)]
    form = {k: v[0] for k, v in parse_qs(first.body.decode()).items()}
    assert form == {"channelid": "200210", "classsql": "parentid,chnlid+=1427*modal=1", "sortfield": "-pubdate",
                    "page": "1", "prepage": "10"}
    [listing] = [o for o in out if isinstance(o, ListingItem)]
    assert (listing["declared"], listing["rows"]) == (None, [])
    rows = [{"doctitle": f"文件{i}", "chnldocurl": f"{QTWJ}202401/t2024010{i}_{i}.htm"} for i in range(10)]
    page1 = list(first.callback(api_answer(first, rows, 3), **first.cb_kwargs))
    pages = [{k: v[0] for k, v in parse_qs(r.body.decode()).items()}["page"]
             for r in page1 if isinstance(r, FormRequest)]
    assert pages == ["2", "3"]
    [listing1] = [o for o in page1 if isinstance(o, ListingItem)]
    assert (listing1["declared"], listing1["declared_pages"], len(listing1["rows"])) == (None, 3, 10)
    last_request = next(r for r in page1 if isinstance(r, FormRequest) and b"page=3" in r.body)
    last = list(last_request.callback(api_answer(last_request, rows[:4], 3), **last_request.cb_kwargs))
    [listing3] = [o for o in last if isinstance(o, ListingItem)]
    assert listing3["declared"] == 24  # the last page makes the total known: 2 × 10 + 4


def test_js_value_subset():
    text = 'var a = "x"; var b = (a == "y") ? "p" : "q";\nvar SiteInfo = {searchId: 7, n: "" || "k"};'
    assert js_value("b", text) == "q"
    assert js_value("b + '*m'", text) == "q*m"
    assert js_value("SiteInfo.searchId", text) == 7
    assert js_value("SiteInfo.n", text) == "k"
    assert js_value("undefinedName", text) is None


# ---- a real article page with one attachment --------------------------------------------------------------
def test_real_article_attachment():
    response = real("article/pingtan-ghxx-gzjzqk-88515-xls-article.html", ARTICLE)
    spider = make_spider(ARTICLE)
    ctx = {**ctx_for(ARTICLE), "depth": 2, "title": "区公安局2024年第一季度易制毒化学品企事业抽查工作情况"}
    out = list(spider.parse_article(response, ctx))
    assert [o["kind"] for o in out if isinstance(o, DocumentItem)] == ["article"]
    [attachment] = [o for o in out if isinstance(o, Request)]
    assert attachment.url == "https://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/202403/W020240329549500303101.xls"
    assert attachment.meta["ogi_kind"] == "attachment"
    assert attachment.cb_kwargs["ctx"]["referer"] == ARTICLE


def test_real_attachment_only_article_is_not_a_stub():
    """pingtan 64558: the body is only 详见附件电子全文 and one PDF link: the PDF is followed."""
    url = ("https://www.pingtan.gov.cn/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/fdzdgknr/10qtwjdzjg/201804/"
           "t20180417_64558.htm")
    response = real("article/pingtan-czj-qtwj-64558-pdf-only-article-excerpt.html", url)
    spider = make_spider(url)
    out = list(spider.parse_article(response, {**ctx_for(url), "depth": 2}))
    assert [o["kind"] for o in out if isinstance(o, DocumentItem)] == ["article"]
    assert not [o for o in out if not isinstance(o, DocumentItem | Request)]  # no stub, no failure
    [pdf] = [o for o in out if isinstance(o, Request)]
    assert pdf.url == ("https://www.pingtan.gov.cn/attachFiles/myfile/DATE_20180516/"
                       "2c90b38b633d3f120163669c4fa0009c.pdf")
    assert pdf.meta["ogi_kind"] == "attachment"
    assert pdf.cb_kwargs["ctx"]["referer"] == url


@pytest.mark.parametrize("name", ["pingtan-gsgg-9612-image-body.html", "pingtan-ghxx-qygh-94095-image-body.html",
                                  "pingtan-gaj-jgszzyznbs-77176-image-body-excerpt.html"])
def test_real_article_pages_loading_the_list_library_are_articles(name):
    """pingtan article pages ``require([... "list2.trsapi"])`` for their related-documents box (9612 does): an
    article, archived and parsed as one, never a list whose rows are its navigation."""
    url = "https://www.pingtan.gov.cn/zwgk/gsgg/201805/t20180504_9612.htm"
    response = real(f"article/{name}", url)
    spider = make_spider(url)
    assert not spider.looks_like_list(response)
    out = list(spider.parse_article(response, {**ctx_for(url), "depth": 2}))
    assert [o["kind"] for o in out if isinstance(o, DocumentItem)] == ["article"]
