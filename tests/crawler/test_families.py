"""Family list parsers against frozen pages (served bytes of the sample portal, built in-process)."""

from __future__ import annotations

import pytest
from scrapy.http import FormRequest, HtmlResponse, Request

from crawler.items import DocumentItem, FailureItem
from crawler.spiders.auto import detect_family
from crawler.spiders.families.generic import generic_page_urls
from crawler.spiders.families.gkmlpt import gkmlpt_config, load_json, report_categories
from crawler.spiders.families.hanweb import dataproxy_windows, hanweb_params, hanweb_records
from crawler.spiders.families.trs import trs_page_urls
from ogi.demo.portal import Portal

from .conftest import ctx_for, make_spider, portal_response

MIN = "http://ministry.fixture.test/zfxxgk/zfxxgknb/"
PROV = "http://province.fixture.test/col/col1001/index.html"
CITY = "http://city.fixture.test/gkmlpt/index"
COUNTY = "http://county.fixture.test/InfoPublic.aspx?cid=1019&pid=971&page=1&kw="


@pytest.fixture(scope="module")
def portal() -> Portal:
    return Portal()


def split(results):
    requests = [r for r in results if isinstance(r, Request)]
    failures = [r for r in results if isinstance(r, FailureItem)]
    docs = [r for r in results if isinstance(r, DocumentItem)]
    return requests, failures, docs


def test_trs_pager_zero_based():
    text = 'createPageHTML(4, 0, "index", "html");'
    assert trs_page_urls(text, MIN + "index.html") == [MIN + "index.html", MIN + "index_1.html",
                                                       MIN + "index_2.html", MIN + "index_3.html"]


def test_trs_pager_one_based():
    text = "createPageHTML('paging', 3, 1, 'index', 'shtml', 45);"
    assert trs_page_urls(text, MIN + "index.shtml") == [MIN + "index.shtml", MIN + "index_2.shtml",
                                                        MIN + "index_3.shtml"]


def test_trs_pager_fallbacks():
    assert trs_page_urls("var countPage = 2;", MIN + "index.htm") == [MIN + "index.htm", MIN + "index_1.htm"]
    assert trs_page_urls("no pager", MIN) == []


def test_detect_family(portal):
    assert detect_family(portal_response(portal, MIN + "index.html")) == "trs"
    assert detect_family(portal_response(portal, PROV)) == "hanweb"
    assert detect_family(portal_response(portal, CITY)) == "gkmlpt"
    assert detect_family(portal_response(portal, COUNTY)) == "generic"


def test_trs_list_page(portal):
    spider = make_spider(MIN + "index.html")
    response = portal_response(portal, MIN + "index.html")
    requests, failures, docs = split(list(spider.parse(response, ctx_for(MIN + "index.html"))))
    urls = [r.url for r in requests]
    assert docs
    assert docs[0]["kind"] == "list"
    assert MIN + "index_1.html" in urls
    assert MIN + "index_3.html" in urls
    articles = [r for r in requests if r.meta["ogi_kind"] == "article"]
    assert len(articles) >= 4
    # full titles come from title= although the visible text is cut
    assert all(r.cb_kwargs["ctx"]["title"].endswith("年度报告") or "图片版" in r.cb_kwargs["ctx"]["title"]
               for r in articles)
    assert {r.cb_kwargs["ctx"]["year"] for r in articles} <= {2019, 2020, 2021, 2022, 2023, 2024, 2025}
    assert [f["reason"] for f in failures] == ["confusable"]  # the 政府网站工作年度报表 sibling
    assert all(r.url.startswith(MIN) for r in articles)


def test_trs_gbk_page_decodes(portal):
    url = MIN + "202402/t20240201_100200.html"
    response = portal_response(portal, url)
    assert "堃" in response.text  # gb2312 declared, GBK-only character decoded


