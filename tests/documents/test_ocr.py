"""OCR of image-only reports: image files, scanned PDFs and report images read offline by RapidOCR, tables rebuilt
from the boxes' geometry, every value flagged `ocr` with its confidence, doubtful values left unknown.

The fast tests feed synthetic OCR pages (boxes laid out from the real fixtures' grids) to the geometry and
confidence rules; the slow ones render real fixtures with headless Chromium, add scan noise (1° skew, 0.8×
scale, 120 dpi, JPEG quality 60) and run the real engine with the network blocked."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from crawler.parsers import ocr, parse_document
from crawler.parsers.dispatch import sniff
from crawler.parsers.ocr import OcrBox, OcrPage, image_kind
from crawler.parsers.ocr_docs import parse_images
from crawler.parsers.ocr_grid import build_grid, split_box
from crawler.parsers.ocr_report import report_from_pages

from . import builders as b
from . import test_ocr_render as r
from .conftest import require_binary

RESULTS: dict[str, tuple[int, int, int]] = {}  # rendering → (right, unknown, wrong), printed by -s


# --- fast: sniffing and geometry ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP"])
def test_image_files_are_sniffed(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, fmt)
    assert image_kind(buf.getvalue()) is not None
    assert sniff(buf.getvalue()) == "image"


def test_text_starting_like_a_bitmap_is_not_an_image():
    assert sniff("BM公司2021年政府信息公开工作年度报告".encode()) == "text"


def test_a_box_of_several_cells_is_split_but_narrative_is_not():
    parts = split_box(OcrBox(0, 0, 130, 20, "行政许可 0 12", 0.9))
    assert [p.text for p in parts] == ["行政许可", "0", "12"]
    assert parts[0].x1 <= parts[1].x0 < parts[2].x0
    line = OcrBox(0, 0, 300, 20, "2021 年共发布信息 7177 条", 0.9)
    assert split_box(line) == [line]


def test_synthetic_pages_give_every_cell(models):
    for case in ("001", "006"):
        model = models[case]
        report = report_from_pages([r.synthetic_page(model)], source=f"{case}.png")
        _right, unknown, wrong = r.score(report, model)
        assert (unknown, wrong) == (0, []), (case, unknown, wrong, report.warnings)
        assert report.formats["t3"] == model.fmt
        assert all(c.status == "ok" for c in report.checks if c.rule != "S3"), [c.to_json() for c in report.failed_checks()]
        read = [c for c in report.cells.values() if c.flag not in ("derived", "unknown")]
        assert read and all(c.flag == "ocr" and c.confidence == 0.99 for c in read)
        # a row printed without values (006 prints its table 二 empty) keeps its keys, unknown: never absent
        lost = [k for k, c in report.cells.items() if c.flag == "unknown"]
        assert all(k.startswith("t2.") for k in lost) and (case != "006" or len(lost) == 19)


def test_rows_keep_their_slots_when_a_value_is_not_detected(models):
    model = models["001"]
    page = r.synthetic_page(model)
    key = "t3.outcome.granted.research"
    page.boxes = [bx for bx in page.boxes if not _is_box_of(bx, model, key, page)]
    report = report_from_pages([page])
    assert report.value(key) is None and report.cells[key].flag == "unknown"
    right, _unknown, wrong = r.score(report, model)
    assert wrong == [] and right >= len(model.expected) - 7


def _is_box_of(bx: OcrBox, model: b.ReportModel, key: str, page: OcrPage) -> bool:
    """The box of one t3 value in a synthetic page (found by re-laying the page with that cell marked)."""
    marked = r.synthetic_page(model, text={key: "99999"})
    target = next(m for m in marked.boxes if m.text == "99999")
    return abs(bx.xc - target.xc) < 1 and abs(bx.yc - target.yc) < 1


def test_a_report_printing_empty_cells_gets_no_guessed_number(models):
    """002 prints its zeros as empty cells: with no page image to look at, an empty slot may be a value OCR did
    not read, so it is unknown — never 0, and no value moves into another column."""
    model = models["002"]
    report = report_from_pages([r.synthetic_page(model)], source="002.png")
    right, unknown, wrong = r.score(report, model)
    assert wrong == [], wrong
    assert report.value("t3.carried_in.natural") == 18 and report.value("t3.carried_in.total") == 18
    assert report.cells["t3.carried_in.commercial"].flag == "unknown"
    assert right + unknown == len(model.expected) and unknown > 0


def test_empty_cells_with_no_ink_are_printed_blanks(models):
    model = models["002"]
    page = r.synthetic_page(model)
    page.image = Image.new("L", (page.width, page.height), 255)  # nothing printed where no box was read
    report = report_from_pages([page], source="002.png")
    assert r.score(report, model) == (len(model.expected), 0, [])
    assert not report.failed_checks()
    blank = report.cells["t3.carried_in.commercial"]
    assert (blank.value, blank.flag, blank.confidence) == (0, "ocr", 1.0)
    assert report.cells["t3.outcome.granted.total"].flag == "derived"  # printed empty beside its parts: their sum


def test_ink_where_no_value_was_read_keeps_the_cell_unknown(models):
    from PIL import ImageDraw

    model = models["002"]
    key = "t3.carried_in.commercial"
    page = r.synthetic_page(model)
    page.image = Image.new("L", (page.width, page.height), 255)
    spot = next(bx for bx in r.synthetic_page(model, text={key: "99"}).boxes if bx.text == "99")
    ImageDraw.Draw(page.image).rectangle((spot.x0, spot.y0, spot.x1, spot.y1), fill=0)  # printed, not read
    report = report_from_pages([page], source="002.png")
    assert report.value(key) is None and report.cells[key].flag == "unknown"
    assert r.score(report, model)[2] == []


def test_ocr_text_with_radicals_is_stored_and_matched_as_ideographs(models):
    """A recogniser may give CJK radical code points (⺠ U+2EA0, ⼀ U+2F00) for 民, 一: the report reads 民."""
    model = models["001"]
    page = r.synthetic_page(model)
    title = next(bx for bx in page.boxes if bx.text == model.title)
    title.text = model.title.replace("民", "\u2ea0").replace("一", "\u2f00")
    assert title.text != model.title
    report = report_from_pages([page], source="001.png")
    assert report.title == model.title and report.agency == model.agency
    assert not any("\u2e80" <= ch <= "\u2fdf" for ch in report.text)
    assert report.ocr is not None and title.text in [bx[4] for bx in report.ocr["pages"][0]["boxes"]]  # boxes as read


def test_pages_continue_a_table(models):
    model = models["009"]
    page = r.synthetic_page(model)
    cut = page.height * 0.55
    top = OcrPage(page.width, int(cut), 0.0, [bx for bx in page.boxes if bx.yc < cut])
    bottom = OcrPage(page.width, page.height, 0.0, [OcrBox(bx.x0, bx.y0 - cut, bx.x1, bx.y1 - cut, bx.text, bx.conf)
                                                    for bx in page.boxes if bx.yc >= cut])
    assert len(build_grid([top, bottom]).rows) == len(build_grid([page]).rows)
    _right, unknown, wrong = r.score(report_from_pages([top, bottom]), model)
    assert (unknown, wrong) == (0, [])


# --- fast: the confidence rule -------------------------------------------------------------------------------


def test_low_confidence_value_confirmed_by_the_identities_is_kept(models):
    model = models["001"]
    key = "t3.outcome.unavailable.not_held.natural"  # 15
    report = report_from_pages([r.synthetic_page(model, conf={key: 0.6})])
    assert report.value(key) == 15 and report.cells[key].flag == "ocr" and report.cells[key].confidence == 0.6
    assert report.ocr is not None and report.ocr["confidence"][key] == 0.6


def test_low_confidence_misread_is_unknown_never_a_guess(models):
    model = models["001"]
    key = "t3.outcome.unavailable.not_held.natural"  # printed 15, misread 16
    report = report_from_pages([r.synthetic_page(model, conf={key: 0.6}, text={key: "16"})])
    assert report.value(key) is None and report.cells[key].flag == "unknown"
    assert report.cells[key].raw == "16"
    assert any(key in w and "not confirmed" in w for w in report.warnings)
    _right, _unknown, wrong = r.score(report, model)
    assert wrong == []
    assert not [c for c in report.checks if c.status == "fail"]  # the checks were recomputed without it


def test_confident_misread_fails_the_checks(models):
    model = models["001"]
    key = "t3.outcome.unavailable.not_held.natural"
    report = report_from_pages([r.synthetic_page(model, text={key: "16"})])
    assert report.value(key) == 16
    assert {(c.rule, c.scope) for c in report.failed_checks()} >= {("I3", "t3.outcome.unavailable.not_held")}


def test_value_no_identity_covers_needs_high_confidence(models):
    model = models["001"]
    page = r.synthetic_page(model)
    box = next(bx for bx in page.boxes if bx.text == "334")  # 行政规范性文件 现行有效件数
    box.conf = 0.96
    report = report_from_pages([page])
    key = "t2.normative_doc.in_force"
    assert report.value(key) is None and report.cells[key].flag == "unknown"
    box.conf = 0.99
    assert report_from_pages([page]).value(key) == 334


def test_boxes_are_kept_in_the_json(models):
    page = r.synthetic_page(models["001"])
    js = report_from_pages([page]).to_json()
    assert js["ocr"]["engine"] == "rapidocr"
    boxes = js["ocr"]["pages"][0]["boxes"]
    assert len(boxes) == len(page.boxes) and all(len(bx) == 6 for bx in boxes)
    assert ["334", 0.99] in [bx[4:] for bx in boxes]
    assert "ocr" not in parse_document(b"<html><body><p>x</p></body></html>").to_json()


def test_bad_image_bytes_are_a_warning_not_a_traceback():
    report = parse_document(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, source="broken.png")
    assert report.status in ("not_report", "error")
    assert any("not read" in w for w in report.warnings) or report.error


# --- slow: the real engine on rendered real fixtures ---------------------------------------------------------


@pytest.fixture(scope="module")
def shots(models):
    chromium = require_binary("chromium")
    return {case: r.screenshot(r.report_html(models[case]), chromium) for case in ("001", "002", "006", "009")}


def _check_reading(name: str, report, model: b.ReportModel) -> None:  # type: ignore[no-untyped-def]
    right, unknown, wrong = r.score(report, model)
    RESULTS[name] = (right, unknown, len(wrong))
    print(f"OCR {name}: {right} right, {unknown} unknown, {len(wrong)} wrong of {len(model.expected)}")
    assert report.status == "report", report.warnings
    assert report.formats["t3"] == model.fmt
    assert right >= 0.99 * len(model.expected), (unknown, wrong, report.warnings[:10])
    if not report.failed_checks():
        assert wrong == [], wrong  # no wrong number in a report whose checks all pass
    read = [c for c in report.cells.values() if c.flag not in ("derived", "unknown")]
    assert all(c.confidence is not None for c in read)
    assert {c.flag for c in read} <= {"ocr", "inferred"}


@pytest.mark.slow
def test_engine_starts_and_reads_offline(no_network, shots, models):
    ocr._engine = None  # the models must come from the wheel, not a download
    report = parse_document(r.jpeg(r.noisy(shots["001"])), source="001.jpg")
    assert no_network == []
    _check_reading("001 jpeg skew1 0.8x q60", report, models["001"])
    assert report.source_kind == "jpeg" and report.agency == models["001"].agency and report.year == 2021
    assert report.ocr["pages"][0]["boxes"] and abs(report.ocr["pages"][0]["skew"] + 1.0) < 0.3


@pytest.mark.slow
@pytest.mark.parametrize("case", ["006", "009", "002"])
def test_noisy_png_of_a_real_report(no_network, shots, models, case):
    report = parse_document(r.png(r.noisy(shots[case])), source=f"{case}.png")
    _check_reading(f"{case} png skew1 0.8x", report, models[case])


@pytest.mark.slow
@pytest.mark.parametrize("case", ["006", "002"])
def test_image_only_pdf_of_a_real_report(no_network, shots, models, case):
    pdf = r.image_pdf(r.split_pages(r.noisy(shots[case], skew=-1.0)), dpi=120, quality=60)
    report = parse_document(pdf, source=f"{case}-scan.pdf")
    assert report.source_kind == "pdf"
    _check_reading(f"{case} pdf 2 pages skew-1 0.8x 120dpi q60", report, models[case])


@pytest.mark.slow
def test_clean_screenshot_of_a_report_printing_empty_cells(no_network, shots, models):
    """002 (gov2019) prints its zeros as empty cells: the issue's case (3 wrong numbers, all checks passing)."""
    report = parse_document(r.png(shots["002"]), source="002.png")
    _check_reading("002 png clean", report, models["002"])


@pytest.mark.slow
def test_images_handed_in_as_bytes(no_network, shots, models):
    """The crawler's entry for an HTML page's <img> report: the images' bytes, in order."""
    halves = r.split_pages(r.noisy(shots["009"], skew=0.5), 2)
    report = parse_images([r.jpeg(h) for h in halves], source="009.html", title_hint=models["009"].title)
    _check_reading("009 two jpeg images", report, models["009"])
