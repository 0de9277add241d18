"""CJK radical code points (PDF text layers printed by Chromium / Word) read as the ideographs they stand for.

`北京市⺠政局` is 北京市民政局: same agency, date, sections, scope and cells as the clean text, and the stored
text reads 民 (search finds it). Issue 11, "PDF text with radicals".
"""

from __future__ import annotations

import io
import itertools
import unicodedata
import zipfile
from pathlib import Path

import pytest

from crawler.parsers import parse_document
from crawler.parsers.decode import decode
from crawler.parsers.html_tables import extract_html
from crawler.parsers.normalize import RADICALS, clean_space, fold_radicals, nfkc, norm_label
from tests.documents.hostile import assemble_pdf

REAL = Path(__file__).parent.parent / "fixtures" / "real"
TEXTS = sorted([*REAL.glob("0*.txt"), *REAL.glob("0*.html")])
EUI = Path("/usr/share/unicode/EquivalentUnifiedIdeograph.txt")  # Debian unicode-data, when installed

# CJK unified ideograph blocks (URO, Ext A–H, compatibility excluded)
_UNIFIED = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF), (0x30000, 0x323AF))


def _is_unified(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _UNIFIED)


def test_every_assigned_radical_has_a_unified_ideograph() -> None:
    supplement = [chr(c) for c in range(0x2E80, 0x2F00) if unicodedata.name(chr(c), None)]
    kangxi = [chr(c) for c in range(0x2F00, 0x2FE0) if unicodedata.name(chr(c), None)]
    assert len(supplement) == 115 and len(kangxi) == 214
    missing = [f"U+{ord(c):04X}" for c in supplement + kangxi if c not in RADICALS]
    assert missing == ["U+2E80"]  # CJK RADICAL REPEAT: Unicode gives no equivalent ideograph
    assert all(_is_unified(v) and len(v) == 1 for v in RADICALS.values())
    assert all(RADICALS[c] == unicodedata.normalize("NFKC", c) for c in kangxi)


@pytest.mark.skipif(not EUI.exists(), reason="Unicode data file not installed (apt-get install unicode-data)")
def test_table_is_unicodes_equivalent_unified_ideograph_data() -> None:
    expected: dict[str, str] = {}
    for line in EUI.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        cps, target = (x.strip() for x in line.split(";"))
        lo, _, hi = cps.partition("..")
        for c in range(int(lo, 16), int(hi or lo, 16) + 1):
            if 0x2E80 <= c <= 0x2FDF:
                expected[chr(c)] = chr(int(target, 16))
    assert RADICALS == expected


@pytest.mark.parametrize(
    ("printed", "reads"),
    [
        ("北京市⺠政局", "北京市民政局"),  # U+2EA0, the case of issue 11
        ("⼯作⽇⾏政⼀", "工作日行政一"),  # Kangxi U+2F2F U+2F47 U+2F8F U+2F00
        ("⻓沙市⻔户⽹站⻚⾯", "长沙市门户网站页面"),
        ("⻅⻋⻢⻥⻦⻰⻳", "见车马鱼鸟龙龟"),
        ("⺟⺠", "母民"),
        ("⺀", "⺀"),  # no equivalent: kept as printed
        ("plain 文字 123", "plain 文字 123"),
    ],
)
def test_fold_and_matching_forms(printed: str, reads: str) -> None:
    assert fold_radicals(printed) == reads
    assert nfkc(printed) == nfkc(reads)
    assert clean_space(printed) == clean_space(reads)
    assert norm_label(printed) == norm_label(reads)


def _radicalise(text: str) -> str:
    """Print the text the way a Chromium PDF's text layer gives it: every ideograph with a radical form
    replaced by it, alternating between the supplement and Kangxi forms where both exist."""
    forms: dict[str, list[str]] = {}
    for radical, ideograph in RADICALS.items():
        forms.setdefault(ideograph, []).append(radical)
    turn = itertools.count()
    return "".join(forms[ch][next(turn) % len(forms[ch])] if ch in forms else ch for ch in text)


