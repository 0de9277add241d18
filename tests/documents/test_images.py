"""Image-only reports are recognised (status image_only), their images listed and extractable."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from crawler.parsers import parse_document
from crawler.parsers.docx_tables import extract_docx
from crawler.parsers.images import extract_images, is_image_title, looks_image_only
from crawler.parsers.pdf_tables import extract_pdf

from . import builders as b

TITLE = "某某县人民政府办公室2021年政府信息公开工作年度报告（图片版）"


def _table_picture() -> Image.Image:
    img = Image.new("RGB", (1200, 1600), "white")
    draw = ImageDraw.Draw(img)
    for y in range(100, 1500, 50):
        draw.line([(100, y), (1100, y)], fill="black", width=2)
    for x in range(100, 1101, 100):
        draw.line([(x, 100), (x, 1450)], fill="black", width=2)
    return img


def _png() -> bytes:
    out = io.BytesIO()
    _table_picture().save(out, "PNG")
    return out.getvalue()


def test_scanned_pdf_is_image_only():
    out = io.BytesIO()
    pages = [_table_picture() for _ in range(3)]
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:])
    data = out.getvalue()
    ex = extract_pdf(data)
    assert ex.rows == []
    assert ex.images == ["page1/image1", "page2/image1", "page3/image1"]
    assert looks_image_only(ex)
    report = parse_document(data, source="scan.pdf", title_hint=TITLE)
    assert report.status == "image_only"
    assert report.cells == {}
    images = extract_images(data, "pdf")
    assert [name for name, _ in images] == ex.images
    assert all(len(blob) > 1000 for _, blob in images)


def test_docx_of_pictures_is_image_only():
    data = b.build_image_only_docx("某某县2022年政府信息公开工作年度报告", _png())
    ex = extract_docx(data)
    assert ex.rows == []
    assert len(ex.images) == 3 and all(name.startswith("word/media/") for name in ex.images)
    assert looks_image_only(ex)
    report = parse_document(data, source="pictures.docx")
    assert report.status == "image_only", report.to_json()["warnings"]
    assert report.cells == {}
    blobs = extract_images(data, "docx")
    assert blobs and blobs[0][1][:8] == b"\x89PNG\r\n\x1a\n"


def test_report_with_a_picture_is_still_a_report(models):
    data = b.build_docx(models["001"], "plain", image=_png())
    ex = extract_docx(data)
    assert ex.images and not looks_image_only(ex)
    report = parse_document(data, source="with-logo.docx")
    assert report.status == "report"
    assert b.expected_mismatches(report, models["001"]) == []


@pytest.mark.parametrize(
    ("title", "want"),
    [(TITLE, True), ("2021年度报告(图片版)", True), ("2021年度报告【扫描版】", True), ("2021年政府信息公开工作年度报告", False),
     (None, False)],
)
def test_image_title(title, want):
    assert is_image_title(title) is want


def test_extract_images_never_raises():
    assert extract_images(b"not a pdf", "pdf") == []
    assert extract_images(b"PK\x03\x04junk", "docx") == []
