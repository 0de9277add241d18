"""HTML report pages whose tables are pictures: which images are the report (real pingtan pages, three body
layouts), what the first parse asks a crawler to fetch, how every image is accounted for, and how the OCR'd
tables join the page's own title, agency and narrative. Fast: the OCR pages are synthetic (no engine); the
crawl with the real engine is tests/crawler/test_page_images.py."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from crawler.parsers import parse_document
from crawler.parsers.dispatch import extract
from crawler.parsers.images import content_images, data_uri_bytes
from crawler.parsers.ocr_docs import merge_page_ocr, ocr_page_images, page_images
from crawler.parsers.ocr_report import report_from_pages
from tests.documents import builders as b
from tests.documents import test_ocr_render as r

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "article"
SITE = "https://www.pingtan.gov.cn"
UPLOAD = "/ptwzq/ewebeditor/uploadfile"
REPORT_TITLE = "平潭综合实验区公安局2022年政府信息公开工作年度报告（图片版）"

# (fixture, its live URL, the body images in page order as written): facts in tests/fixtures/pages/README.md
REAL = [
    ("pingtan-gaj-jgszzyznbs-77176-image-body-excerpt.html",
     f"{SITE}/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqgaj/fdzdgknr/jgszzyznbs/202211/t20221104_77176.htm",
     [f"{UPLOAD}/2022/11/04/20221104173136213.PNG"]),
    ("pingtan-ghxx-qygh-94095-image-body.html", f"{SITE}/zwgk/ghxx/qygh/202409/t20240930_94095.htm",
     ["./W020240930581348741585.jpg"]),
    ("pingtan-gsgg-9612-image-body.html", f"{SITE}/zwgk/gsgg/201805/t20180504_9612.htm",
     [f"{UPLOAD}/2018/05/04/201805041{t}.png" for t in (
         "54115726001", "54135312001", "54149670001", "54204137001", "54219369001", "54232187001", "54253470001",
         "54306820001", "54323399001", "54335642001", "54347750001", "54400439001", "54417543001", "54430379001")]),
]


def real_page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def as_report_page(name: str) -> bytes:
    """A real page whose article is retitled as a report's picture version (its template, chrome and body
    images unchanged)."""
    text = real_page(name).decode("utf-8")
    old = re.search(r'<meta name="ArticleTitle" content="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    return text.replace(old, REPORT_TITLE).encode("utf-8")


@pytest.mark.parametrize(("name", "url", "body"), REAL, ids=[n.split("-image")[0] for n, _u, _b in REAL])
def test_the_body_images_of_real_pages_and_no_chrome(name, url, body):
    ex = extract(real_page(name), url=url)
    # header logos and QR codes, the footer's badges and QR codes, the column banner: none of them
    assert ex.images == body


@pytest.mark.parametrize(("name", "url", "body"), REAL, ids=[n.split("-image")[0] for n, _u, _b in REAL])
def test_a_real_page_retitled_as_a_picture_report_asks_for_its_images(name, url, body):
    report = parse_document(as_report_page(name), source=url, url=url)
    assert report.status == "image_only"
    assert report.title == REPORT_TITLE.replace("（", "(").replace("）", ")")
    # the images to fetch, resolved against the page's URL, in page order, every one pending
    assert [i["url"] for i in report.images] == [
        (SITE + src if src.startswith("/") else url.rsplit("/", 1)[0] + src[1:]) for src in body]
    assert {i["status"] for i in report.images} == {"pending"}
    assert report.to_json()["images"] == report.images


def test_a_page_that_is_not_a_report_lists_no_images():
    name, url, _body = REAL[2]
    report = parse_document(real_page(name), source=url, url=url)
    assert report.status == "not_report" and report.images == []


CHROME_CASES = [
    ('<div class="TRS_Editor"><img src="./W1.jpg"></div><div class="footer"><img src="./W2.jpg"></div>', ["./W1.jpg"]),
    ('<header><img src="/up/a.png"></header><div class="content"><img src="/up/b.png"></div>', ["/up/b.png"]),
    ('<div class="TRS_Editor"><img src="/images/logo.png"><img src="/up/qrcode.png"><img src="/up/r.jpg"></div>',
     ["/up/r.jpg"]),
    ('<div class="TRS_Editor"><img src="/up/i.png" width="16" height="16"><img src="/up/r.jpg" width="800"></div>',
     ["/up/r.jpg"]),
    ('<div class="zoom"><img src="/img/loading.gif" data-original="/up/1.png"><img data-src="/up/2.png"></div>',
     ["/up/1.png", "/up/2.png"]),
    ('<div class="content"><img src="/up/banner-top.png"><div class="article_content"><img src="/up/r.png"></div></div>',
     ["/up/r.png"]),
    ('<p><img src="/up/a.png"></p><p><img src="/up/b.png"></p><p><img src="/up/a.png"></p>', ["/up/a.png", "/up/b.png"]),
    ('<div class="TRS_Editor"><img src="javascript:void(0)"><img></div>', []),
]


@pytest.mark.parametrize(("body", "want"), CHROME_CASES)
def test_content_image_selection(body, want):
    from lxml import etree

    root = etree.fromstring(f"<html><body>{body}</body></html>", etree.HTMLParser())
    assert content_images(root.find("body")) == want


def _png(width: int = 300, height: int = 240) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, "PNG")
    return buf.getvalue()


def test_inline_data_images_are_decoded_and_not_fetched():
    blob = _png()
    src = "data:image/png;base64," + base64.b64encode(blob).decode()
    assert data_uri_bytes(src) == blob
    assert data_uri_bytes("data:text/plain;base64,aGk=") is None
    assert page_images([src, "./a.jpg"], "http://x.gov.cn/a/b.htm") == [
        ("data:page-image-1", blob), ("http://x.gov.cn/a/a.jpg", None)]


def test_images_that_could_not_be_fetched_are_accounted_for():
    page = as_report_page(REAL[0][0])
    url = REAL[0][1]
    report = parse_document(page, source=url, url=url, images={})  # the crawler got none of them
    assert report.status == "image_only"
    assert [i["status"] for i in report.images] == ["not-fetched"]
    assert "1 of 1 images of the page could not be fetched; not OCR'd" in report.warnings


def test_a_small_image_is_an_icon_not_a_page(monkeypatch):
    from crawler.parsers import ocr_docs

    def no_engine(*_a, **_k):
        raise AssertionError("an icon must not reach the OCR engine")

    monkeypatch.setattr(ocr_docs, "read_page", no_engine)
    pages, notes, _warnings = ocr_docs.read_blobs([_png(120, 80)], None)
    assert pages == [] and notes == [{"status": "small"}]
    pages, notes, warnings = ocr_docs.read_blobs([b"GIF89a-not-really"], None)
    assert notes[0]["status"] == "unreadable" and warnings


def test_the_ocr_tables_join_the_pages_own_metadata():
    model = b.build_model("009")
    page_report = parse_document(as_report_page(REAL[0][0]), source=REAL[0][1], url=REAL[0][1])
    ocr = report_from_pages([r.synthetic_page(model)], source=REAL[0][1], source_kind="html",
                            title_hint=page_report.title)
    merged = merge_page_ocr(page_report, ocr)
    assert merged.status == "report" and merged.ok
    # title, agency, publication date: the page's (its meta), not what OCR read in the picture
    assert merged.title == page_report.title and merged.agency == "平潭综合实验区公安局"
    assert merged.published == "2022-11-04" and merged.year == 2022
    right, unknown, wrong = r.score(merged, model)
    assert wrong == [] and right + unknown == len(model.expected) and unknown <= 19  # 009's t2 digit runs
    assert all(c.status != "fail" for c in merged.checks)
    assert merged.warnings[0].startswith("tables are images; read by OCR (1 pages)")
    assert not any(w.startswith("tables are images (") for w in merged.warnings)
    # the page's text and the OCR text are both kept (search finds the report by either)
    assert "发文机关" in merged.text and "申请人情况" in merged.text


def test_ocr_page_images_records_sha_and_pages_of_each_image(monkeypatch):
    from crawler.parsers import ocr_docs

    model = b.build_model("009")
    monkeypatch.setattr(ocr_docs, "read_page", lambda img, engine=None: r.synthetic_page(model))
    name, url, body = REAL[0]
    page_report = parse_document(as_report_page(name), source=url, url=url)
    target = page_report.images[0]["url"]
    out = ocr_page_images(page_report, body, base=url, fetched={target: _png(1200, 1600)}, source=url)
    assert out.status == "report"
    [entry] = out.images
    assert entry["url"] == target and entry["status"] == "read" and entry["pages"] == [1]
    assert len(entry["sha256"]) == 64 and entry["bytes"] > 0
    assert out.ocr is not None and out.ocr["pages"][0]["image"] == target


# ---- `ogi parse` on a saved page: its images from disk ------------------------------------------------------------
def _saved_page(tmp_path: Path, srcs: list[str]) -> Path:
    name, _url, _body = REAL[0]
    text = as_report_page(name).decode("utf-8")
    text = text.replace(f'src="{REAL[0][2][0]}"', " ".join(f'src="{s}"' for s in srcs[:1]))
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    return page


def test_a_saved_page_reads_only_images_inside_its_folder(tmp_path, monkeypatch):
    from ogi.commands import parse as cmd

    (tmp_path / "secret.png").write_bytes(_png())
    inner = tmp_path / "saved"
    inner.mkdir()
    page = _saved_page(inner, ["../secret.png"])
    report = cmd.parse_path(str(page))
    assert report.status == "image_only" and cmd.local_images(report, page.parent) == {}
    assert [i["status"] for i in report.images] == ["pending"]  # listed, not read: outside the page's folder


@pytest.mark.slow
def test_ogi_parse_reads_a_saved_pages_images(tmp_path):
    import shutil

    from ogi.commands import parse as cmd

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed (scripts/setup-system.sh installs it)")
    model = b.build_model("009")
    (tmp_path / "report_files").mkdir()
    (tmp_path / "report_files" / "page 1.jpg").write_bytes(r.jpeg(r.noisy(r.screenshot(r.report_html(model), chromium))))
    page = _saved_page(tmp_path, ["./report_files/page%201.jpg"])
    report = cmd.parse_path(str(page))
    assert report.status == "report", report.warnings[:5]
    right, _unknown, wrong = r.score(report, model)
    assert right >= 0.99 * len(model.expected) and (wrong == [] or report.failed_checks())
    assert [i["status"] for i in report.images] == ["read"]
    assert "read by OCR" in cmd.summary_text(report)


def test_a_picture_titled_article_without_pictures_is_no_image_report():
    """An article titled …（图片版） whose body only links the report as an attachment: stored as an image report
    (status image_only, no cells) it would become an empty version of the attachment's report."""
    page = (f"<html><head><meta charset='utf-8'><title>{REPORT_TITLE}</title></head><body>"
            "<div class='header'><img src='/images/logo.png'></div>"
            "<div class='TRS_Editor'><p>附件：<a href='./P0201.pdf'>年报.pdf</a></p></div></body></html>").encode()
    report = parse_document(page, source="a.htm", url="http://x.gov.cn/a.htm")
    assert report.status == "no_tables" and report.images == []