def test_hanweb_column_and_windows(portal):
    spider = make_spider(PROV)
    response = portal_response(portal, PROV)
    records = hanweb_records(response.text)
    assert len(records) == 3
    params = hanweb_params(response.text, PROV)
    assert params["columnid"] == "1001"
    assert params["unitid"] == "5001"
    assert params["webid"] == "1"
    assert dataproxy_windows(8, 3, 3) == [(4, 6), (7, 8)]
    requests, _failures, _ = split(list(spider.parse(response, ctx_for(PROV))))
    posts = [r for r in requests if isinstance(r, FormRequest) and r.method == "POST"]
    assert [r.url.split("?")[1] for r in posts] == ["startrecord=4&endrecord=6&perpage=3",
                                                    "startrecord=7&endrecord=8&perpage=3"]
    assert b"columnid=1001" in posts[0].body
    assert posts[0].headers[b"Referer"] == PROV.encode()
    articles = [r for r in requests if r.meta["ogi_kind"] == "article"]
    assert len(articles) == 3
    # a window answer: split dates, an off-site mirror row refused
    window = portal_response(portal, posts[1].url, method="POST", body=posts[1].body)
    requests2, failures2, docs2 = split(list(spider.hanweb_parse_window(window, posts[1].cb_kwargs["ctx"])))
    assert len(requests2) == 1
    assert [f["reason"] for f in failures2] == ["offsite"]
    assert docs2[0]["kind"] == "list"


def test_hanweb_empty_window_is_partial(portal):
    spider = make_spider(PROV)
    url = "http://province.fixture.test/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=3&perpage=3"
    response = portal_response(portal, url)  # a GET without the form answers an empty datastore
    _, failures, _ = split(list(spider.hanweb_parse_window(response, ctx_for(PROV))))
    assert failures[0]["reason"] == "partial/empty-page"
    assert failures[0]["partial"]


def test_hanweb_article_attachments(portal):
    spider = make_spider(PROV)
    url = "http://province.fixture.test/art/2024/1/2/art_1001_41790.html"
    ctx = {**ctx_for(PROV), "title": "t"}
    requests, _, docs = split(list(spider.parse_article(portal_response(portal, url), ctx)))
    assert docs[0]["kind"] == "article"
    assert sorted(r.url.rsplit("filename=", 1)[1][-4:] for r in requests) == [".doc", ".pdf"]
    assert all(r.meta["ogi_kind"] == "attachment" for r in requests)


def test_gkmlpt_config_and_json(portal):
    response = portal_response(portal, CITY)
    sid, tree = gkmlpt_config(response.text)
    assert sid == "755001"
    assert report_categories(tree) == ["3011"]
    assert load_json(b"\xef\xbb\xbf{\"total\": 1}") == {"total": 1}
    spider = make_spider(CITY)
    requests, _, _ = split(list(spider.parse(response, ctx_for(CITY))))
    assert [r.url for r in requests] == ["http://city.fixture.test/gkmlpt/api/all/3011?page=1&sid=755001"]
    api = portal_response(portal, requests[0].url)
    requests2, _, _ = split(list(spider.gkmlpt_parse_api(api, requests[0].cb_kwargs["ctx"])))
    pages = [r.url for r in requests2 if r.meta["ogi_kind"] == "list"]
    assert pages == ["http://city.fixture.test/gkmlpt/api/all/3011?page=2&sid=755001"]
    assert len([r for r in requests2 if r.meta["ogi_kind"] == "article"]) == 3


def test_gkmlpt_html_error_page_is_a_failure():
    spider = make_spider(CITY)
    url = "http://city.fixture.test/gkmlpt/api/all/3011?page=1&sid=1"
    response = HtmlResponse(url, body="<html><body>系统繁忙</body></html>".encode(), encoding="utf-8",
                            request=Request(url))
    _, failures, docs = split(list(spider.gkmlpt_parse_api(response, ctx_for(CITY))))
    assert docs
    assert failures[0]["reason"] == "error-page-200"


def test_generic_next_links(portal):
    response = portal_response(portal, COUNTY)
    urls = generic_page_urls(response)
    assert "http://county.fixture.test/InfoPublic.aspx?cid=1019&pid=971&page=2&kw=" in urls


def test_soft_404_and_wall_on_article(portal):
    spider = make_spider(MIN)
    url = MIN + "202401/t20240126_100301.html"
    _, failures, docs = split(list(spider.parse_article(portal_response(portal, url), ctx_for(MIN))))
    assert not docs
    assert failures[0]["reason"] == "soft-404"


def test_js_download_link_is_recorded_not_followed():
    spider = make_spider(MIN)
    body = ('<html><body><div class="TRS_Editor">' + "正文" * 300 +
            "<a href=\"javascript:download('/files/a.doc')\">附件.doc</a></div></body></html>").encode()
    url = MIN + "202401/t1.html"
    response = HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))
    requests, failures, docs = split(list(spider.parse_article(response, ctx_for(MIN))))
    assert docs
    assert not requests
    assert failures[0]["reason"] == "js-link"
