"""Column slots from OCR header boxes: glued headings split through OCR noise, and a box across several columns
(headings or digits read as one box) making no column of its own — so an empty cell is only ever called a printed
blank in a column the header geometry or the printed values really have.

The pages are built by hand from the boxes Tesseract gave for the bench's rendering of real fixture 002 (gov2019,
zeros printed as empty cells), where the heading box ``商业企业科研机构社会公益组织 “法律服务机构其他`` (x 587–913)
once became one extra column between the printed digits of ``(一) 予以公开 258 | 12 | … | 1 | 1`` and the ink
test there stored a confident 0 for 商业企业 and shifted 12 into 科研机构. No OCR engine is needed."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from crawler.parsers.ocr import OcrBox, OcrPage
from crawler.parsers.ocr_grid import build_grid, column_slots, glued_headings, split_box
from crawler.parsers.ocr_report import report_from_pages

GLUED = "商业企业科研机构社会公益组织 “法律服务机构其他"
T3_HEADS = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]

# the true column centres of table 三 on that rendering (自然人 … 总计), from the printed digits and headings
COLS = {"natural": 557, "commercial": 612, "research": 675, "nonprofit": 750, "legal_service": 836, "other_org": 897,
        "total": 932}


@pytest.mark.parametrize(("text", "want"), [
    (GLUED, T3_HEADS),  # the box of the bug: a stray quote and 其他 glued on
    ("商业企业科研机构社会公益组织法律服务机构其他", T3_HEADS),
    ("商业企业 | 科研机构 ,社会公益组织。 法律服务机构‘其他", T3_HEADS),  # other punctuation noise
    ("「自然人」商业企业", ["自然人", "商业企业"]),
    ("其他结果尚未审结", ["其他结果", "尚未审结"]),  # 其他结果 whole, not 其他 + 结果
    ("结果维持 “结果纠正", ["结果维持", "结果纠正"]),
    ("结果纠正 ”其他结果", ["结果纠正", "其他结果"]),
    ("尚未审结总计 Bit", ["尚未审结", "总计", "Bit"]),  # a misread heading keeps its own share of the width
    ("⾃然⼈商业企业", ["自然人", "商业企业"]),  # Kangxi radicals folded before matching
    ("ｓ商业企业 科研机构", ["s", "商业企业", "科研机构"]),  # full-width letters NFKC-folded
])
def test_glued_headings_are_found_through_noise(text, want):
    assert glued_headings(text) == want


@pytest.mark.parametrize("text", [
    "尚未审结 Bit",  # one heading and junk: nothing to split
    "商业企业",
    "其他法律行政法规禁止公开",  # narrative that starts with a heading word
    "商业企业 12 科研机构",  # a digit: a row of values, not of headings
    "商业企业科研机构的申请",  # a word that is no heading
    "商业企业 Abcdefg 科研机构",  # a long Latin run is text, not a misread heading
])
def test_text_that_is_not_glued_headings_stays_whole(text):
    assert glued_headings(text) is None
    box = OcrBox(0, 0, 200, 20, text, 0.9)
    assert split_box(box) == [box]


def test_the_glued_box_splits_onto_the_true_columns():
    parts = split_box(OcrBox(587, 731, 913, 757, GLUED, 0.536))
    assert [p.text for p in parts] == T3_HEADS
    centres = dict(zip(T3_HEADS, (p.xc for p in parts), strict=True))
    for head, col in zip(T3_HEADS, ("commercial", "research", "nonprofit", "legal_service", "other_org"), strict=True):
        assert abs(centres[head] - COLS[col]) <= 8, (head, centres[head], COLS[col])
    assert all(p.conf == 0.536 for p in parts) and parts[0].x0 == 587 and parts[-1].x1 == 913


def _b(x0: float, x1: float, text: str, y: float = 0, h: float = 11) -> OcrBox:
    return OcrBox(x0, y, x1, y + h, text, 0.95)


@pytest.mark.parametrize(("marks", "want"), [
    # narrow boxes: one slot per column
    ([_b(547, 567, "258"), _b(606, 618, "12"), _b(833, 837, "1")], [557, 612, 835]),
    # a number box across two columns (`82135` for 821 | 35) makes no slot between them
    ([_b(547, 567, "258"), _b(606, 618, "12"), _b(546, 619, "82135")], [557, 612]),
    # a heading box across several value columns makes none either
    ([_b(547, 567, "258"), _b(606, 618, "12"), _b(833, 837, "1"), _b(894, 899, "1"), _b(587, 913, GLUED)],
     [557, 612, 835, 896.5]),
    # a wide box over one column only is that column (its centre joins the column's values)
    ([_b(547, 567, "258"), _b(600, 624, "12"), _b(590, 634, "商业企业")], [557, 612]),
    # a box across one other column is not spanning: two columns need two centres inside it
    ([_b(547, 567, "258"), _b(590, 690, "科研机构")], [557, 640]),
])
def test_a_box_across_columns_makes_no_slot(marks, want):
    assert column_slots(marks, 10) == pytest.approx(want, abs=0.01)


# Tesseract's boxes of the top of table 三 on fixture 002's rendering (x0, y0, x1, y1, text, conf)
HEADER_BOXES = [
    (38, 641, 292, 666, "三、收到和处理政府信息公开申请情况", 0.924),
    (739, 678, 773, 704, "人情况", 0.838),
    (710, 685, 773, 698, "申请", 0.969),
    (76, 705, 203, 731, "(本列数据的勾稽关系", 0.0),
    (210, 705, 305, 731, "为 : 第一项加第二", 0.719),
    (311, 705, 341, 731, "项之和，", 0.918),
    (354, 705, 494, 731, "等于第三项加第四项之和 )", 0.922),
    (703, 705, 792, 731, "法人或其他组织", 0.867),
    (539, 724, 575, 737, "ams", 0.252),  # 自然人, misread
    (921, 724, 945, 737, "om", 0.425),  # 总计, misread
]
GLUED_BOX = (587, 731, 913, 757, GLUED, 0.536)
ROW_BOXES = [
    (546, 765, 619, 776, "82135", 0.531),  # 821 | 35 read as one number across two columns
    (832, 765, 838, 776, "2", 0.97),
    (922, 765, 943, 776, "859", 0.758),
    (183, 757, 387, 783, "一、本年新收政府信息公开申请数量", 0.91),
    (894, 765, 899, 776, "1", 0.758),
    (927, 791, 939, 802, "18", 0.93),
    (183, 784, 387, 810, "二、上年结转政府信息公开申请数量", 0.914),
    (551, 792, 563, 802, "18", 0.929),
    (606, 818, 618, 829, "12", 0.7),
    (833, 818, 837, 829, "1", 0.943),
    (894, 818, 899, 829, "1", 0.96),
    (347, 817, 392, 830, "予以公开", 0.967),
    (311, 815, 337, 835, "(一 )", 0.93),
    (547, 815, 567, 834, "258", 0.968),
    (227, 837, 258, 863, "分公开", 0.932),  # (二) 部分公开 …: its label reaches x 560 (the label column's edge)
    (310, 837, 560, 863, "处理的，只计这一情形，不计其他情形 ) 。 3", 0.49),
    (177, 843, 199, 856, "(=)", 0.955),
    (267, 843, 303, 856, "〈区分", 0.649),
    (208, 843, 258, 857, "部", 0.969),
]


def _page(heading: tuple = GLUED_BOX) -> OcrPage:
    boxes = [OcrBox(*t) for t in (*HEADER_BOXES, heading, *ROW_BOXES)]
    image = Image.new("L", (1147, 1564), 255)  # ink where a box was read, white elsewhere (cells printed empty)
    draw = ImageDraw.Draw(image)
    for b in boxes:
        draw.rectangle((b.x0, b.y0 + 2, b.x1, b.y1 - 2), fill=0)
    return OcrPage(1147, 1564, 0.0, boxes, image, "tesseract")


def _granted(page: OcrPage):
    grid = build_grid([page])
    return next(r for r in grid.rows if any("予以公开" in c.text for c in r.cells))


@pytest.mark.parametrize("heading", [
    GLUED,  # the bug's box
    "商业企业科研机构社会公益组织 | 法律服务机构其他",
    "商业企业 科研机构 社会公益组织 法律服务机构 其他",
])
def test_glued_heading_row_keeps_its_digits_in_their_columns(heading):
    row = _granted(_page((587, 731, 913, 757, heading, 0.536)))
    values = [(c.col, c.text, c.blank) for c in row.cells if c.col]
    assert values == [(1, "258", False), (2, "12", False), (3, "", True), (4, "", True), (5, "1", False),
                      (6, "1", False), (7, "", True)]


@pytest.mark.parametrize("heading", [
    "商业企业科研机构社会公益组织法律服务机构其他人员",  # a word no heading list knows: the box stays whole
    "商业企业科研机构社会公益组织 “法律服务机构其他的",
])
def test_an_unsplit_heading_box_across_columns_makes_no_blank_between_digits(heading):
    row = _granted(_page((587, 731, 913, 757, heading, 0.536)))
    cells = [c for c in row.cells if c.col]
    texts = [c.text for c in cells]
    # the digits keep their order and no empty cell is invented between 12 and the 1s (where the box's centre is)
    assert [t for t in texts if t] == ["258", "12", "1", "1"]
    first, last = texts.index("12"), texts.index("1")
    assert all(c.text for c in cells[first : last + 1]), texts


@pytest.mark.parametrize("heading", [GLUED, "商业企业科研机构社会公益组织法律服务机构其他人员"])
def test_no_confident_wrong_number_for_the_row(heading):
    report = report_from_pages([_page((587, 731, 913, 757, heading, 0.536))], source="002.jpg", source_kind="jpeg")
    got = {k.rsplit(".", 1)[1]: c.value for k, c in report.cells.items() if k.startswith("t3.outcome.granted.")}
    truth = {"natural": 258, "commercial": 12, "research": 0, "nonprofit": 0, "legal_service": 1, "other_org": 1,
             "total": 272}
    assert got, report.warnings
    wrong = {k: v for k, v in got.items() if v is not None and v != truth[k]}
    assert wrong == {}, (wrong, report.warnings)
    assert got["commercial"] in (12, None) and got["research"] in (0, None)
    parts = [got[c] for c in ("natural", "commercial", "research", "nonprofit", "legal_service", "other_org")]
    if None in parts:  # the printed-blank total is their sum: not known when a part is not (never a guess)
        assert got["total"] is None
        assert report.cells["t3.outcome.granted.total"].flag == "unknown"
