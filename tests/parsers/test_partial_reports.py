"""The partial excerpts (real pages cut after 1–2k characters) in layouts the full fixtures lack:
pipe-flattened rows, one cell per line, `|` placeholders, blank template cells, Traditional-script mirrors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.parsers import parse_document
from crawler.parsers.keys import T3_COLS

PARTIAL = Path(__file__).parent.parent / "fixtures" / "real" / "partial"

T3_ROWS = {
    "一、本年新收": "t3.received_new",
    "二、上年结转": "t3.carried_in",
    "三、（一）予以公开": "t3.outcome.granted",
    "三、（二）部分公开": "t3.outcome.partial",
}
WITHHELD = ["state_secret", "law_prohibited", "security_stability", "third_party", "internal_affairs",
            "process_info", "enforcement_file", "admin_query"]
COLS = ["natural", "commercial", "research", "nonprofit", "legal_service", "other_org", "total"]
T2_2021 = {"规章": ("t2.regulation", ["issued", "repealed", "in_force"]),
           "行政规范性文件": ("t2.normative_doc", ["issued", "repealed", "in_force"]),
           "行政许可": ("t2.licensing", ["decisions"]), "行政处罚": ("t2.penalty", ["decisions"]),
           "行政强制": ("t2.coercion", ["decisions"]), "行政事业性收费(万元)": ("t2.admin_fee", ["amount_wan"])}
T2_2019 = {"规章": ("t2.regulation", ["made_new", "published_new", "published_total"]),
           "规范性文件": ("t2.normative_doc", ["made_new", "published_new", "published_total"]),
           "行政许可": ("t2.licensing", ["prev_items", "delta", "decisions"]),
           "其他对外管理服务事项": ("t2.other_service", ["prev_items", "delta", "decisions"]),
           "行政处罚": ("t2.penalty", ["prev_items", "delta", "decisions"]),
           "行政强制": ("t2.coercion", ["prev_items", "delta", "decisions"]),
           "行政事业性收费": ("t2.admin_fee", ["prev_items", "delta"]),
           "政府集中采购": ("t2.procurement", ["items", "amount"])}


def _expected(meta: dict) -> dict[str, object]:
    """Machine keys → expected values; printed blanks count as 0 (spec §9), a cut-off cell (null) is skipped."""
    out: dict[str, object] = {}
    for label, values in (meta.get("table3_partial") or {}).items():
        if label in T3_ROWS:
            row = T3_ROWS[label]
        elif label.startswith("三、（三）"):
            row = "t3.outcome.withheld." + WITHHELD[int(label[-1]) - 1]
        else:
            raise AssertionError(label)
        if None in values:
            continue  # a row cut off by the excerpt: see test_cut_off_row_is_unknown_not_zero
        for col, v in zip(COLS, values, strict=True):
            out[f"{row}.{col}"] = 0 if v == "" else v
    s2 = meta.get("section2") or {}
    table = T2_2021 if meta["format"] == "2021" else T2_2019
    for label, values in s2.items():
        if label not in table:
            continue
        row, cols = table[label]
        values = values if isinstance(values, list) else [values]
        for col, v in zip(cols, values, strict=True):
            if isinstance(v, str):
                v = {"+19": 19, "/": 0, "-": 0, "": 0}[v]
            out[f"{row}.{col}"] = v
    return out


CASES = ["P01", "P02", "P03", "P04", "P06", "P07"]


@pytest.mark.parametrize("case", CASES)
def test_partial_excerpt_cells(case: str) -> None:
    meta = json.loads((PARTIAL / f"{case}.json").read_text(encoding="utf-8"))
    report = parse_document((PARTIAL / f"{case}.txt").read_bytes(), source=case)
    assert report.ok, report.error
    cells = report.to_json()["cells"]
    expected = _expected(meta)
    if case == "P03":
        # cells one per line with blank cells as bare empty lines: a row shows only its ' 0' total, and both
        # placements of that one value fit I3, so spec §10 leaves the row unknown rather than guessing
        expected = {k: v for k, v in expected.items() if k.startswith("t2.")}
        assert report.cells["t3.received_new.natural"].value is None
    assert expected
    wrong = {k: (v, cells.get(k, "MISSING")) for k, v in expected.items() if cells.get(k, "MISSING") != v}
    assert not wrong, wrong
    if meta.get("table3_partial") and case != "P03":
        assert report.formats["t3"] == ("gov2021" if meta["format"] == "2021" else "gov2019")
    assert report.formats["t2"] == ("gov2021" if meta["format"] == "2021" else "gov2019")


def test_cut_off_row_is_unknown_not_zero() -> None:
    """P01 is cut mid-row: (三)7 shows six of its seven cells. Which one is missing cannot be told (both
    placements satisfy I3), so the row is unknown (spec §10) — never silently 0."""
    report = parse_document((PARTIAL / "P01.txt").read_bytes(), source="P01")
    for col in COLS:
        cell = report.cells[f"t3.outcome.withheld.enforcement_file.{col}"]
        assert cell.value is None and cell.flag == "unknown"
    status = {(c.rule, c.scope): c.status for c in report.checks}
    assert status[("I3", "t3.outcome.withheld.enforcement_file")] == "unknown"


def test_template_without_numbers_is_not_a_table_of_zeros() -> None:
    """P08 publishes the 2019 template with every cell empty: no table 三 values are invented."""
    report = parse_document((PARTIAL / "P08.txt").read_bytes(), source="P08")
    assert report.ok
    assert report.year == 2022
    assert report.formats["t2"] == "gov2019"  # a 2022 report on the old template: format by content, not year
    # issue 11: its labels are printed, so every key is there — and not one value is invented
    t3 = {k: c for k, c in report.cells.items() if k.startswith("t3.")}
    assert report.formats["t3"] == "unreadable"
    assert {f"t3.received_new.{c}" for c in T3_COLS} <= set(t3)
    assert t3 and all(c.value is None and c.flag == "unknown" for c in t3.values())
    assert all(c.value is None for k, c in report.cells.items() if k.startswith("t2."))
    assert any("could not be read" in w for w in report.warnings)


def test_signed_delta_kept() -> None:
    report = parse_document((PARTIAL / "P06.txt").read_bytes(), source="P06")
    cell = report.cells["t2.licensing.delta"]
    assert cell.value == 19 and cell.raw == "+19"
