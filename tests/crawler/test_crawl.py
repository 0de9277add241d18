"""End-to-end crawls of the sample portal with the real spiders, in subprocesses; assertions on the archive."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.pipelines import RUN_PARTIAL
from ogi.demo.portal import HUB_URL, Portal, PortalServer

from .conftest import ROOT, query, run_ogi

pytestmark = pytest.mark.slow


def crawl_args(server: PortalServer, db: Path, *extra: str) -> list[str]:
    return ["crawl", "--db", str(db), "--allow-private", "--host-map", f"fixture.test=127.0.0.1:{server.port}",
            "--fast", "--download-timeout", "1.5", "--quiet", *extra]


@pytest.fixture(scope="module")
def hub_crawl(tmp_path_factory):
    """The hub crawled twice (first crawl, then an incremental re-crawl of the unchanged portal)."""
    server = PortalServer(Portal(slow_seconds=3.0)).start()
    db = tmp_path_factory.mktemp("hub") / "ogi.db"
    try:
        first = run_ogi(*crawl_args(server, db, "--url", HUB_URL))
        bytes_first = server.portal.bytes_sent
        hits_first = dict(server.portal.hits)
        second = run_ogi(*crawl_args(server, db, "--url", HUB_URL))
        bytes_second = server.portal.bytes_sent - bytes_first
        yield {"server": server, "db": db, "first": first, "second": second, "bytes_first": bytes_first,
               "bytes_second": bytes_second, "hits_first": hits_first}
    finally:
        server.stop()


def test_crawl_exits_zero_with_summary(hub_crawl):
    first = hub_crawl["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert "run 1:" in first.stdout
    assert "failure reasons:" in first.stdout


def test_every_expected_report_is_archived(hub_crawl):
    db, portal = hub_crawl["db"], hub_crawl["server"].portal
    fetched = {row[0] for row in query(db, "SELECT url FROM fetches")}
    fetched |= {row[0] for row in query(db, "SELECT final_url FROM fetches")}
    reports = {row[0]: (row[1], row[2]) for row in query(db, "SELECT url, agency, year FROM reports")}
    expected = portal.manifest["reports"]
    assert len(expected) == 31
    for exp in expected:
        assert exp["url"] in fetched, exp["url"]
        assert exp["url"] in reports, exp["url"]
        agency, year = reports[exp["url"]]
        assert year == exp["year"], exp
        assert agency, exp
        assert agency.startswith(exp["agency"][:4]), (agency, exp)


def test_the_picture_report_is_read_from_its_page_images(hub_crawl):
    """The sample portal's …（图片版） page: its three page images fetched and archived, its tables read by OCR and
    right to the cell (fixture 010's), its logo never requested."""
    import json

    from ogi.demo.portal import IMAGE_REPORT, REPORTS_DIR

    db, hits = hub_crawl["db"], hub_crawl["hits_first"]
    url = "http://ministry.fixture.test/zfxxgk/zfxxgknb/202401/t20240125_100300.html"
    [(agency, year, check_status, extra)] = query(
        db, "SELECT r.agency, r.year, r.check_status, v.extra FROM reports r JOIN versions v"
            " ON v.id = r.current_version_id WHERE r.url = ?", url)
    assert (agency, year) == (IMAGE_REPORT["agency"], IMAGE_REPORT["year"]) and check_status == "ok"
    images = json.loads(extra)["images"]
    assert [i["url"].rsplit("/", 1)[1] for i in images] == IMAGE_REPORT["images"]
    assert [i["status"] for i in images] == ["read"] * 3
    want = json.loads((REPORTS_DIR / IMAGE_REPORT["fixture"]).read_text(encoding="utf-8"))["expected_cells"]
    cells = dict(query(db, "SELECT key, value FROM cells_long WHERE is_current = 1 AND url = ?", url))
    assert {k: cells.get(k) for k in want} == want
    assert not [u for u in hits if u.endswith("/images/logo.png")]


def test_gbk_page_keeps_its_agency(hub_crawl):
    rows = query(hub_crawl["db"], "SELECT agency FROM reports WHERE url LIKE '%t20240201_100200%'")
    assert rows
    assert "堃" in rows[0][0]


def test_failures_are_recorded_with_reasons(hub_crawl):
    db, portal = hub_crawl["db"], hub_crawl["server"].portal
    got: dict[str, set[str]] = {}
    for url, reason in query(db, "SELECT url, reason FROM failures WHERE run_id = 1"):
        got.setdefault(url, set()).add(reason)
    for url, reasons in portal.manifest["failures"].items():
        assert got.get(url, set()) & set(reasons.split("|")), (url, reasons, got.get(url))
    confusables = {u for u, r in got.items() if "confusable" in r}
    assert "http://hub.fixture.test/zfwzgzndbb/" in confusables
    assert "http://www.some-univ.edu.cn/xxgkndbg.htm" in confusables


def test_politeness_and_safety_on_the_wire(hub_crawl):
    hits = hub_crawl["hits_first"]
    assert not any("/search/" in u for u in hits)  # robots.txt Disallow obeyed
    assert not any("mirror-spam" in u or "some-univ" in u for u in hits)  # never fetched
    assert not any("zfwzgzndbb" in u for u in hits)  # confusable column not followed
    assert hits["http://ministry.fixture.test/zfxxgk/zfxxgknb/202402/t20240202_100201.html"] == 2  # 503, then OK
    assert hits.get("http://ministry.fixture.test/zfxxgk/zfxxgknb/index_4.html", 0) == 0  # beyond the declared pages
    assert "http://ministry.fixture.test/robots.txt" in hits
    assert [u for u in hits if "closed.fixture.test" in u] == ["http://closed.fixture.test/robots.txt"]  # 403


def test_run_rows(hub_crawl):
    db = hub_crawl["db"]
    runs = query(db, "SELECT id, status FROM runs ORDER BY id")
    # the TRS column declares 4 pages and its index_3.html is a 404: the run lost items, so it is not ok
    assert [r[1] for r in runs] == [RUN_PARTIAL, RUN_PARTIAL]
    rows = query(db, "SELECT completeness, missing, detail FROM run_sources ORDER BY run_id")
    for completeness, missing, detail in rows:
        assert completeness == "partial"
        assert missing == 4  # one unread page of the 4-row TRS pages
        assert "zfxxgknb/index.html: 1 of 4 declared pages not read" in detail
    src = query(db, "SELECT run_id, reports_found, new_reports, failures FROM run_sources ORDER BY run_id")
    assert src[0][1] == 31
    assert src[0][2] == 31
    assert src[0][3] > 10
    assert src[1][1] >= 30
    assert src[1][2] == 0


def test_warc_is_replayable(hub_crawl):
    warcs = sorted((hub_crawl["db"].parent / "warc").glob("*.warc.gz"))
    assert len(warcs) == 2
    assert not list((hub_crawl["db"].parent / "warc").glob("*.open"))
    with gzip.open(warcs[0], "rb") as fh:  # valid gzip members all the way
        fh.read()
    responses = {}
    with warcs[0].open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                responses[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    url = "http://ministry.fixture.test/zfxxgk/zfxxgknb/202401/t20240110_100100.html"
    assert url in responses
    assert "年度报告".encode() in responses[url]


def test_recrawl_is_incremental(hub_crawl):
    second = hub_crawl["second"]
    assert second.returncode == 0, second.stderr[-3000:]
    ratio = hub_crawl["bytes_second"] / hub_crawl["bytes_first"]
    assert ratio < 0.25, ratio  # list pages are re-read; articles answer 304
    versions = query(hub_crawl["db"], "SELECT count(*) FROM versions")[0][0]
    assert versions == 31  # nothing re-parsed into a new version


def test_private_address_refused_without_flag(tmp_path, portal_server):
    db = tmp_path / "p.db"
    url = f"http://127.0.0.1:{portal_server.port}/zfxxgknb/"
    result = run_ogi("crawl", "--db", str(db), "--url", url, "--quiet")
    assert result.returncode == 1, result.stderr[-2000:]  # the run failed (issue 13: exit 1, was 0)
    reasons = query(db, "SELECT reason FROM failures")
    assert ("unsafe/loopback",) in reasons
    assert not any(k.startswith(f"http://127.0.0.1:{portal_server.port}") for k in portal_server.portal.hits)
    assert query(db, "SELECT status FROM run_sources") == [("failed",)]


def test_unknown_source_is_a_clear_error(tmp_path):
    result = run_ogi("crawl", "--db", str(tmp_path / "x.db"), "--source", "no-such-source")
    assert result.returncode != 0
    assert "unknown source" in result.stderr
    assert "Traceback" not in result.stderr


def test_source_that_stops_listing_is_suspect(tmp_path):
    server = PortalServer(Portal()).start()
    try:
        sources = tmp_path / "sources.csv"
        sources.write_text("name,url,agency,level\nmin2,http://ministry.fixture.test/zfxxgk/zfxxgknb2/index.shtml,"
                           "某某部,national\n", encoding="utf-8")
        db = tmp_path / "s.db"
        args = crawl_args(server, db, "--sources-file", str(sources), "--source", "min2")
        assert run_ogi(*args).returncode == 0
        from ogi.demo.portal import Answer, page

        empty = Answer(body=page("政府信息公开年报", "<ul></ul>" + "<!-- x -->" * 80))
        server.portal.add("http://ministry.fixture.test/zfxxgk/zfxxgknb2/index.shtml", empty)
        result = run_ogi(*args)
        assert result.returncode == 0
        assert query(db, "SELECT status FROM runs ORDER BY id") == [("ok",), ("suspect",)]
        assert query(db, "SELECT status FROM run_sources WHERE run_id = 2") == [("suspect",)]
        listing = run_ogi("sources", "--db", str(db), "--sources-file", str(sources))
        assert "min2" in listing.stdout
        assert "suspect" in listing.stdout
        assert "verified" in listing.stdout
    finally:
        server.stop()


def test_resume_after_kill_9(tmp_path):
    """A crawl killed with SIGKILL mid-way and started again archives everything once."""
    # slow enough answers that the kill lands mid-crawl (the crawl itself is fast: ~200 reports/s)
    server = PortalServer(Portal(bench_reports=120, delay=0.05)).start()
    try:
        db = tmp_path / "r.db"
        url = "http://bench.fixture.test/zfxxgknb/index.html"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        args = [sys.executable, "-m", "ogi.commands.crawl",
                *crawl_args(server, db, "--url", url, "-s", "OGI_COMMIT_SECONDS=0.2")]
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                done = query(db, "SELECT count(*) FROM reports")[0][0]
            except Exception:
                continue
            if done >= 20 or proc.poll() is not None:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert 0 < done < 120, done
        before = query(db, "SELECT count(*) FROM reports")[0][0]
        result = run_ogi(*crawl_args(server, db, "--url", url))
        assert result.returncode == 0, result.stderr[-2000:]
        assert query(db, "SELECT count(*), count(DISTINCT url) FROM reports") == [(120, 120)]
        assert query(db, "SELECT count(*) FROM versions")[0][0] == 120  # no duplicate versions
        assert before <= 120
        # the killed run is no longer 'running' forever: the next crawl saw its process gone
        assert query(db, "SELECT id, status FROM runs ORDER BY id") == [(1, "interrupted"), (2, "ok")]
    finally:
        server.stop()


def test_scrapy_crawl_still_works(tmp_path, portal_server):
    db = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    host_map = json.dumps({"fixture.test": f"127.0.0.1:{portal_server.port}"})
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "ogi", "-a",
         "url=http://ministry.fixture.test/zfxxgk/zfxxgknb2/index.shtml", "-s", "OGI_ALLOW_PRIVATE=1",
         "-s", f"OGI_HOST_MAP={host_map}", "-s", f"OGI_DB={db}", "-s", "LOG_LEVEL=WARNING",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert query(db, "SELECT count(*) FROM reports") == [(3,)]


def test_demo_no_serve(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "ogi.commands.crawl", "demo", "--no-serve"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"run 1: {RUN_PARTIAL}" in result.stdout  # the sample TRS column's declared index_3.html is a 404
    assert query(tmp_path / "demo.db", "SELECT count(*) FROM reports")[0][0] >= 30


def test_too_large_is_recorded(tmp_path, portal_server):
    db = tmp_path / "big.db"
    result = run_ogi(*crawl_args(portal_server, db, "--url",
                                 "http://ministry.fixture.test/zfxxgk/zfxxgknb2/index.shtml",
                                 "-s", "DOWNLOAD_MAXSIZE=12000"))
    assert result.returncode == 0, result.stderr[-2000:]
    reasons = [r for (r,) in query(db, "SELECT reason FROM failures")]
    assert reasons.count("too-large") == 3
    # three listed reports fetched too large: lost (recorded), so the run says what it lost; `empty` is for a
    # run that listed nothing
    [(status, detail)] = query(db, "SELECT status, detail FROM runs")
    assert status == "partial" and "too-large" in detail, (status, detail)
