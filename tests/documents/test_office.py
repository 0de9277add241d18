"""DOC, WPS, XLS and XLSX through LibreOffice / openpyxl, and the converter's failure modes."""

from __future__ import annotations

import time

import pytest

from crawler.parsers import office, parse_document
from crawler.parsers.model import ParseError

from . import builders as b


@pytest.mark.parametrize("url", ["report.doc", "report.wps", None])
def test_doc_and_wps_parse_to_expected_cells(legacy_files, models, url):
    data = legacy_files["doc"]
    assert data[:4] == b"\xd0\xcf\x11\xe0"
    report = parse_document(data, source="legacy", url=url)
    assert report.ok, report.error
    assert b.expected_mismatches(report, models["001"]) == []
    assert report.source_kind in ("doc", "wps")


def test_doc_rows_keep_merges(legacy_files, models):
    ex = office.extract_office(legacy_files["doc"], url="r.doc")
    assert ex.path == "doc-grid"
    assert b.row_mismatches(ex.rows, models["001"]) == []


def test_xls_parses_to_expected_cells(legacy_files, models):
    report = parse_document(legacy_files["xls"], source="r.xls", url="r.xls")
    assert report.ok, report.error
    assert b.expected_mismatches(report, models["001"]) == []


@pytest.mark.parametrize("case", ["001", "002"])
def test_xlsx_parses_to_expected_cells(models, case):
    data = b.build_xlsx(models[case])
    ex = office.extract_xlsx(data)
    assert b.row_mismatches(ex.rows, models[case]) == []
    report = parse_document(data, source="r.xlsx", url="r.xlsx")
    assert report.ok, report.error
    assert b.expected_mismatches(report, models[case]) == []


def test_converter_not_available(monkeypatch, legacy_files):
    monkeypatch.setattr(office, "soffice_path", lambda: None)
    with pytest.raises(ParseError, match="converter not available"):
        office.convert_with_libreoffice(b"x", "doc", "docx")
    report = parse_document(legacy_files["doc"], source="r.doc", url="r.doc")
    assert report.ok is False
    assert report.error.startswith("converter not available")


def test_conversion_time_limit_kills_the_converter(monkeypatch, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30 &\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(office, "soffice_path", lambda: str(fake))
    started = time.monotonic()
    with pytest.raises(ParseError, match="time limit"):
        office.convert_with_libreoffice(b"data", "doc", "docx", timeout=1)
    assert time.monotonic() - started < 8


def test_conversion_failure_has_a_reason(monkeypatch, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(office, "soffice_path", lambda: str(fake))
    with pytest.raises(ParseError, match=r"conversion failed.*could not be loaded"):
        office.convert_with_libreoffice(b"data", "doc", "docx")


def test_garbage_ole_gives_a_reason():
    from .conftest import require_binary

    require_binary("soffice")
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 4096
    report = parse_document(data, source="junk.doc", url="junk.doc")
    assert report.ok is False
    assert report.error


@pytest.mark.parametrize(
    ("data", "url", "ctype", "want"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le"), None, None, "xls"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"), None, None, "doc"),
        (b"\xd0\xcf\x11\xe0", "http://x.gov.cn/a/b.WPS?x=1", None, "wps"),
        (b"\xd0\xcf\x11\xe0", None, "application/vnd.ms-excel", "xls"),
        (b"{\\rtf1", None, None, "rtf"),
    ],
)
def test_guess_ext(data, url, ctype, want):
    assert office.guess_ext(data, url, ctype) == want
