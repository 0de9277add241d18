"""A replay of the saved REAL 动静结合 column (pingtan 工作进展情况) on loopback, crawled twice end to end.

The list page is the saved real page; the search API pages 6-8 it needs are rebuilt from the page's own
config (README: no real API answer was saved): 15 + 15 + 2 rows, so the column's 107 declared items are all
listable. Measured: completeness of the real column, the link decisions, and the bytes a re-crawl of the
unchanged column moves (target ≤ 2 % of the first crawl's).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from ogi.demo.portal import Answer, Portal, PortalServer

from .conftest import query, run_ogi

pytestmark = pytest.mark.slow

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
COLUMN = "http://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/"  # http: the loopback replay is a plain HTTP proxy


def rebuilt_api(method: str, query_: dict[str, list[str]], data: bytes) -> Answer:
    """The search API as the page's config asks it (channelid 200210, classsql chnlid=1780, prepage 15)."""
    form = {k: v[0] for k, v in parse_qs(data.decode()).items()}
    if method != "POST" or form.get("channelid") != "200210" or form.get("classsql") != "chnlid=1780":
        return Answer(body=b'{"pageCount": 0, "data": []}', ctype="application/json", cache=False)
    page, per = int(form["page"]), int(form["prepage"])
    start = (page - 1) * per
    rows = [{"doctitle": f"（重建）区某局2020年第{n % 4 + 1}季度“双随机”抽查工作情况",
             "chnldocurl": f"{COLUMN}2020{n % 12 + 1:02d}/t2020{n % 12 + 1:02d}01_{20000 + n}.htm",
             "docreltime": "2020-06-01 10:00:00"} for n in range(start, min(start + per, 107)) if n >= 75]
    body = json.dumps({"pageCount": 8, "data": rows}, ensure_ascii=False).encode()
    return Answer(body=body, ctype="application/json; charset=utf-8", cache=False)


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    portal = Portal()
    portal.add(COLUMN, Answer(body=(PAGES / "trs_dynamic/pingtan-ghxx-gzjzqk-list.html").read_bytes()))
    portal.add("http://www.pingtan.gov.cn/fjdzapp/search", rebuilt_api)
    server = PortalServer(portal).start()
    db = tmp_path_factory.mktemp("real") / "ogi.db"
    args = ["crawl", "--db", str(db), "--allow-private", "--host-map", f"pingtan.gov.cn=127.0.0.1:{server.port}",
            "--fast", "--quiet", "--url", COLUMN]
    try:
        first = run_ogi(*args)
        sent, hits_first = portal.bytes_sent, dict(portal.hits)
        second = run_ogi(*args)
        yield {"db": db, "first": first, "second": second, "bytes_first": sent,
               "bytes_second": portal.bytes_sent - sent, "hits_first": hits_first}
    finally:
        server.stop()


def test_both_crawls_complete(replay):
    for name in ("first", "second"):
        assert replay[name].returncode == 0, replay[name].stderr[-2000:]


def test_the_real_column_is_complete(replay):
    rows = query(replay["db"], "SELECT run_id, completeness, declared, listed, missing FROM run_sources ORDER BY run_id")
    assert rows == [(1, "ok", 107, 107, 0), (2, "ok", 107, 107, 0)]


def test_every_row_not_followed_is_recorded(replay):
    reasons = dict(query(replay["db"], "SELECT reason, count(*) FROM link_decisions WHERE run_id = 1 GROUP BY 1"))
    assert sum(reasons.values()) == 107  # no annual report in this column: every row recorded with a reason
    assert set(reasons) == {"not-report", "confusable"}


def test_no_url_fetched_twice(replay):
    hits = {u: n for u, n in replay["hits_first"].items() if "pingtan" in u}
    assert hits == {"http://www.pingtan.gov.cn/robots.txt": 1, "http://www.pingtan.gov.cn/zwgk/ghxx/gzjzqk/": 1,
                    "http://www.pingtan.gov.cn/fjdzapp/search": 3}  # API pages 6, 7, 8 (one POST each)


def test_recrawl_moves_at_most_2_percent(replay):
    first, second = replay["bytes_first"], replay["bytes_second"]
    assert first > 70_000  # the real page (71,284 bytes) and the API pages
    assert second <= 0.02 * first, (first, second)

