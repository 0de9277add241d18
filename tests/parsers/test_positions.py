"""Cells whose columns are known but whose empties may be lost (OCR grids, ``Extracted.positional=False``):
each value stays in its column, an empty cell is unknown unless marked printed blank, and nothing is guessed."""

from __future__ import annotations

from crawler.parsers import keys as K
from crawler.parsers.lines import lines_from_rows
from crawler.parsers.model import Cell, CellValue
from crawler.parsers.resolve import derive
from crawler.parsers.tables import t3_row_values


def _row(label: str, texts: list[str], blank: frozenset[int] = frozenset()) -> list[Cell]:
    return [Cell(label, 0)] + [Cell(t, 1 + i, blank=i in blank) for i, t in enumerate(texts)]


def test_values_keep_their_columns_and_empties_are_unknown():
    (line,) = lines_from_rows([_row("二、上年结转政府信息公开申请数量", ["18", "", "", "", "", "", "18"])], "ocr-grid", False)
    assert [t.value for t in line.vals] == [18, None, None, None, None, None, 18]
    assert [t.flag for t in line.vals][1:6] == ["unknown"] * 5 and line.missing == 0
    toks = t3_row_values(line)
    assert toks is not None and [t.value for t in toks] == [18, None, None, None, None, None, 18]  # type: ignore[union-attr]


def test_an_empty_cell_marked_printed_blank_counts_as_zero():
    (line,) = lines_from_rows([_row("一、本年新收政府信息公开申请数量", ["821", "35", "", "", "2", "1", "859"], frozenset({2, 3}))],
                              "ocr-grid", False)
    assert [(t.value, t.flag) for t in line.vals][1:5] == [(35, "num"), (0, "blank"), (0, "blank"), (2, "num")]


def test_two_boxes_in_one_column_are_one_unknown_not_a_shift():
    row = [Cell("（一）予以公开", 0), Cell("25", 1), Cell("8", 1), Cell("12", 2)] + [Cell("", c) for c in range(3, 8)]
    (line,) = lines_from_rows([row], "ocr-grid", False)
    assert len(line.vals) == 7
    assert line.vals[0].value is None and line.vals[0].raw == "25 8" and line.vals[1].value == 12


def test_a_row_with_fewer_columns_than_the_table_is_not_placed_by_guess():
    # five columns (a band whose empty columns left no trace): left/right placement would fit I3 and be wrong
    (line,) = lines_from_rows([_row("（七）总计", ["767", "35", "2", "1", "805"])], "ocr-grid", False)
    assert t3_row_values(line) is None


def test_cells_without_positions_are_still_packed_with_their_empties_counted():
    row = [Cell("规章"), Cell("3"), Cell(""), Cell("5")]
    (line,) = lines_from_rows([row], "text", False)
    assert [t.value for t in line.vals] == [3, 5] and line.missing == 1


def test_a_blank_total_beside_an_unknown_part_is_unknown_not_zero():
    row = "t3.outcome.partial"
    cells = {f"{row}.{c}": CellValue(0, "", "blank") for c in K.T3_COLS}
    cells[f"{row}.natural"] = CellValue(3, "3", "num")
    cells[f"{row}.commercial"] = CellValue(None, "", "unknown")
    derive(cells, "gov2019")
    assert cells[f"{row}.total"].value is None and cells[f"{row}.total"].flag == "unknown"
    cells[f"{row}.commercial"] = CellValue(0, "", "blank")
    cells[f"{row}.total"] = CellValue(0, "", "blank")
    derive(cells, "gov2019")
    assert cells[f"{row}.total"].value == 3 and cells[f"{row}.total"].flag == "derived"
