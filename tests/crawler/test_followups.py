"""Crawler follow-ups: 304 pages still yield their attachments, SIGTERM and kill -9 leave honest run rows,
robots.txt answered 403 closes the host, grouped commits keep the crawl state consistent with the archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from archive import open_archive
from crawler.gateway import ArchiveGateway
from crawler.items import DocumentItem
from crawler.liveness import owner_tag, parse_owner_tag, process_alive
from crawler.middlewares import ConditionalRequestMiddleware
from crawler.spiders.auto import AutoSpider
from ogi.demo.portal import Answer, Portal, PortalServer

from .conftest import ROOT, ctx_for, query, run_ogi

ARTICLE = (
    "<html><head><title>某某局2023年政府信息公开工作年度报告</title></head><body>"
    "<p>一、总体情况</p><p>正文见附件。</p>"
    '<p>附件：<a href="/attach/2024/report.pdf">某某局2023年年报.pdf</a></p>'
    '<p><a href="/module/download/downfile.jsp?filename=x.doc">年报.doc</a></p>'
    "</body></html>"
).encode()
ARTICLE_URL = "http://ministry.fixture.test/zfxxgk/zfxxgknb/202401/t20240110_1.html"


def spider_on(db: Path) -> tuple[AutoSpider, ArchiveGateway]:
    crawler = get_crawler(AutoSpider, {"OGI_DB": str(db)})
    crawler._apply_settings()
    spider = AutoSpider.from_crawler(crawler, url=ARTICLE_URL, source="t")
    crawler.spider = spider
    if getattr(crawler, "stats", None) is None:
        from scrapy.statscollectors import MemoryStatsCollector

        crawler.stats = MemoryStatsCollector(crawler)
    return spider, ArchiveGateway.for_crawler(crawler)


def not_modified(prev_sha: str) -> HtmlResponse:
    request = Request(ARTICLE_URL, headers={"If-None-Match": '"abc"'},
                      meta={"ogi_kind": "article", "ogi_conditional": True, "ogi_prev": {"sha256": prev_sha},
                            "ogi_site": ARTICLE_URL, "ogi_source": "t", "handle_httpstatus_list": [304]})
    return HtmlResponse(ARTICLE_URL, status=304, body=b"", headers={"ETag": '"abc"'}, request=request)


def replayed(spider: AutoSpider, response: HtmlResponse) -> HtmlResponse | Request:
    """What the conditional-request middleware hands on for a 304 (the archived copy, or the request again)."""
    mw = ConditionalRequestMiddleware.from_crawler(spider.crawler)
    assert response.request is not None
    return mw.process_response(response.request, response)


# ---- 1. a 304 article page still yields its attachments ------------------------------------------------------
def test_304_article_follows_attachments_from_the_archived_copy(tmp_path):
    spider, gateway = spider_on(tmp_path / "a.db")
    try:
        sha = gateway.arc.save_document(ARTICLE, url=ARTICLE_URL, http_status=200)
        response = replayed(spider, not_modified(sha))
        out = list(spider.parse_article(response, ctx_for(ARTICLE_URL)))
    finally:
        gateway.close()
    docs = [o for o in out if isinstance(o, DocumentItem)]
    assert len(docs) == 1  # the 304 itself, recorded once (not re-archived from the replayed copy)
    assert docs[0]["not_modified"] is True
    assert docs[0]["prev_sha256"] == sha
    urls = {o.url for o in out if isinstance(o, Request)}
    assert urls == {"http://ministry.fixture.test/attach/2024/report.pdf",
                    "http://ministry.fixture.test/module/download/downfile.jsp?filename=x.doc"}
    for request in (o for o in out if isinstance(o, Request)):
        assert request.meta["ogi_kind"] == "attachment"
        assert request.cb_kwargs["ctx"]["referer"] == ARTICLE_URL


def test_304_article_with_unreadable_copy_is_fetched_again_unconditionally(tmp_path):
    spider, gateway = spider_on(tmp_path / "b.db")
    try:
        out = [replayed(spider, not_modified("0" * 64))]
    finally:
        gateway.close()
    assert not [o for o in out if isinstance(o, DocumentItem)]  # nothing counted twice
    [again] = out
    assert isinstance(again, Request)
    assert again.url == ARTICLE_URL
    assert again.dont_filter
    assert b"If-None-Match" not in again.headers
    assert again.meta["ogi_conditional"] is False
    assert again.meta["ogi_prev"] is None


def test_recrawl_fetches_an_attachment_the_first_crawl_missed(tmp_path):
    """First crawl: the article is archived but its attachment fails (as when a crawl is stopped between
    the two). The re-crawl gets 304 for the article and must still fetch the attachment."""
    server = PortalServer(Portal()).start()
    try:
        portal = server.portal
        [att] = [e for e in portal.expected if e.kind == "attachment"]
        attach_key = next(k for k in portal.routes if k.startswith("province.fixture.test/attach/0/")
                          and k.endswith(".doc"))
        good = portal.routes[attach_key]
        portal.routes[attach_key] = Answer(404, b"gone", cache=False)
        db = tmp_path / "r.db"
        args = ["crawl", "--db", str(db), "--allow-private", "--host-map", f"fixture.test=127.0.0.1:{server.port}",
                "--fast", "--quiet", "--url", "http://province.fixture.test/col/col1001/index.html"]
        first = run_ogi(*args)
        assert first.returncode == 0, first.stderr[-2000:]
        assert not query(db, "SELECT 1 FROM reports WHERE url = ?", att.url)
        portal.routes[attach_key] = good
        second = run_ogi(*args)
        assert second.returncode == 0, second.stderr[-2000:]
        assert query(db, "SELECT count(*) FROM reports WHERE url = ?", att.url) == [(1,)]
        article = att.url.split("/module/")[0]
        assert query(db, "SELECT count(*) FROM reports WHERE url LIKE ?", article + "/art/%")[0][0] == 7
        assert query(db, "SELECT count(*), count(DISTINCT sha256) FROM versions")[0] == (8, 8)
    finally:
        server.stop()


# ---- 2. SIGTERM: the run is interrupted, not ok; it resumes under its id -------------------------------------
def test_sigterm_records_an_interrupted_run_then_resume_finishes_it(tmp_path):
    server = PortalServer(Portal(bench_reports=150, delay=0.03)).start()
    try:
        db = tmp_path / "t.db"
        url = "http://bench.fixture.test/zfxxgknb/index.html"
        base = ["crawl", "--db", str(db), "--allow-private", "--host-map", f"fixture.test=127.0.0.1:{server.port}",
                "--fast", "--quiet", "--url", url, "-s", "OGI_COMMIT_SECONDS=0.2"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "ogi.commands.crawl", *base], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            try:
                if query(db, "SELECT count(*) FROM reports")[0][0] >= 10:
                    break
            except Exception:
                continue
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode != 0, out  # the run did not complete
        assert "interrupted" in err
        assert "Traceback" not in err
        [(run_id, status, detail)] = query(db, "SELECT id, status, detail FROM runs")
        assert status == "interrupted", (detail, err[-2000:])
        assert detail == "finish: shutdown"
        assert query(db, "SELECT status FROM run_sources") == [("interrupted",)]
        done = query(db, "SELECT count(*) FROM reports")[0][0]
        assert 0 < done < 150
        resumed = run_ogi(*base, "--run-id", str(run_id))
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert query(db, "SELECT id, status FROM runs") == [(run_id, "ok")]
        assert query(db, "SELECT count(*), count(DISTINCT url) FROM reports") == [(150, 150)]
        assert query(db, "SELECT count(*) FROM versions") == [(150,)]
    finally:
        server.stop()


# ---- 3. kill -9: a run left 'running' by a dead process is marked interrupted by the next crawl ---------------
def test_stale_running_runs_are_marked_interrupted(tmp_path):
    db = tmp_path / "k.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    arc = open_archive(db)
    try:
        gone = arc.start_run(trigger="manual")
        arc.db["runs"].update(gone, {"detail": owner_tag(dead.pid)})
        alive = arc.start_run(trigger="manual")
        arc.db["runs"].update(alive, {"detail": owner_tag()})
        reused = arc.start_run(trigger="manual")
        tag = parse_owner_tag(owner_tag())
        assert tag is not None and tag[1] is not None
        arc.db["runs"].update(reused, {"detail": owner_tag().replace(f"start={tag[1]}", f"start={tag[1] - 1}")})
        scheduled = arc.start_run(trigger="schedule:weekly")  # no owner: the scheduler resumes its own runs
    finally:
        arc.close()
    gateway = ArchiveGateway(open_archive(db))
    try:
        assert sorted(gateway.interrupt_stale_runs()) == [gone, reused]
    finally:
        gateway.close()
    status = dict(query(db, "SELECT id, status FROM runs"))
    assert status == {gone: "interrupted", alive: "running", reused: "interrupted", scheduled: "running"}
    assert process_alive(os.getpid(), tag[1])
    assert not process_alive(dead.pid, None)


# ---- 4. robots.txt answered 403 refuses the whole host -------------------------------------------------------
def test_robots_403_refuses_the_host(tmp_path, portal_server):
    db = tmp_path / "c.db"
    column = "http://closed.fixture.test/zfxxgknb/"
    result = run_ogi("crawl", "--db", str(db), "--allow-private", "--host-map",
                     f"fixture.test=127.0.0.1:{portal_server.port}", "--fast", "--quiet", "--url", column)
    assert result.returncode == 1, result.stderr[-2000:]  # the only source failed: the run failed (issue 13)
    assert query(db, "SELECT url, reason FROM failures") == [(column, "robots/403")]
    assert query(db, "SELECT status FROM run_sources") == [("failed",)]
    hits = [u for u in portal_server.portal.hits if "closed.fixture.test" in u]
    assert hits == ["http://closed.fixture.test/robots.txt"]
    assert "robots/403" in result.stdout


# ---- grouped commits: the crawl state never runs ahead of the archive ---------------------------------------
def test_processed_marks_wait_for_the_archive_commit(tmp_path):
    gateway = ArchiveGateway(open_archive(tmp_path / "g.db"), commit_items=1000, commit_seconds=1000)
    try:
        gateway.begin()
        sha = gateway.arc.save_document(b"<html>x</html>", url="http://a.gov.cn/1.html")
        gateway.mark_processed(sha, "new")
        gateway.wrote()
        assert gateway.processed(sha) == "new"  # this process sees its own work
        other = ArchiveGateway(open_archive(tmp_path / "g.db"))
        try:  # another process sees neither the document nor the mark before the commit
            assert other.processed(sha) is None
            assert other.last_fetch("http://a.gov.cn/1.html") is None
            gateway.commit()
            assert other.processed(sha) == "new"
            assert other.last_fetch("http://a.gov.cn/1.html")["sha256"] == sha
        finally:
            other.close()
    finally:
        gateway.close()


@pytest.mark.parametrize(("items", "visible"), [(1, 3), (3, 3), (5, 0)])
def test_commits_every_n_items(tmp_path, items, visible):
    gateway = ArchiveGateway(open_archive(tmp_path / "n.db"), commit_items=items, commit_seconds=1000)
    try:
        gateway.begin()
        for i in range(3):
            gateway.arc.save_document(f"doc {i}".encode(), url=f"http://a.gov.cn/{i}.html")
            gateway.wrote()
        assert query(tmp_path / "n.db", "SELECT count(*) FROM fetches") == [(visible,)]
    finally:
        gateway.close()
    assert query(tmp_path / "n.db", "SELECT count(*) FROM fetches") == [(3,)]


# ---- WARC records written without warcio's writer stay valid for warcio's reader -----------------------------
def test_warc_records_are_valid(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    from crawler.warc import WarcLog

    log = WarcLog(str(tmp_path / "w.db"), 3)
    body = "<html>某某局2023年政府信息公开工作年度报告</html>".encode()
    log.write(DocumentItem(body=body, url="http://a.gov.cn/年报.html?x=1", final_url="http://a.gov.cn/年报.html?x=1",
                           http_status=404, headers={"Content-Type": "text/html", "Content-Length": "9"},
                           fetched_at="2024-01-02T03:04:05Z", request_headers={"User-Agent": "ogi"}, method="GET"))
    log.write(DocumentItem(body=b"", url="http://a.gov.cn/b.pdf", http_status=304, headers={},
                           fetched_at="2024-01-02T03:04:06Z"))
    log.close()
    [path] = list((tmp_path / "warc").glob("w-run3-*.warc.gz"))
    records = []
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh, check_digests="raise"):
            records.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                            record.rec_headers.get_header("WARC-Date"), record.content_stream().read()))
    assert [r[0] for r in records] == ["response", "request", "response", "request"]
    assert records[0][1] == "http://a.gov.cn/%E5%B9%B4%E6%8A%A5.html?x=1"
    assert records[0][2] == "2024-01-02T03:04:05Z"
    assert records[0][3] == body
    assert records[2][3] == b""


# ---- the parse pool: results, errors, a worker that dies -------------------------------------------------------
def job(kind: str, value: int) -> int:
    """Runs in a pool worker (module-level so the spawned worker can import it)."""
    if kind == "die":
        os._exit(3)
    if kind == "raise":
        raise ValueError(f"bad {value}")
    return value * 2


def test_parse_pool_results_errors_and_dead_workers():
    import asyncio

    from crawler.parsepool import ParsePool, WorkerDied

    async def main() -> list[object]:
        pool = ParsePool(2, job)
        try:
            calls = [pool.run("ok", i) for i in range(10)] + [pool.run("raise", 7), pool.run("die", 0)]
            calls += [pool.run("ok", 100 + i) for i in range(5)]
            return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 60)
        finally:
            pool.close()

    results = asyncio.run(main())
    assert results[:10] == [2 * i for i in range(10)]
    assert isinstance(results[10], RuntimeError) and "ValueError: bad 7" in str(results[10])
    assert isinstance(results[11], WorkerDied)  # retried once on a fresh worker, then given up
    assert results[12:] == [2 * (100 + i) for i in range(5)]  # the pool goes on
