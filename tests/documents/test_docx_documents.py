"""DOCX reports generated from the real fixtures (python-docx merges, several runs per cell) parse to the cell."""

from __future__ import annotations

import pytest

from crawler.parsers import parse_document
from crawler.parsers.docx_tables import extract_docx

from . import builders as b
from .conftest import PDF_LAYOUTS

CASES = b.table_cases()
DOCX_LAYOUTS = (*PDF_LAYOUTS, "nested")


@pytest.mark.parametrize("layout", DOCX_LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_docx_rows_hold_every_printed_cell(case, layout, models, docx_files):
    ex = extract_docx(docx_files[(case, layout)])
    assert ex.source_kind == "docx"
    assert ex.positional is True
    assert b.row_mismatches(ex.rows, models[case]) == []


@pytest.mark.parametrize("layout", DOCX_LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_docx_parses_to_expected_cells(case, layout, models, docx_files):
    report = parse_document(docx_files[(case, layout)], source=f"{case}-{layout}.docx")
    assert report.ok, report.error
    assert report.status == "report"
    assert report.source_kind == "docx"
    assert report.year == models[case].year
    assert report.formats["t3"] == models[case].fmt
    assert b.expected_mismatches(report, models[case]) == []
    assert all(p == "derived" or p.startswith("docx-grid") for p in {report.cells[k].path for k in models[case].expected})


def test_vmerge_continuations_are_copies(models, docx_files):
    rows = extract_docx(docx_files[("001", "plain")]).rows
    secret = next(r for r in rows if any("国家秘密" in c.text for c in r))
    group = next(c for c in secret if c.col == 1)
    assert (group.text, group.copy) == ("（三）不予公开", False)
    law = next(r for r in rows if any("法律行政法规禁止" in c.text for c in r))
    outer = [c for c in law if c.col in (0, 1)]
    assert [(c.text, c.copy) for c in outer] == [("三、本年度办理结果", True), ("（三）不予公开", True)]


def test_gridspan_gives_grid_columns(docx_files):
    rows = extract_docx(docx_files[("001", "plain")]).rows
    received = next(r for r in rows if r and r[0].text.startswith("一、本年新收"))
    assert (received[0].col, received[0].span) == (0, 3)
    assert [c.col for c in received[1:]] == list(range(3, 10))
    header = next(r for r in rows if any(c.text == "申请人情况" for c in r))
    assert [(c.col, c.span) for c in header] == [(0, 3), (3, 7)]


def test_text_in_several_runs_is_joined(docx_files):
    # the builder splits every cell's text into two runs: '四、结转下年' + '度继续办理'
    text = extract_docx(docx_files[("001", "plain")]).text
    assert "四、结转下年度继续办理\t4\t1\t0\t0\t0\t0\t5" in text


def test_nested_table_rows_follow_outer_row(docx_files):
    rows = extract_docx(docx_files[("001", "nested")]).rows
    i = next(i for i, r in enumerate(rows) if [c.text for c in r] == ["表三"])
    assert any(c.text == "申请人情况" for c in rows[i + 1])
