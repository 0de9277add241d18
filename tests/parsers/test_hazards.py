"""Real-document hazards of issue 11, table-driven: the collected excerpts (tests/fixtures/hazards, expected
values in its expected.json, provenance in its README) and, per hazard class, variants built from them.

Every case also asserts THE RULE (tests/parsers/invariant.py): a table printed gives every key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.parsers import CellValue, Report, parse_document
from crawler.parsers.keys import T3_COLS, T4_KEYS
from crawler.parsers.labels import doc_format_hint
from tests.parsers.invariant import rule_violations

HAZARDS = Path(__file__).parent.parent / "fixtures" / "hazards"
EXPECTED = json.loads((HAZARDS / "expected.json").read_text(encoding="utf-8"))
TITLE = "平潭综合实验区2021年政府信息公开工作年度报告\n"  # excerpts of table 二 only are parsed as reports' parts
# 03e proposes keys for a fee table that spec/formats.md does not have yet: nothing to assert in its keys
CASES = sorted(n for n, e in EXPECTED.items() if e["cells"])
# the check statuses each excerpt must give (every check of the rule has this status)
CHECKS: dict[str, dict[str, str]] = {
    "01a-t4-then-fee-table.txt": {"I4": "ok"},
    "01b-t4-then-nonstandard-heading.txt": {"I4": "ok"},
    "01c-t4-run-then-prose.txt": {"I4": "ok"},
    "02a-group-label-spaces.txt": {"I1": "ok", "I2": "ok", "I3": "ok", "I4": "ok"},
    "02b-gov2019-carried-out-then-section4.txt": {"I1": "unknown", "I2": "ok", "I4": "ok"},
    "02d-rows-without-digits.txt": {"I1": "ok", "I2": "unknown"},
    "04b-six-digits-for-seven-cells.txt": {"I1": "ok", "I2": "ok", "I3": "ok"},
    "05-t4-three-markdown-tables.md": {"I1": "ok", "I2": "ok", "I3": "ok", "I4": "ok"},
    "06-s3-narrative-mismatch.txt": {"I1": "ok", "I2": "ok", "I3": "ok", "S3": "fail"},
    "07-footer-script-channels.txt": {"I1": "ok", "I2": "ok", "I3": "ok", "I4": "ok"},
}


def _parse(name: str, prefix: str = "") -> Report:
    data = (HAZARDS / name).read_bytes()
    if prefix and not name.endswith(".html"):
        data = prefix.encode() + data
    return parse_document(data, source=name, url=name)


def _tables_of(expected: dict) -> set[str]:
    return {k[:2] for k in expected["cells"]}


@pytest.mark.parametrize("name", CASES)
def test_hazard_excerpt_cells(name: str) -> None:
    e = EXPECTED[name]
    t2_only = _tables_of(e) == {"t2"}
    report = _parse(name, TITLE if t2_only else "")
    wrong = {}
    for key, want in e["cells"].items():
        cell = report.cells.get(key)
        if cell is None:
            wrong[key] = (want, "ABSENT")
        elif want is None:
            if cell.value is not None or cell.flag != "unknown":
                wrong[key] = (None, (cell.value, cell.flag))
        elif cell.value != pytest.approx(want):
            wrong[key] = (want, cell.value)
    assert not wrong, f"{len(wrong)} cells differ: {dict(list(wrong.items())[:6])}"
    for table in _tables_of(e):
        assert report.formats[table] == e["format"], (table, report.formats)
    assert not rule_violations(report), rule_violations(report)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_hazard_excerpt_checks(name: str) -> None:
    report = _parse(name)
    for rule, status in CHECKS[name].items():
        got = {c.status for c in report.checks if c.rule == rule}
        if status == "fail":
            assert "fail" in got, (rule, got)
        else:
            assert got == {status}, (rule, got)


def test_all_totals_zero_is_read_and_fails_i3() -> None:
    """04a prints every 总计 as 0: each run has one reading; it is read, and I3 says where it does not add up."""
    report = _parse("04a-all-totals-zero.txt")
    assert report.cells["t3.received_new.natural"].value == 5
    fails = {c.scope for c in report.checks if c.rule == "I3" and c.status == "fail"}
    assert fails == {
        "t3.received_new", "t3.outcome.granted", "t3.outcome.partial", "t3.outcome.unavailable.not_held",
        "t3.outcome.total",
    }
    assert {c.status for c in report.checks if c.rule in ("I1", "I2", "I4")} == {"ok"}


# --- table 四 followed by other text --------------------------------------------------------------------------
T4_RUN = "110024001510102"  # 010's run: 1,1,0,0,2 | 4,0,0,1,5 | 1,0,1,0,2 (its only I4 reading)
T4_VALUES = (1, 1, 0, 0, 2, 4, 0, 0, 1, 5, 1, 0, 1, 0, 2)
T4_HEAD = (
    "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉复议后起诉"
    "结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计"
)


@pytest.mark.parametrize(
    "follower",
    [
        "五、信息处理费收取情况收费件数（件）收费金额（元）00六、存在的主要问题及改进情况一是……",
        "五、当前存在的突出问题存在的问题主要有以下几个方面：一是……",
        "五、存在的主要问题及改进情况一是……",
        "存在的问题主要有以下几个方面：一是部分单位信息发布属性界定还不够精确。",
        "2025年，我区政府信息公开工作取得了一定成绩，但仍存在一些不足。",
        "\n五、存在的主要问题及改进情况\n一是……",
    ],
)
def test_table_four_run_ends_where_the_text_goes_on(follower: str) -> None:
    report = parse_document((T4_HEAD + T4_RUN + follower).encode(), source="x.txt")
    assert tuple(report.value(k) for k in T4_KEYS) == T4_VALUES
    assert report.formats["t4"] == "gov2021"


def test_table_four_one_table_per_group_with_one_group_missing() -> None:
    """Two of the three group tables printed: those read, the third unknown with a warning."""
    text = (HAZARDS / "05-t4-three-markdown-tables.md").read_text(encoding="utf-8")
    cut = re.sub(r"### 行政诉讼（复议后起诉）\n(?:\|.*\n)+", "", text)
    report = parse_document(cut.encode(), source="x.md")
    assert [report.value(f"t4.review.{c}") for c in ("upheld", "total")] == [27, 61]
    assert report.value("t4.litigation_direct.total") == 3
    cell = report.cells["t4.litigation_after_review.total"]
    assert cell.value is None and cell.flag == "unknown"
    assert any("t4.litigation_after_review" in w for w in report.warnings)
    assert not rule_violations(report)


# --- table 三 rows -------------------------------------------------------------------------------------------
BASE_2019 = (HAZARDS / "04b-six-digits-for-seven-cells.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("printed", "want", "flag"),
    [
        ("000000", (0,) * 7, "inferred"),  # six zeros for seven cells: every placement reads 0
        ("00000", (0,) * 7, "inferred"),
        ("0 0 0 0 0 00", (0,) * 7, "num"),
        ("1000001", (1, 0, 0, 0, 0, 0, 1), "num"),
        ("5100000", (5, 1, 0, 0, 0, 0, 0), "num"),  # one reading, breaks I3: read, I3 fails
        ("100001", None, "unknown"),  # six digits, not all 0: where the blank goes matters
    ],
)
def test_other_row_digit_runs(printed: str, want: tuple[int, ...] | None, flag: str) -> None:
    text = BASE_2019.replace("（六）其他处理000000", f"（六）其他处理{printed}")
    report = parse_document(text.encode(), source="x.txt")
    got = tuple(report.value(f"t3.outcome.other.sum.{c}") for c in T3_COLS)
    assert got == (want or (None,) * 7)
    assert report.cells["t3.outcome.other.sum.total"].flag == flag
    if want and sum(want[:6]) != want[6]:
        assert any(c.rule == "I3" and c.scope == "t3.outcome.other.sum" and c.status == "fail" for c in report.checks)


@pytest.mark.parametrize(
    ("group", "spaced"),
    [("（三）不予公开", "（三） 不予 公开"), ("（四）无法提供", "（四） 无法 提供"), ("（五）不予处理", "（五） 不予 处理"),
     ("（六）其他处理", "（六） 其他 处理"), ("（二）部分公开", "（二） 部分 公开")],
)
def test_group_labels_with_spaces_keep_the_row_before(group: str, spaced: str) -> None:
    text = (HAZARDS / "04a-all-totals-zero.txt").read_text(encoding="utf-8").replace(group, spaced)
    plain = parse_document((HAZARDS / "04a-all-totals-zero.txt").read_bytes(), source="x.txt")
    report = parse_document(text.encode(), source="x.txt")
    assert {k: c.value for k, c in report.cells.items()} == {k: c.value for k, c in plain.cells.items()}


@pytest.mark.parametrize(
    ("row", "label"),
    [("t3.carried_out", "四、结转下年度继续办理"), ("t3.outcome.other.misc", "3.其他"),
     ("t3.outcome.withheld.admin_query", "8.属于行政查询事项")],
)
def test_rows_printed_without_digits_are_unknown_not_absent(row: str, label: str) -> None:
    text = (HAZARDS / "04a-all-totals-zero.txt").read_text(encoding="utf-8")
    text = re.sub(re.escape(label) + r"0000000", label, text, count=1)
    report = parse_document(text.encode(), source="x.txt")
    for c in T3_COLS:
        cell = report.cells[f"{row}.{c}"]
        assert cell.value is None and cell.flag == "unknown", (row, c, cell)
    assert any(row in w for w in report.warnings)
    assert not rule_violations(report)


# --- table 二 ------------------------------------------------------------------------------------------------
T2_2019 = (HAZARDS / "03b-signed-deltas.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("label", "printed", "want"),
    [
        ("行政许可", "0+11", {"prev_items": 0, "delta": 1, "decisions": 1}),
        ("行政处罚", "1-10", {"prev_items": 1, "delta": -1, "decisions": 0}),
        ("行政事业性收费", "35-15", {"prev_items": 35, "delta": -15}),
        ("行政处罚", "2648-18538", {"prev_items": None, "delta": None, "decisions": None}),  # several readings
        ("行政许可", "12+34", {"prev_items": 12, "delta": 3, "decisions": 4}),  # `34` as two numbers: one way
        ("行政许可", "12+1234", {"prev_items": None, "delta": None, "decisions": None}),  # `1234`: three ways
    ],
)
def test_signed_delta_runs(label: str, printed: str, want: dict[str, int | None]) -> None:
    text = re.sub(re.escape(label) + r"[\d+\-]+", label + printed, T2_2019, count=1)
    report = parse_document((TITLE + text).encode(), source="x.txt")
    row = {"行政许可": "t2.licensing", "行政处罚": "t2.penalty", "行政事业性收费": "t2.admin_fee"}[label]
    got = {c: report.value(f"{row}.{c}") for c in want}
    if None in want.values():
        assert all(v is None for v in got.values()), got  # never half a reading
        assert report.cells[f"{row}.delta"].flag == "unknown"
    else:
        assert got == want


@pytest.mark.parametrize(
    ("headers", "fmt"),
    [
        ("本年制发件数本年废止件数现行有效件数", "gov2021"),
        ("本年制发件数本年废纸件数先行有效件数", "gov2021"),  # typos printed in a real table
    ],
)
def test_table_two_header_variants(headers: str, fmt: str) -> None:
    text = (HAZARDS / "03d-typo-labels.txt").read_text(encoding="utf-8")
    text = text.replace("本年制发件数\t本年废纸件数\t先行有效件数", "\t".join(re.findall(r".{2,}?(?:件数|数量)", headers)))
    report = parse_document((TITLE + text).encode(), source="x.txt")
    assert report.formats["t2"] == fmt
    cols = ("issued", "repealed", "in_force") if fmt == "gov2021" else ("made_new", "published_new", "published_total")
    assert [report.value(f"t2.normative_doc.{c}") for c in cols] == [12, 10, 334]


@pytest.mark.parametrize(
    ("cell", "raw", "wan"),
    [("1018703元", "1018703元", 101.8703), ("26.5万元", "26.5万元", 26.5), ("251000元", "251000元", 25.1)],
)
def test_procurement_amount_with_unit(cell: str, raw: str, wan: float) -> None:
    text = (HAZARDS / "03f-procurement-wanyuan.txt").read_text(encoding="utf-8").replace("26.5万元", cell)
    report = parse_document((TITLE + text).encode(), source="x.txt")
    assert report.cells["t2.procurement.amount"].raw == raw
    assert report.value("t2.procurement.amount") == pytest.approx(wan)
    assert report.formats["t2"] == "gov2019"


# --- S3 reads the narrative wherever sections 一–四 state it -------------------------------------------------
S3_BASE = (HAZARDS / "06-s3-narrative-mismatch.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("sentence", "scope", "status"),
    [
        ("2021年，本机关共收到政府信息公开申请0条。", "received.total", "fail"),
        ("2021年，本机关共收到政府信息公开申请3条。", "received.total", "ok"),
        ("2021年，本机关新收政府信息公开申请3件。", "received_new.total", "ok"),
        ("全年办结申请5件。", "outcome.total.total", "fail"),
        ("结转下年度继续办理0件。", "carried_out.total", "ok"),
    ],
)
def test_narrative_figures_in_section_three(sentence: str, scope: str, status: str) -> None:
    text = S3_BASE.replace("2021年，本机关共收到政府信息公开申请0条。", sentence)
    report = parse_document(text.encode(), source="x.txt")
    s3 = {(c.scope, c.status) for c in report.checks if c.rule == "S3"}
    assert (scope, status) in s3, s3


def test_narrative_figures_of_table_two() -> None:
    text = (HAZARDS / "03d-typo-labels.txt").read_text(encoding="utf-8")
    for said, status in (("本年度制发规范性文件12件", "ok"), ("本年度制发规范性文件9件", "fail")):
        doc = TITLE + "一、总体情况\n" + said + "。\n" + text
        report = parse_document(doc.encode(), source="x.txt")
        t3_less = [c for c in report.checks if c.rule == "S3" and c.scope == "normative_doc.issued"]
        # a report without tables 三/四 has no checks; table 二's figure is checked once table 三 is there
        if report.status == "report":
            assert [c.status for c in t3_less] == [status]


# --- page chrome ---------------------------------------------------------------------------------------------
def test_footer_script_channel_names_are_no_format_anchor() -> None:
    script = "\n".join((HAZARDS / "07-footer-script-channels.txt").read_text(encoding="utf-8").split("\n")[1:60])
    assert "政府集中采购" in script
    assert doc_format_hint(script) == "none"
    assert doc_format_hint("第二十条第（九）项 政府集中采购 3 26.5万元") == "gov2019"
    text = (HAZARDS / "01b-t4-then-nonstandard-heading.txt").read_text(encoding="utf-8") + "\n" + script
    report = parse_document(text.encode(), source="x.txt")
    assert report.formats["t4"] == "gov2021"


def test_footer_script_before_table_two_does_not_make_it_gov2019() -> None:
    """The channel list (`政府集中采购项目的目录…`) printed before a 2021 table 二 once opened a 2019 header."""
    script = "\n".join((HAZARDS / "07-footer-script-channels.txt").read_text(encoding="utf-8").split("\n")[1:60])
    text = TITLE + script + "\n" + (HAZARDS / "03d-typo-labels.txt").read_text(encoding="utf-8")
    report = parse_document(text.encode(), source="x.txt")
    assert report.formats["t2"] == "gov2021"
    assert [report.value(f"t2.normative_doc.{c}") for c in ("issued", "repealed", "in_force")] == [12, 10, 334]
    assert not any(k.startswith("t2.procurement") for k in report.cells)


# --- the joint resolver: a row is read when every admissible combination reads it the same way ------------
REAL = Path(__file__).parent.parent / "fixtures" / "real"


def _pending_case(extra: dict[str, list[tuple[int, ...]]]) -> tuple[dict, dict[str, list[tuple[int, ...]]]]:
    """Given alternative readings per row, return 001's cells with those rows unknown, and the pending readings
    (the printed reading first)."""
    report = parse_document((REAL / "001.txt").read_bytes(), source="001")
    cells = dict(report.cells)
    pending = {}
    for row, alts in extra.items():
        printed = tuple(cells[f"{row}.{c}"].value for c in T3_COLS)
        pending[row] = [printed, *alts]
        for c in T3_COLS:
            cells[f"{row}.{c}"] = CellValue(None, "run", "unknown", "text-digits")
    return cells, pending


def _swap(row: tuple[int, ...], d: int) -> tuple[int, ...]:
    """Move d from the natural to the commercial column (the row's total unchanged)."""
    return (row[0] - d, row[1] + d, *row[2:])


@pytest.mark.parametrize(
    ("case", "resolved"),
    [
        ("one_row_two_readings", {"t3.outcome.granted"}),  # the alternative breaks I2
        ("two_rows_swappable", set()),  # two combinations hold, reading both rows differently
        ("two_swappable_and_one_fixed", {"t3.outcome.withheld.process_info"}),  # only the third row agrees
    ],
)
def test_joint_resolution_reads_rows_all_admissible_combinations_agree_on(case: str, resolved: set[str]) -> None:
    from crawler.parsers.resolve import resolve_pending

    base, _ = _pending_case({})
    granted = tuple(base[f"t3.outcome.granted.{c}"].value for c in T3_COLS)
    partial = tuple(base[f"t3.outcome.partial.{c}"].value for c in T3_COLS)
    assert granted[0] >= 1 and partial[0] >= 1  # 001 has applicants of natural persons in both rows
    extra = {
        "one_row_two_readings": {"t3.outcome.granted": [_swap(granted, 1)]},
        "two_rows_swappable": {"t3.outcome.granted": [_swap(granted, 1)], "t3.outcome.partial": [_swap(partial, -1)]},
        "two_swappable_and_one_fixed": {
            "t3.outcome.granted": [_swap(granted, 1)],
            "t3.outcome.partial": [_swap(partial, -1)],
            "t3.outcome.withheld.process_info": [(9, 9, 9, 9, 9, 9, 54)],
        },
    }[case]
    cells, pending = _pending_case(extra)
    got = set(resolve_pending(cells, pending, "gov2021"))
    assert got == resolved
    for row in pending:
        values = tuple(cells[f"{row}.{c}"].value for c in T3_COLS)
        assert values == (pending[row][0] if row in resolved else (None,) * 7)


# --- refused digit runs say why -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "old", "new", "row", "reason"),
    [
        # table 三: a 24-digit run for seven cells (issue 12's run) is not enumerated
        ("t3", "（六）其他处理000000", "（六）其他处理123456789123456789123456", "t3.outcome.other.sum",
         "too many readings (100947 > 20000)"),
        # table 二: a signed run whose tail is longer than anything printed
        ("t2", "行政许可0+11", "行政许可0+1" + "2" * 40, "t2.licensing", "digit run too long (41 digits > 40)"),
        # table 二: several readings stay named as such
        ("t2", "行政处罚1-10", "行政处罚2648-18538", "t2.penalty", "several readings"),
    ],
)
def test_a_refused_digit_run_warning_gives_the_reason(source: str, old: str, new: str, row: str, reason: str) -> None:
    base = BASE_2019 if source == "t3" else TITLE + T2_2019
    assert old in base
    report = parse_document(base.replace(old, new, 1).encode(), source="x.txt")
    assert report.cells[f"{row}.total" if source == "t3" else f"{row}.delta"].flag == "unknown"
    said = [w for w in report.warnings if row in w and "left unknown" in w]
    assert said and reason in said[0], report.warnings