def test_one_value_across_merged_cells_is_that_rows_value():
    """An OCR grid gives the one-column rows of table 二 (行政许可 …) the block's three slots, two of them empty:
    the row's one printed value is its value, not three values for one column (all unknown)."""
    from crawler.parsers.lines import Line, make_tok
    from crawler.parsers.t2 import read_t2_row
    from crawler.parsers.tables import TableResult

    res = TableResult()
    blank = make_tok("")
    read_t2_row(Line(["行政许可"], [blank, make_tok("5"), blank], "ocr-grid"), ("decisions",), res)
    assert res.cells["t2.licensing.decisions"].value == 5 and not res.warnings
    res = TableResult()  # two printed values for a three-column row stay what they were: unknown
    read_t2_row(Line(["规章"], [make_tok("1"), blank, make_tok("2"), blank], "ocr-grid"),
                ("issued", "repealed", "in_force"), res)
    assert res.cells["t2.regulation.issued"].value is None and res.warnings


def test_images_past_the_cap_are_listed_not_read_and_said():
    from crawler.parsers.images import MAX_REPORT_IMAGES

    n = MAX_REPORT_IMAGES + 2
    imgs = "".join(f'<p><img src="./W{i:03d}.jpg"></p>' for i in range(n))
    page = (f"<html><head><meta charset='utf-8'><title>{REPORT_TITLE}</title></head><body>"
            f"<div class='TRS_Editor'>{imgs}</div></body></html>").encode()
    report = parse_document(page, source="a.htm", url="http://x.gov.cn/a.htm")
    assert [i["status"] for i in report.images] == ["pending"] * MAX_REPORT_IMAGES + ["not-read"] * 2
    assert report.images[-1]["url"] == f"http://x.gov.cn/W{n - 1:03d}.jpg"
    assert f"the page has {n} content images; only the first {MAX_REPORT_IMAGES} are read" in report.warnings
    again = parse_document(page, source="a.htm", url="http://x.gov.cn/a.htm", images={})
    assert [i["status"] for i in again.images][-3:] == ["not-fetched", "not-read", "not-read"]
