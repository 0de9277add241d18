"""Every real report in tests/fixtures/real parses to its hand-checked cells (spec: shared/real-reports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.parsers import parse_document
from crawler.parsers.keys import T3_COLS

REAL = Path(__file__).parent.parent / "fixtures" / "real"
CASES = sorted(p for p in REAL.glob("0*.json"))


def _load(meta_path: Path):
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    doc = REAL / meta["file"]
    report = parse_document(doc.read_bytes(), source=str(doc), url=doc.name)
    return meta, report


@pytest.mark.parametrize("meta_path", CASES, ids=lambda p: p.stem)
def test_cells_match_expected(meta_path: Path) -> None:
    meta, report = _load(meta_path)
    assert report.ok, report.error
    cells = report.to_json()["cells"]
    wrong = {
        k: (v, cells.get(k, "MISSING"))
        for k, v in meta["expected_cells"].items()
        if cells.get(k, "MISSING") != v
    }
    assert not wrong, f"{len(wrong)} cells differ: {dict(list(wrong.items())[:8])}"


@pytest.mark.parametrize("meta_path", CASES, ids=lambda p: p.stem)
def test_format_year_and_agency(meta_path: Path) -> None:
    meta, report = _load(meta_path)
    assert report.year == meta["year"]
    if meta["format"] == "pre2019":
        assert report.status == "pre2019"
        assert report.formats == {"t2": "pre2019", "t3": "pre2019", "t4": "pre2019"}
        assert not report.cells  # never forced into the 2019/2021 keys
        assert report.text
    else:
        assert report.formats["t3"] == meta["format"]
        assert report.formats["t4"] == meta["format"]
    assert report.agency
    assert report.agency in meta["agency"] or meta["agency"].startswith(report.agency[:2])


@pytest.mark.parametrize("meta_path", CASES, ids=lambda p: p.stem)
def test_check_failures_are_exactly_the_real_ones(meta_path: Path) -> None:
    """Reports that break their own arithmetic report exactly those failures; the others none."""
    meta, report = _load(meta_path)
    fails = {
        (c.rule, c.scope, c.lhs, c.rhs)
        for c in report.checks
        if c.status == "fail" and c.rule.startswith("I")
    }
    expected: set[tuple] = set()
    col_name = {"自然人": "natural", "总计": "total"}
    for v in meta["identity_check"]["violations"]["result_rows_sum_to_三(七)"]:
        if "status" in v or meta.get("derived_from_blank"):
            continue  # unknown, not a failure; 002's blank totals are derived, not failures
        expected.add(("I2", col_name[v["col"]], v["printed_三(七)"], v["sum_of_result_rows"]))
    assert fails == expected


def test_unreadable_cells_are_null_and_make_checks_unknown() -> None:
    meta, report = _load(REAL / "004.json")
    assert meta["unreadable"] == ["t3.carried_out.total"]
    cell = report.cells["t3.carried_out.total"]
    assert cell.value is None and cell.flag == "unknown"
    status = {(c.rule, c.scope): c.status for c in report.checks}
    assert status[("I1", "total")] == "unknown"
    assert status[("I3", "t3.carried_out")] == "unknown"
    assert status[("I1", "natural")] == "ok"


def test_blank_totals_are_derived_not_zero() -> None:
    meta, report = _load(REAL / "002.json")
    for key in meta["derived_from_blank"]:
        cell = report.cells[key]
        assert cell.flag == "derived", key
        assert cell.raw == ""
        row = key.rsplit(".", 1)[0]
        assert cell.value == sum(report.cells[f"{row}.{c}"].value for c in T3_COLS[:6])
    status = {(c.rule, c.scope): c.status for c in report.checks}
    assert status[("I3", "t3.outcome.granted")] == "unknown"
    assert status[("I3", "t3.received_new")] == "ok"
    assert status[("I2", "total")] == "ok"
    # printed blanks stay 0 with their flag; the raw text is kept
    for key in meta["printed_blank_or_dash"]:
        if key in meta["derived_from_blank"]:
            continue
        assert report.cells[key].value == 0 and report.cells[key].flag == "blank", key


def test_gov2019_table_two_keeps_its_own_keys() -> None:
    _meta, report = _load(REAL / "002.json")
    cells = report.to_json()["cells"]
    assert cells["t2.regulation.made_new"] == 13
    assert cells["t2.regulation.published_total"] == 524
    assert cells["t2.normative_doc.published_new"] == 60
    assert cells["t2.procurement.items"] == 6
    assert cells["t2.procurement.amount"] == pytest.approx(25.1)  # 251000元 → 万元
    assert report.cells["t2.procurement.amount"].raw == "251000元"
    assert "t2.admin_fee.amount_wan" not in cells  # a 2019 item count is never a money amount
    assert "t3.outcome.other.no_correction.total" not in cells  # absent in gov2019, not 0
    assert cells["t3.outcome.other.sum.total"] == 0


def test_gov2021_table_two_and_money() -> None:
    _meta, report = _load(REAL / "008.json")
    cells = report.to_json()["cells"]
    assert cells["t2.admin_fee.amount_wan"] == pytest.approx(24252.311082)
    assert cells["t2.licensing.decisions"] == 2293
    assert cells["t2.regulation.in_force"] == 0
    assert cells["t2.normative_doc.issued"] is None  # '693665' cannot be split without guessing
    _meta, report = _load(REAL / "001.json")
    cells = report.to_json()["cells"]
    assert [cells[f"t2.normative_doc.{c}"] for c in ("issued", "repealed", "in_force")] == [12, 10, 334]


def test_digit_runs_split_by_identities_are_flagged() -> None:
    _meta, report = _load(REAL / "008.json")
    assert report.cells["t3.received_new.natural"].value == 64
    assert report.cells["t3.outcome.unavailable.not_held.natural"].flag == "inferred"  # needed I1/I2
    assert report.cells["t4.litigation_direct.upheld"].value == 12


def test_sections_found_by_title_keywords() -> None:
    _meta, report = _load(REAL / "001.json")
    assert set(report.sections) == {
        "s1.overview",
        "s2.proactive",
        "s3.requests",
        "s4.review_litigation",
        "s5.problems",
        "s6.other",
    }
    assert report.sections["s1.overview"].startswith("2021 年，焦作市")
    assert "公开渠道建设" in report.sections["s1.overview"]  # section 一's own 一、二、三 do not end it
    assert report.sections["s6.other"].startswith("2021年度无其他需要报告的事项")


def test_narrative_agrees_with_table() -> None:
    _meta, report = _load(REAL / "001.json")
    s3 = {c.scope: c for c in report.checks if c.rule == "S3"}
    assert s3["received_new.total"].status == "ok" and s3["received_new.total"].lhs == 58
    assert s3["outcome.total.total"].status == "ok"
    assert s3["carried_out.total"].status == "ok"
    narrative_only = {7177, 780}
    assert narrative_only.isdisjoint(v.value for v in report.cells.values())


def test_scope_aggregate_and_published() -> None:
    _meta, report = _load(REAL / "008.json")
    assert report.scope == "aggregate"
    assert report.published == "2022-02-08"
    _meta, report = _load(REAL / "002.json")
    assert report.published == "2020-01-31"
