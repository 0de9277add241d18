"""Caps are settings, and hitting one is a record (issue 12): pagers without end stop at the family's page cap
(OGI_TRS_MAX_PAGES, OGI_GENERIC_MAX_PAGES, OGI_GKMLPT_MAX_PAGES, set here with ``ogi crawl --set``), the first
page not read is a ``page-limit`` link decision, and the source is ``partial`` (the run not ``ok``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawler.spiders.auto import AutoSpider
from tests.faults.server import FaultServer, Page, html, link, report_page

from .conftest import query, run_ogi

NAV = "".join(f"<a href='/nav{i}.html'>栏目导航{i}</a>" for i in range(60))  # a real page's length, not a stub
HUGE = 1_000_000  # pages (or items) the pagers claim


def endless(host: str, path: str, server: FaultServer) -> Page | None:
    """Four pagers that never end (each bounded by the server at 400 pages), one report listed per page."""
    if m := re.fullmatch(r"/(?:g|p|trs)/r(\d+)\.html|/trs/\d{6}/t20240101_(\d+)\.html", path):
        return report_page(2000 + int(m.group(1) or m.group(2)) % 25)
    if m := re.fullmatch(r"/g/(\d+)\.html", path):  # a 下一页 chain, no count
        n = int(m.group(1))
        return Page(body=html("年报", NAV + link(f"/g/r{n}.html", f"{1990 + n}年政府信息公开工作年度报告第{n}篇")
                              + f"<a href='/g/{n + 1}.html'>下一页</a>"))
    if m := re.fullmatch(r"/p/list\.html\?page=(\d+)", path):  # page=N up to 共N页
        n = int(m.group(1))
        return Page(body=html("年报", NAV + link(f"/p/r{n}.html", f"{1990 + n}年政府信息公开工作年度报告第{n}篇")
                              + f"<p>共{HUGE}页</p>"))
    if m := re.fullmatch(r"/trs/index(?:_(\d+))?\.html", path):  # a TRS pager script
        n = int(m.group(1) or 0)
        return Page(body=html("年报", NAV + link(f"./202401/t20240101_{n}.html", f"{1990 + n}年政府信息公开工作年度报告")
                              + f"<script>createPageHTML({HUGE}, {n}, \"index\", \"html\");</script>"))
    if path == "/quiet/list.html":  # a column that lists nothing and loses nothing
        return Page(body=html("年报", NAV + "<p>暂无信息</p>"))
    if path == "/gkmlpt/index":
        return Page(body=html("政府信息公开目录", "<div id='app'></div><script>window._CONFIG = {SID: '1', TREE: ["
                              "{id: 3011, name: '政府信息公开年报'}]};</script>" + "<!-- -->" * 60))
    if m := re.fullmatch(r"/gkmlpt/api/all/3011\?page=(\d+)&sid=1", path):
        n = int(m.group(1))
        arts = [{"id": n, "title": f"{1990 + n}年政府信息公开工作年度报告", "url": f"/g/r{1000 + n}.html",
                 "display_publish_time": 1706486400}]
        return Page(body=json.dumps({"total": HUGE, "articles": arts}, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json"})
    return None


STARTS = {"generic-next": "/g/1.html", "generic-count": "/p/list.html?page=1", "trs": "/trs/index.html",
          "gkmlpt": "/gkmlpt/index", "quiet": "/quiet/list.html"}
CAPS = {"OGI_GENERIC_MAX_PAGES": 3, "OGI_TRS_MAX_PAGES": 4, "OGI_GKMLPT_MAX_PAGES": 2}


@pytest.fixture(scope="module")
def capped(tmp_path_factory) -> dict[str, Any]:
    server = FaultServer(fallback=endless).start()
    db = tmp_path_factory.mktemp("caps") / "ogi.db"
    base = f"http://127.0.0.1:{server.port}"
    try:
        args = ["crawl", "--db", str(db), "--allow-private", "--fast", "--download-timeout", "2", "--quiet",
                "-s", "DEPTH_LIMIT=50"]
        for name, value in CAPS.items():
            args += ["--set", f"{name}={value}"]
        for start in STARTS.values():
            args += ["--url", base + start]
        result = run_ogi(*args, timeout=180)
    finally:
        server.stop()
    return {"result": result, "db": db, "base": base, "hits": [p for _h, p, _ in server.hits]}


def _source(out: dict[str, Any], family: str) -> str:
    return out["base"] + STARTS[family]


@pytest.mark.slow
@pytest.mark.parametrize(("family", "pages", "cap", "first_unread"), [
    ("generic-next", r"/g/\d+\.html", 3, "/g/4.html"),
    ("generic-count", r"/p/list\.html\?page=\d+", 3, "/p/list.html?page=4"),
    ("trs", r"/trs/index(_\d+)?\.html", 4, "/trs/index_4.html"),
    ("gkmlpt", r"/gkmlpt/api/all/3011\?page=\d+&sid=1", 2, "/gkmlpt/api/all/3011?page=3&sid=1"),
])
def test_a_pager_without_end_stops_at_its_cap_and_says_so(capped, family, pages, cap, first_unread):
    out = capped
    assert out["result"].returncode == 0, out["result"].stderr[-3000:]
    served = sorted({p for p in out["hits"] if re.fullmatch(pages, p)})
    assert len(served) == cap, served  # the cap set with --set, not the default (200/500), and not the server's 400
    source = _source(out, family)
    decisions = query(out["db"], "SELECT url, detail FROM link_decisions WHERE source = ? AND reason = 'page-limit'",
                      source)
    assert [u for u, _ in decisions] == [out["base"] + first_unread], decisions
    assert any(str(cap) in (d or "") for _, d in decisions)
    (status, detail), = query(out["db"], "SELECT status, detail FROM run_sources WHERE source = ?", source)
    assert status == "partial", (status, detail)
    assert "page-limit" in (detail or "")
    # every item listed on a page that was read is archived (fetched) or recorded
    fetched = {u for (u,) in query(out["db"], "SELECT url FROM fetches")}
    recorded = {u for (u,) in query(out["db"], "SELECT url FROM failures")}
    listed = {u for (u,) in query(out["db"], "SELECT url FROM link_decisions WHERE reason != 'page-limit'")}
    items = [p for p in out["hits"] if re.search(r"/r\d+\.html$|/t20240101_\d+\.html$", p)]
    assert items and all(out["base"] + p in fetched | recorded | listed for p in items)


@pytest.mark.slow
def test_the_run_with_a_capped_source_is_not_ok_and_says_what_was_lost(capped):
    (status, detail), = query(capped["db"], "SELECT status, detail FROM runs")
    assert status == "partial", (status, detail)
    assert "lost: page-limit×4" in detail, detail  # one per capped source
    assert "run 1: partial" in capped["result"].stdout


@pytest.mark.slow
def test_no_report_with_losses_is_partial_and_nothing_listed_is_empty(capped):
    """The fault server's report pages are not reports: every source finds 0 reports. A source that read
    pages and lost some is ``partial`` with what it lost; one that listed nothing and lost nothing ``empty``."""
    rows = dict((s, (st, d)) for s, st, d in query(capped["db"], "SELECT source, status, detail FROM run_sources"))
    assert all(n == 0 for (n,) in query(capped["db"], "SELECT reports_found FROM run_sources"))
    for family in ("generic-next", "generic-count", "trs", "gkmlpt"):
        status, detail = rows[_source(capped, family)]
        assert status == "partial" and "0 reports; lost: page-limit×1" in detail, (family, status, detail)
    assert rows[_source(capped, "quiet")][0] == "empty", rows[_source(capped, "quiet")]


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, (500, 200, 200)),  # the defaults, as before the caps were settings
    ({"OGI_TRS_MAX_PAGES": 7, "OGI_GENERIC_MAX_PAGES": "5", "OGI_GKMLPT_MAX_PAGES": 3}, (7, 5, 3)),
    ({"OGI_TRS_MAX_PAGES": 0, "OGI_GENERIC_MAX_PAGES": -1}, (500, 200, 200)),  # not a cap: the default
])
def test_caps_are_read_from_the_settings(settings, expected, tmp_path: Path):
    crawler = get_crawler(AutoSpider, {"OGI_EXTRA_SITES": ["fixture.test"], **settings})
    crawler._apply_settings()
    spider = AutoSpider.from_crawler(crawler, url="http://ministry.fixture.test/zfxxgk/zfxxgknb/index.html",
                                     source="t")
    assert (spider.trs_max_pages, spider.generic_max_pages, spider.gkmlpt_max_pages) == expected


def test_a_hanweb_column_beyond_its_window_cap_records_the_records_not_asked_for() -> None:
    """Hanweb's dataproxy windows are capped too (OGI_HANWEB_MAX_WINDOWS): the records beyond are a
    page-limit decision naming the first record not asked for, never windows silently left out."""
    from scrapy.http import FormRequest, HtmlResponse

    from crawler.items import LinkDecisionItem
    from crawler.spiders.families.hanweb import dataproxy_windows

    assert dataproxy_windows(100, 10, 0, cap=3) == [(1, 10), (11, 20), (21, 30)]
    crawler = get_crawler(AutoSpider, {"OGI_EXTRA_SITES": ["fixture.test"], "OGI_HANWEB_MAX_WINDOWS": 3})
    crawler._apply_settings()
    url = "http://province.fixture.test/col/col1001/index.html"
    spider = AutoSpider.from_crawler(crawler, url=url, source="t")
    body = ("<html><body><script type='text/xml'><datastore><recordset>"
            "<record><![CDATA[<li><a href='/art/2024/1/2/art_1001_1.html'>2023年政府信息公开工作年度报告</a></li>]]></record>"
            "</recordset></datastore></script><script>var totalRecord = 1000; var perPage = 10; "
            "webid=1; columnid=1001; unitid=7;</script></body></html>")
    response = HtmlResponse(url, body=body.encode(), encoding="utf-8")
    ctx = {"source": "t", "site": "province.fixture.test", "family": "hanweb"}
    out = list(spider.hanweb_parse_list(response, ctx))
    windows = [r for r in out if isinstance(r, FormRequest)]
    assert len(windows) == 3
    [limit] = [d for d in out if isinstance(d, LinkDecisionItem) and d["reason"] == "page-limit"]
    assert "startrecord=32&endrecord=1000" in limit["url"]
    assert "records 32-1000 of 1000" in limit["detail"]