# --- the 2023+ fee table (五、信息处理费收取情况) and a fee run in section 六 -------------------------------------
# spec/formats.md defines no key for the fee table (it only says section 六 "usually reports 信息处理费" and that
# the notice's requirement is unconfirmed): nothing is read from it, and its numbers never reach table 四 (or 二/三).
T4_2021 = EXPECTED["01a-t4-then-fee-table.txt"]["cells"]
FEE_FLAT = "五、信息处理费收取情况收费件数（件）收费金额（元）71350六、存在的主要问题及改进情况一是……"
T4_GRID_HEAD = "<tr><td>行政复议</td><td>行政诉讼</td></tr><tr>" + "<td>结果维持</td><td>结果纠正</td><td>其他结果</td><td>尚未审结</td><td>总计</td>" * 3 + "</tr>"


def _t4_cells() -> list[str]:
    return [str(v) for v in T4_2021.values()]


@pytest.mark.parametrize(
    "layout",
    [
        # 01a's flattened text with the fee cells printed as the run `71350` (7 件, 1350 元)
        lambda: T4_HEAD + "21317000001324019" + FEE_FLAT,
        # one line per row, tab-separated
        lambda: T4_HEAD + "\n" + "\t".join(_t4_cells()) + "\n五、信息处理费收取情况\n收费件数（件）\t收费金额（元）\n7\t1350\n",
        # markdown pipes
        lambda: T4_HEAD + "\n| " + " | ".join(_t4_cells()) + " |\n\n五、信息处理费收取情况\n\n| 收费件数（件） | 收费金额（元） |\n"
        "|---|---|\n| 7 | 1350 |\n",
        # HTML grids: table 四, then the fee table as its own table
        lambda: "<html><body><p>四、政府信息公开行政复议、行政诉讼情况</p><table>" + T4_GRID_HEAD + "<tr>"
        + "".join(f"<td>{v}</td>" for v in _t4_cells()) + "</tr></table><p>五、信息处理费收取情况</p><table><tr><td>收费件数（件）"
        "</td><td>收费金额（元）</td></tr><tr><td>7</td><td>1350</td></tr></table></body></html>",
        # 03e: section 六 prints the three fee cells as one run (`18000` = 1 | 800 | 0), after the tables
        lambda: T4_HEAD + "21317000001324019" + "六、其他需要报告的事项2024年，本机关收取信息处理费情况如下：发出收费通知的件数"
        "发出收费通知的总金额（元）实际收取的总金额（元）71350",
    ],
    ids=["flat-run", "tabs", "markdown", "html", "section6-run"],
)
def test_the_fee_table_is_not_read_and_never_reaches_table_four(layout) -> None:  # type: ignore[no-untyped-def]
    text = layout()
    name = "x.html" if text.startswith("<html>") else ("x.md" if "| " in text else "x.txt")
    report = parse_document(("平潭综合实验区2024年政府信息公开工作年度报告\n" + text).encode(), source=name)
    assert {k: report.value(k) for k in T4_KEYS} == T4_2021, report.warnings
    assert report.formats["t4"] == "gov2021"
    assert all(k[:3] in ("t2.", "t3.", "t4.") for k in report.cells)  # no key outside the spec's tables
    leaked = {k: c.raw for k, c in report.cells.items() if c.raw and re.search(r"7\s*1350|1350|71350", c.raw)}
    assert leaked == {}
    assert not report.failed_checks()
