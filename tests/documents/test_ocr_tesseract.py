"""Tesseract as the alternative OCR engine: the same boxes, grid and report code as RapidOCR, chosen by
``read_page(img, engine=...)`` or ``OGI_OCR_ENGINE``.

Fast tests: engine selection, the TSV → box conversion (touching words merged, confidences 0–100 → 0–1), the
rule removal and deskew, and a missing binary giving a reason instead of a traceback. Slow tests render real
fixtures (headless Chromium, 1° skew, 0.8× scale, JPEG quality 60) and run the real ``tesseract`` binary with
the network blocked; they skip when it is missing (scripts/setup-system.sh installs it; CI fails instead)."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageDraw

from crawler.parsers import ocr, ocr_tesseract, parse_document
from crawler.parsers.ocr import OcrUnavailable, engine_name
from crawler.parsers.ocr_report import report_from_pages

from . import builders as b
from . import test_ocr_render as r
from .conftest import require_binary

HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def _tsv(*words: tuple[int, int, int, int, int, float, str], line: int = 1) -> str:
    rows = [HEADER, f"4\t1\t1\t1\t{line}\t0\t0\t0\t900\t30\t-1\t"]
    for n, (x, y, w, h, ln, conf, text) in enumerate(words, 1):
        rows.append(f"5\t1\t1\t1\t{ln}\t{n}\t{x}\t{y}\t{w}\t{h}\t{conf}\t{text}")
    return "\n".join(rows) + "\n"


# --- fast: selection and conversion --------------------------------------------------------------------------


def test_rapidocr_is_the_default_and_the_setting_or_argument_chooses(monkeypatch):
    monkeypatch.delenv("OGI_OCR_ENGINE", raising=False)
    assert engine_name() == "rapidocr"
    monkeypatch.setenv("OGI_OCR_ENGINE", "Tesseract")
    assert engine_name() == "tesseract"
    assert engine_name("rapidocr") == "rapidocr"  # the argument wins over the setting
    with pytest.raises(OcrUnavailable, match=r"unknown OCR engine 'paddle'.*rapidocr, tesseract"):
        engine_name("paddle")


def test_touching_words_are_one_box_and_cells_stay_apart():
    tsv = _tsv(
        (40, 10, 20, 20, 1, 96.5, "行"), (61, 10, 20, 20, 1, 91.0, "政"), (82, 10, 20, 20, 1, 93.0, "许可"),
        (300, 12, 30, 18, 1, 88.0, "7177"),  # its own cell: far from the label
        (335, 12, 10, 18, 1, 70.0, "12"),  # touches 7177: one box, kept splittable by a space
        (40, 50, 20, 20, 2, 99.0, "第"),  # next line: never merged upwards
        (90, 50, 20, 20, 2, -1.0, " "),  # empty word
    )
    boxes = ocr_tesseract.merge_words(ocr_tesseract.parse_tsv(tsv))
    assert [(bx.text, bx.conf) for bx in boxes] == [("行政许可", 0.91), ("7177 12", 0.70), ("第", 0.99)]
    assert (boxes[0].x0, boxes[0].y0, boxes[0].x1, boxes[0].y1) == (40, 10, 102, 30)


def test_table_rules_are_removed_and_characters_kept():
    img = Image.new("L", (400, 200), 255)
    d = ImageDraw.Draw(img)
    d.line((10, 50, 390, 50), fill=0, width=2)  # a row rule
    d.line((200, 10, 200, 190), fill=0, width=1)  # a column rule
    d.rectangle((100, 100, 112, 115), fill=0)  # a character-sized blot
    out = ocr_tesseract.without_rules(img)
    assert out.getpixel((300, 50)) == 255 and out.getpixel((200, 150)) == 255
    assert out.getpixel((106, 108)) == 0


def test_skew_is_measured_in_the_sense_rapidocr_reports():
    img = Image.new("L", (1000, 800), 255)
    d = ImageDraw.Draw(img)
    for y in range(60, 760, 40):
        for x in range(60, 940, 30):
            d.rectangle((x, y, x + 18, y + 14), fill=0)
    skew = ocr_tesseract.estimate_skew(r.noisy(img.convert("RGB"), skew=1.0, scale=1.0).convert("L"))
    assert abs(skew + 1.0) <= 0.2  # noisy() turns the page 1° anticlockwise; the lines then slope by -1°
    assert ocr_tesseract.estimate_skew(Image.new("L", (300, 300), 255)) == 0.0


def test_missing_binary_is_a_reason_not_a_traceback(monkeypatch):
    monkeypatch.setattr(ocr_tesseract.shutil, "which", lambda _name: None)
    ocr_tesseract.binary.cache_clear()
    try:
        with pytest.raises(OcrUnavailable, match="tesseract not installed"):
            ocr.read_page(Image.new("RGB", (1200, 1200), "white"), engine="tesseract")
        monkeypatch.setenv("OGI_OCR_ENGINE", "tesseract")
        buf = io.BytesIO()
        Image.new("RGB", (1200, 1200), "white").save(buf, "PNG")
        report = parse_document(buf.getvalue(), source="scan.png")
        assert report.status == "error" and "tesseract not installed" in (report.error or "")
    finally:
        ocr_tesseract.binary.cache_clear()


# --- slow: the real binary on rendered real fixtures ---------------------------------------------------------


@pytest.fixture(scope="module")
def renderings(models):
    """Two scans of real fixtures: 001 as JPEG (q60) and 009 as PNG, both 1° skew and 0.8× scale."""
    require_binary("tesseract")
    chromium = require_binary("chromium")
    shots = {case: r.screenshot(r.report_html(models[case]), chromium) for case in ("001", "009")}
    return {"001 jpeg skew1 0.8x q60": ("001", r.jpeg(r.noisy(shots["001"]))),
            "009 png skew1 0.8x": ("009", r.png(r.noisy(shots["009"])))}


def _assert_no_wrong_number(report, model: b.ReportModel) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    right, unknown, wrong = r.score(report, model)
    assert report.status == "report", report.warnings[:5]
    if not report.failed_checks():
        assert wrong == [], wrong  # no wrong number in a report whose checks all pass
    read = [c for c in report.cells.values() if c.flag not in ("derived", "unknown")]
    assert all(c.confidence is not None and 0 <= c.confidence <= 1 for c in read)
    assert {c.flag for c in read} <= {"ocr", "inferred"}
    return right, unknown, len(wrong)


@pytest.mark.slow
def test_tesseract_reads_a_rendered_real_report_offline(no_network, renderings, models, monkeypatch):
    monkeypatch.setenv("OGI_OCR_ENGINE", "tesseract")
    case, data = renderings["001 jpeg skew1 0.8x q60"]
    report = parse_document(data, source="001.jpg")
    assert no_network == []
    right, _unknown, _wrong = _assert_no_wrong_number(report, models[case])
    assert not report.failed_checks(), [c.to_json() for c in report.failed_checks()]
    assert right > 0 and report.formats["t3"] == models[case].fmt
    page = report.ocr["pages"][0]
    assert page["engine"] == "tesseract" and page["boxes"] and abs(page["skew"] + 1.0) < 0.3


@pytest.mark.slow
def test_tesseract_against_rapidocr_on_two_renderings(no_network, renderings, models):
    """Cells right / unknown / wrong and seconds per page for both engines (printed with -s)."""
    for name, (case, data) in renderings.items():
        img = ocr.load_pages(data)[0][0]
        ocr.engine()  # RapidOCR's model load (~20 s on a busy CPU) is not a page's time
        for engine in ("tesseract", "rapidocr"):
            t0 = time.perf_counter()
            page = ocr.read_page(img, engine=engine)
            seconds = time.perf_counter() - t0
            assert page.engine == engine
            report = report_from_pages([page], source=f"{case}.img")
            right, unknown, wrong = _assert_no_wrong_number(report, models[case])
            print(f"OCR {engine} {name}: {right} right, {unknown} unknown, {wrong} wrong of "
                  f"{len(models[case].expected)}; {seconds:.1f} s/page")
            if engine == "rapidocr":
                assert right >= 0.99 * len(models[case].expected)  # the default is unchanged by the choice
    assert no_network == []
