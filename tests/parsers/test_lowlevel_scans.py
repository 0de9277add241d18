"""Scanned reports: an image-only PDF is recognised as a scan by the PDF reader (issue 11 "Scanned reports"),
and a file's title property is a hint only when the document prints it (or is a scan)."""

from __future__ import annotations

import pytest

from crawler.parsers.normalize import document_title
from crawler.parsers.pdf_tables import extract_pdf
from tests.documents import hostile as h

TITLE = "平潭综合实验区2019年度政府信息公开工作年度报告"


@pytest.mark.parametrize("pages", [1, 3])
def test_image_only_pdf_is_a_scan(pages: int) -> None:
    ex = extract_pdf(h.image_only_pdf(pages))
    assert ex.scanned is True
    assert ex.text == "" and ex.rows == []
    assert ex.images == [f"page{n}/image1" for n in range(1, pages + 1)]


def test_scan_keeps_its_title_property() -> None:
    ex = extract_pdf(h.image_only_pdf(2, title=TITLE))
    assert ex.scanned and ex.title_hint == TITLE


@pytest.mark.parametrize(
    "data",
    [
        h.pdf_with_content(b"BT /F1 12 Tf 72 720 Td (page) Tj ET"),  # a text layer
        h.many_pages_pdf(2),
    ],
)
def test_a_pdf_with_text_is_not_a_scan(data: bytes) -> None:
    assert extract_pdf(data).scanned is False


def test_image_only_pdf_with_a_title_is_image_only() -> None:
    from crawler.parsers import parse_document

    report = parse_document(h.image_only_pdf(2), source="scan.pdf", title_hint=TITLE)
    assert report.status == "image_only" and report.ok
    assert report.year == 2019


LONG = "根据《中华人民共和国政府信息公开条例》要求，现公布本年度报告。" * 10


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (TITLE, TITLE + "\n" + LONG, TITLE),  # printed: kept
        ("平潭综合实验区 2019年度政府信息公开工作年度报告", TITLE + "\n" + LONG, "平潭综合实验区 2019年度政府信息公开工作年度报告"),
        ("Microsoft Word - " + TITLE + ".docx", TITLE + "\n" + LONG, TITLE),
        ("某市2017年政府信息公开工作年度报告", TITLE + "\n" + LONG, None),  # a template's leftover: dropped
        ("某市2017年政府信息公开工作年度报告", "", "某市2017年政府信息公开工作年度报告"),  # a scan: the only title
        (None, LONG, None),
        ("Microsoft Word - .docx", LONG, None),
    ],
)
def test_document_title(title: str | None, text: str, expected: str | None) -> None:
    assert document_title(title, text) == expected


def test_a_scan_with_no_title_is_image_only_not_a_non_report() -> None:
    from crawler.parsers.core import build_report
    from crawler.parsers.model import Extracted

    ex = Extracted(rows=[], text="", source_kind="pdf", images=["page1/image1", "page2/image1"], scanned=True)
    report = build_report(ex, source="scan.pdf")
    assert report.status == "image_only" and report.ok and report.error is None
    not_scanned = Extracted(rows=[], text="", source_kind="pdf", images=["page1/image1"])
    assert build_report(not_scanned).status == "not_report"


@pytest.mark.slow  # the OCR engine starts and reads the scan
def test_untitled_scanned_pdf_is_image_only_after_ocr_finds_nothing() -> None:
    from crawler.parsers import parse_document

    report = parse_document(h.image_only_pdf(2), source="scan.pdf")
    assert report.status == "image_only", (report.status, report.error, report.warnings)
