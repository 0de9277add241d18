"""Report pages whose tables are pictures (``…（图片版）``): the crawl fetches the page's content images through
the engine, archives each with its provenance, and stores one report read by OCR; an image it cannot fetch is
a recorded loss (the source is ``partial``) and the report says which image is missing; a re-parse reads the
archived images again instead of dropping the OCR'd cells.

The images are renderings of real fixture 009 (headless Chromium, 0.5° skew, 0.8× scale, JPEG q60) served by
the loopback sample portal; the engine is RapidOCR, offline."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import pytest

from ogi.demo.pages import Answer
from ogi.demo.portal import Portal, PortalServer
from tests.documents import builders as b
from tests.documents import test_ocr_render as r

from .conftest import ROOT, query, run_ogi

pytestmark = pytest.mark.slow

HOST = "imgs.fixture.test"
LIST_URL = f"http://{HOST}/zwgk/zfxxgknb/index.html"
GOOD = f"http://{HOST}/zwgk/zfxxgknb/202201/t20220120_101.htm"
BROKEN = f"http://{HOST}/zwgk/zfxxgknb/202201/t20220121_102.htm"
GONE = f"http://{HOST}/zwgk/zfxxgknb/202201/t20220123_104.htm"  # its one image is gone
SCANNED = f"http://{HOST}/zwgk/zfxxgknb/202201/t20220122_103.htm"  # the report as a scanned PDF attachment
SCAN_PDF = f"http://{HOST}/zwgk/zfxxgknb/202201/P020220122103.pdf"


PAGES = ROOT / "tests" / "fixtures" / "pages" / "article"
GOOD_PAGE = "pingtan-gaj-jgszzyznbs-77176-image-body-excerpt.html"  # 政府信息公开 department template, 1 image
BROKEN_PAGE = "pingtan-gsgg-9612-image-body.html"  # legacy ewebeditor body of 14 page scans, no TRS_Editor
GOOD_IMAGE = "/ptwzq/ewebeditor/uploadfile/2022/11/04/20221104173136213.PNG"
SCANS = re.compile(r'<img [^>]*src="(/ptwzq/ewebeditor/uploadfile/2018/05/04/\d+\.png)"[^>]*>(?:<br>)?')


def retitled(name: str, title: str) -> tuple[str, str]:
    """A saved real page (tests/fixtures/pages/README.md) with its article retitled ``title``: (html, old title)."""
    text = (PAGES / name).read_text(encoding="utf-8")
    old = re.search(r'<meta name="ArticleTitle" content="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    return text.replace(old, title), old


@pytest.fixture(scope="module")
def shots() -> tuple[b.ReportModel, list[bytes]]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed (scripts/setup-system.sh installs it)")
    model = b.build_model("009")
    shot = r.noisy(r.screenshot(r.report_html(model), chromium), skew=0.5)
    scan = b.build_model("001")
    SHOTS[scan.title] = r.noisy(r.screenshot(r.report_html(scan), chromium), skew=-1.0)
    return model, [r.jpeg(shot), *(r.jpeg(h) for h in r.split_pages(shot, 2))]


SHOTS: dict[str, object] = {}


def shot_image(model: b.ReportModel):  # type: ignore[no-untyped-def]
    return SHOTS[model.title]


@pytest.fixture(scope="module")
def crawled(shots, tmp_path_factory):
    model, jpegs = shots
    portal = Portal()
    title = f"{model.title}（图片版）"
    links = "".join(f'<li><a href="{u}" title="{html.escape(title)}">{html.escape(title)}</a><span>2022-01-20</span></li>'
                    for u in (GOOD, BROKEN, SCANNED, GONE))
    portal.add(LIST_URL, Answer(body=f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body>"
                                     f"<ul class='list'>{links}</ul></body></html>".encode()))
    # the real 77176 page, retitled: its one body image is the whole report
    good, _old = retitled(GOOD_PAGE, title)
    portal.add(GOOD, Answer(body=good.encode()))
    portal.add(f"http://{HOST}{GOOD_IMAGE}", Answer(body=jpegs[0], ctype="image/jpeg"))
    # the real 9612 page, retitled as another agency's report, its 14 scans cut to the first two: the report
    # in two halves; the first is served, the second is gone
    other = "平潭综合实验区社会事业局"
    broken, _old = retitled(BROKEN_PAGE, title.replace(model.agency, other))
    scans = SCANS.findall(broken)
    broken = SCANS.sub(lambda m: m.group(0) if m.group(1) in scans[:2] else "", broken)
    portal.add(BROKEN, Answer(body=broken.encode()))
    portal.add(f"http://{HOST}{scans[0]}", Answer(body=jpegs[1], ctype="image/jpeg"))
    portal.add(f"http://{HOST}{scans[1]}", Answer(404, b"<html>404 Not Found</html>"))
    # the real 94095 page (one image above five lines of text), retitled as a fourth agency's: its image is gone
    gone, _old = retitled("pingtan-ghxx-qygh-94095-image-body.html", title.replace(model.agency, "平潭综合实验区统计局"))
    portal.add(GONE, Answer(body=gone.encode()))
    portal.add(f"http://{HOST}/zwgk/zfxxgknb/202201/W020240930581348741585.jpg", Answer(404, b"<html>gone</html>"))
    # a third agency's report as a scanned PDF (two pages, no text layer) attached to a short article: OCR'd
    # inside the crawl's parse worker, under its memory cap
    scan = b.build_model("001")  # another report (another agency)
    portal.add(SCANNED, Answer(body=(f"<html><head><meta charset='utf-8'><title>{html.escape(scan.title)}"
                                     f"</title></head><body><p>详见附件：<a href='./P020220122103.pdf'>"
                                     f"{html.escape(scan.title)}.pdf</a></p></body></html>").encode()))
    portal.add(SCAN_PDF, Answer(body=r.image_pdf(r.split_pages(shot_image(scan))), ctype="application/pdf"))
    server = PortalServer(portal).start()
    db = tmp_path_factory.mktemp("imgs") / "a.db"
    try:
        res = run_ogi("crawl", "--db", str(db), "--allow-private", "--host-map", f"fixture.test=127.0.0.1:{server.port}",
                      "--fast", "--quiet", "--url", LIST_URL, timeout=600)
        hits = dict(portal.hits)
    finally:
        server.stop()
    return db, res, hits, model


def test_the_page_images_are_fetched_archived_and_read(crawled):
    db, res, hits, model = crawled
    assert res.returncode in (0, 1), res.stderr[-3000:]
    [(status, extra)] = query(db, "SELECT v.status, v.extra FROM reports r JOIN versions v ON v.id = r.current_version_id"
                                  " WHERE r.url = ?", GOOD)
    assert status == "report"
    images = json.loads(extra)["images"]
    assert [i["url"] for i in images] == [f"http://{HOST}{GOOD_IMAGE}"]
    assert [i["status"] for i in images] == ["read"] and [i["pages"] for i in images] == [[1]]
    # each image is an archived document with its own fetch row (URL, HTTP status, content type)
    for img in images:
        assert query(db, "SELECT http_status, content_type FROM fetches WHERE sha256 = ? AND url = ?",
                     img["sha256"], img["url"]) == [(200, "image/jpeg")]
    # the real page's chrome images (logos, QR codes, badges, the column banner) were never requested
    assert not [k for k in hits if "/images/" in k]
    # the cells: OCR'd, checked, right
    cells = dict(query(db, "SELECT key, value FROM cells_long WHERE is_current = 1 AND url = ?", GOOD))
    right = sum(1 for k, v in model.expected.items() if cells.get(k) == v)
    assert right >= 0.99 * len(model.expected), (right, len(model.expected))
    flags = {f for (f,) in query(db, "SELECT DISTINCT flag FROM cells_long WHERE is_current = 1 AND url = ?"
                                     " AND key LIKE 't3.%'", GOOD)}
    assert "ocr" in flags


def test_an_image_that_cannot_be_fetched_is_a_recorded_loss(crawled):
    db, _res, _hits, _model = crawled
    [(reason, detail)] = query(db, "SELECT reason, detail FROM failures WHERE url LIKE ?", "%/20180504154135312001.png")
    assert reason == "http/404" and BROKEN in detail
    [(status, detail)] = query(db, "SELECT status, detail FROM run_sources")
    assert status == "partial", detail
    [(run_status,)] = query(db, "SELECT status FROM runs")
    assert run_status != "ok"
    [(rstatus, extra, warnings)] = query(
        db, "SELECT v.status, v.extra, v.warnings FROM reports r JOIN versions v ON v.id = r.current_version_id"
            " WHERE r.url = ?", BROKEN)
    images = json.loads(extra)["images"]
    assert [i["status"] for i in images] == ["read", "not-fetched"]
    assert "1 of 2 images of the page could not be fetched" in warnings
    if rstatus == "report":  # the first half read: every key of a table it found is a value or unknown
        keys = {k for (k,) in query(db, "SELECT key FROM cells_long WHERE is_current = 1 AND url = ?", BROKEN)}
        assert any(k.startswith("t3.") for k in keys)


def test_a_reparse_reads_the_archived_images_again(crawled):
    db, _res, _hits, _model = crawled
    before = query(db, "SELECT key, value, flag FROM cells_long WHERE is_current = 1 AND url = ? ORDER BY key", GOOD)
    [(sha,)] = query(db, "SELECT sha256 FROM reports WHERE url = ?", GOOD)
    out = subprocess.run([sys.executable, "-m", "ogi", "reparse", "--db", str(db), "--sha256", sha[:12]], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    after = query(db, "SELECT key, value, flag FROM cells_long WHERE is_current = 1 AND url = ? ORDER BY key", GOOD)
    assert after == before and len(after) > 100


def test_a_scanned_pdf_attachment_is_read_in_the_crawls_parse_worker(crawled):
    """Under the worker's old 1024 MB address-space cap RapidOCR failed (std::bad_alloc): parse-error."""
    db, _res, _hits, _model = crawled
    model = b.build_model("001")
    assert not query(db, "SELECT reason, detail FROM failures WHERE url = ?", SCAN_PDF)
    [(status, source_kind)] = query(db, "SELECT v.status, v.source_kind FROM reports r JOIN versions v"
                                        " ON v.id = r.current_version_id WHERE r.url = ?", SCAN_PDF)
    assert (status, source_kind) == ("report", "pdf")
    cells = dict(query(db, "SELECT key, value FROM cells_long WHERE is_current = 1 AND url = ?", SCAN_PDF))
    right = sum(1 for k, v in model.expected.items() if cells.get(k) == v)
    assert right >= 0.99 * len(model.expected), (right, len(model.expected))


def test_a_page_whose_images_all_failed_says_so(crawled):
    db, _res, _hits, _model = crawled
    [(reason,)] = query(db, "SELECT reason FROM failures WHERE url LIKE ?", "%W020240930581348741585.jpg")
    assert reason == "http/404"
    [(status, extra, warnings)] = query(
        db, "SELECT v.status, v.extra, v.warnings FROM reports r JOIN versions v ON v.id = r.current_version_id"
            " WHERE r.url = ?", GONE)
    assert status == "image_only"
    assert [i["status"] for i in json.loads(extra)["images"]] == ["not-fetched"]  # not left "pending"
    assert "1 of 1 images of the page could not be fetched" in warnings
