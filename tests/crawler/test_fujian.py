"""The sample portal's fj.fixture.test (TRS 动静结合 and 动态 columns, gkmlpt under a prefix with a hash
category), crawled end to end twice: every report found, completeness measured, nothing dropped unrecorded,
and a re-crawl of the unchanged portal moves ≤ 2 % of the first crawl's bytes."""

from __future__ import annotations

import pytest

from ogi.demo.portal import FJ_URL, Portal, PortalServer

from .conftest import query, run_ogi
from .test_crawl import crawl_args

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fj(tmp_path_factory):
    server = PortalServer(Portal()).start()
    db = tmp_path_factory.mktemp("fj") / "ogi.db"
    try:
        first = run_ogi(*crawl_args(server, db, "--url", FJ_URL))
        sent, hits = server.portal.bytes_sent, dict(server.portal.hits)
        second = run_ogi(*crawl_args(server, db, "--url", FJ_URL))
        yield {"db": db, "portal": server.portal, "first": first, "second": second, "bytes_first": sent,
               "bytes_second": server.portal.bytes_sent - sent, "hits_first": hits}
    finally:
        server.stop()


def test_crawls_exit_zero(fj):
    for name in ("first", "second"):
        assert fj[name].returncode == 0, fj[name].stderr[-3000:]
        assert "Traceback" not in fj[name].stderr


def test_every_report_is_found_with_its_year(fj):
    expected = {e.url: e for e in fj["portal"].fj_expected}
    assert len(expected) == 22
    reports = {u: (a, y) for u, a, y in query(fj["db"], "SELECT url, agency, year FROM reports")}
    assert set(reports) == set(expected)
    for url, exp in expected.items():
        assert reports[url][1] == exp.year, url


def test_the_ambiguous_title_is_decided_by_its_document(fj):
    [(url,)] = query(fj["db"], "SELECT url FROM reports WHERE url LIKE '%t20240220_3090%'")
    assert url.endswith("/czj/zfxxgknb/202402/t20240220_3090.htm")  # titled …政务公开工作年度报告


def test_the_short_page_is_searched_for_its_attachment(fj):
    stubs = query(fj["db"], "SELECT url FROM failures WHERE reason = 'stub'")
    assert stubs == []
    assert query(fj["db"], "SELECT count(*) FROM reports WHERE url LIKE '%W020240410.doc'") == [(1,)]
    # the page itself only carries the report's file: archived, not a failure (it was `not-report`)
    assert query(fj["db"], "SELECT reason FROM failures WHERE url LIKE '%t20240410_3190.htm'") == []
    assert query(fj["db"], "SELECT count(*) FROM fetches WHERE url LIKE '%t20240410_3190.htm'")[0][0] >= 1


def test_completeness_is_measured(fj):
    rows = query(fj["db"], "SELECT run_id, status, completeness, declared, listed, missing FROM run_sources"
                 " ORDER BY run_id")
    # 13 (动静结合 recordCount) + 7 (动态: 5 + 2 rows, known from the last API page) + 3 (gkmlpt total)
    assert rows == [(1, "ok", "ok", 23, 23, 0), (2, "ok", "ok", 23, 23, 0)]
    assert query(fj["db"], "SELECT status FROM runs ORDER BY id") == [("ok",), ("ok",)]


def test_rows_not_followed_are_recorded(fj):
    rows = query(fj["db"], "SELECT url, reason, title FROM link_decisions WHERE run_id = 1")
    assert rows == [("http://fj.fixture.test/zwgk/zfxxgk/czj/zfxxgknb/202403/t20240301_3091.htm", "not-report",
                     "关于印发2024年政务公开工作要点的通知")]


def test_no_get_fetched_twice_and_the_hash_category_is_used(fj):
    hits = {u: n for u, n in fj["hits_first"].items() if "fj.fixture.test" in u}
    assert {n for u, n in hits.items() if "fjdzapp" not in u} == {1}
    assert hits["http://fj.fixture.test/fjdzapp/search"] == 3  # czj page 2, gaj pages 1 and 2
    assert "http://fj.fixture.test/xxgk/gkmlpt/api/all/2541?page=2&sid=350001" in hits


def test_recrawl_moves_at_most_2_percent(fj):
    assert fj["bytes_second"] <= 0.02 * fj["bytes_first"], (fj["bytes_first"], fj["bytes_second"])