def _summary(report) -> dict:  # type: ignore[no-untyped-def]
    data = report.to_json()
    keep = ("ok", "status", "title", "agency", "year", "year_source", "published", "scope", "formats", "cells",
            "flags", "sections", "text")
    return {k: data[k] for k in keep}


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.stem)
def test_radical_text_reads_exactly_as_the_clean_text(path: Path) -> None:
    clean = path.read_text(encoding="utf-8")
    printed = _radicalise(clean)
    assert printed != clean and fold_radicals(printed) == clean
    want = _summary(parse_document(clean.encode(), source=path.name, url=path.name))
    got = _summary(parse_document(printed.encode(), source=path.name, url=path.name))
    assert got == want


def test_beijing_agency_date_sections_and_scope() -> None:
    """The report of issue 11: a Chromium-printed 北京市⺠政局 report is the 北京市民政局 report."""
    base = (REAL / "009.txt").read_text(encoding="utf-8")  # six sections, aggregate scope, a 发布时间
    clean = base.replace("平潭综合实验区2022年度", "北京市民政局2022年度")
    printed = _radicalise(clean)
    assert "北京市⺠政局" in printed
    want = parse_document(clean.encode(), source="clean.txt")
    got = parse_document(printed.encode(), source="printed.txt")
    assert want.agency == "北京市民政局" and got.agency == "北京市民政局"
    assert got.published == want.published == "2023-02-20"
    assert list(got.sections) == list(want.sections) and len(got.sections) == 6
    assert got.scope == want.scope == "aggregate"
    assert got.cells.keys() == want.cells.keys() and got.to_json()["cells"] == want.to_json()["cells"]
    assert "北京市民政局" in got.text and "⺠" not in got.text


def test_html_reader_folds_text_cells_and_head() -> None:
    page = (
        "<html><head><title>北京市⺠政局2024年政府信息公开⼯作年度报告</title></head><body>"
        "<p>⼀、总体情况</p><table><tr><td>⾏政许可</td><td>3</td></tr></table></body></html>"
    )
    ex = extract_html(page)
    assert ex.title_hint is not None and "北京市民政局" in ex.title_hint and "工作" in ex.title_hint
    assert "一、总体情况" in ex.text and "行政许可" in ex.text
    assert ex.rows[0][0].text == "行政许可"
    text, _ = decode(page.encode("gb18030"), "text/html; charset=gbk")
    assert "北京市民政局" in text and "⺠" not in text


def _docx(paragraphs: list[str], cells: list[str]) -> bytes:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    paras = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    row = "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in cells)
    xml = f'<?xml version="1.0"?><w:document {w}><w:body>{paras}<w:tbl><w:tr>{row}</w:tr></w:tbl></w:body></w:document>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml)
    return buf.getvalue()


def test_docx_reader_folds_text_and_cells() -> None:
    from crawler.parsers.docx_tables import extract_docx

    ex = extract_docx(_docx(["北京市⺠政局", "⼀、总体情况"], ["⾏政许可", "3"]))
    assert "北京市民政局" in ex.text and "一、总体情况" in ex.text
    assert [c.text for c in ex.rows[0]] == ["行政许可", "3"]


def _pdf_with_to_unicode(codes: dict[str, str], shown: str) -> bytes:
    """A one-page PDF whose font maps byte codes to the given code points through /ToUnicode (what a
    Chromium PDF does for CJK glyphs it names as radicals)."""
    bf = "".join(f"<{ord(k):02X}> <{ord(v):04X}>\n" for k, v in codes.items())
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /R def "
        "1 begincodespacerange <00> <FF> endcodespacerange "
        f"{len(codes)} beginbfchar\n{bf}endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    content = f"BT /F1 24 Tf 72 700 Td ({shown}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    return assemble_pdf(objs)


def test_pdf_reader_folds_a_to_unicode_radical() -> None:
    from crawler.parsers.pdf_tables import extract_pdf

    data = _pdf_with_to_unicode({"A": "北", "B": "京", "C": "市", "D": "⺠", "E": "政", "F": "局", "G": "⼯"}, "ABCDEFG")
    ex = extract_pdf(data)
    assert "北京市民政局工" in ex.text.replace(" ", "")
    assert "⺠" not in ex.text and "⼯" not in ex.text
