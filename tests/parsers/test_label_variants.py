"""Table-driven tests for the label variants (spec/formats.md §8) and value conventions (§9).

A synthetic report is rendered (``ogi.demo.synth``), one label or value is rewritten in the rendered
document the way real reports print it, and the document must still parse to the same cells.
"""

from __future__ import annotations

import html
import random
import re

import pytest

from crawler.parsers import parse_document
from crawler.parsers.normalize import parse_value
from ogi.demo import SynthReport, compare, random_report, rebalance, render
from ogi.demo.synth import cell_text

LABEL_LAYOUTS = ("official_html", "tsv_text", "pdf_text", "markdown_text")
NO_SPACE_LAYOUTS = ("official_html", "tsv_text", "markdown_text")  # a space inside a label splits a PDF token


def _base(fmt: str) -> SynthReport:
    """A dense report (few zeros), so a row or column mapped to the wrong key shows."""
    return random_report(
        random.Random(20240 + len(fmt)), fmt, mode="dense", blank_rate=0.0, derived_totals=False
    )


def _cell_pattern(layout: str, text: str) -> re.Pattern[str]:
    """`text` as a whole cell of the rendered layout."""
    if layout in ("official_html", "word_html"):
        return re.compile(rf"(?<=>){re.escape(html.escape(text, quote=False))}(?=<)")
    if layout == "tsv_text":
        return re.compile(rf"(?<![^\t\n]){re.escape(text)}(?![^\t\n])")
    if layout == "pdf_text":
        return re.compile(rf"(?<![^ \n]){re.escape(text)}(?![^ \n])")
    return re.compile(rf"(?<=\| ){re.escape(text)}(?= \|)")


def _mutate(doc: str, layout: str, old: str, new: str) -> str:
    repl = html.escape(new, quote=False) if layout.endswith("html") else new
    out, n = _cell_pattern(layout, old).subn(lambda _m: repl, doc)
    assert n, f"label {old!r} not found as a cell in {layout}"
    return out


def _parse(doc: str) -> dict:
    return parse_document(doc.encode("utf-8"), source="x").to_json()


def _assert_same(report: SynthReport, out: dict, layout: str, what: str) -> None:
    assert out["ok"], f"{what}: not ok: {out['error']}"
    diffs = compare(report, out, layout)
    assert not diffs, f"{what} [{layout}]: {len(diffs)} wrong cells, e.g. " + "; ".join(diffs[:6])
    assert out["formats"] == {"t2": report.fmt, "t3": report.fmt, "t4": report.fmt}, (
        f"{what}: {out['formats']}"
    )
    failed = [c for c in out["checks"] if c["status"] != "ok" and c["rule"] != "S3"]
    assert not failed, f"{what} [{layout}]: checks not ok: {failed[:4]}"


# --- §8 label variants -----------------------------------------------------------------------------------

BOTH = ("gov2021", "gov2019")

# (id, formats, official label as rendered, variant printed in real reports, layouts)
LABEL_CASES: list[tuple[str, tuple[str, ...], str, str, tuple[str, ...]]] = [
    ("normative_doc_short_in_2021", ("gov2021",), "行政规范性文件", "规范性文件", LABEL_LAYOUTS),
    ("normative_doc_long_in_2019", ("gov2019",), "规范性文件", "行政规范性文件", LABEL_LAYOUTS),
    ("col_other_其它", BOTH, "其他", "其它", LABEL_LAYOUTS),
    ("col_other_其他组织", BOTH, "其他", "其他组织", LABEL_LAYOUTS),
    ("row_misc_其它", ("gov2021",), "3.其他", "3.其它", LABEL_LAYOUTS),
    ("row_other_sum_其它", ("gov2019",), "（六）其他处理", "（六）其它处理", LABEL_LAYOUTS),
    ("col_total_合计", BOTH, "总计", "合计", LABEL_LAYOUTS),
    ("col_legal_法律服务组织", BOTH, "法律服务机构", "法律服务组织", LABEL_LAYOUTS),
    ("col_nonprofit_社会组织", BOTH, "社会公益组织", "社会组织", LABEL_LAYOUTS),
    ("quotes_ascii", BOTH, "3.危及“三安全一稳定”", '3.危及"三安全一稳定"', LABEL_LAYOUTS),
    ("quotes_none", BOTH, "3.危及“三安全一稳定”", "3.危及三安全一稳定", LABEL_LAYOUTS),
    ("quotes_corner", BOTH, "3.危及“三安全一稳定”", "3.危及「三安全一稳定」", LABEL_LAYOUTS),
    ("quotes_single", BOTH, "3.危及“三安全一稳定”", "3.危及‘三安全一稳定’", LABEL_LAYOUTS),
    (
        "security_written_out",
        BOTH,
        "3.危及“三安全一稳定”",
        "3.危及国家安全、公共安全、经济安全、社会稳定",
        LABEL_LAYOUTS,
    ),
    ("carried_out_下一年", BOTH, "四、结转下年度继续办理", "四、结转下一年继续办理", LABEL_LAYOUTS),
    ("no_numbering_leaf", BOTH, "1.属于国家秘密", "属于国家秘密", LABEL_LAYOUTS),
    ("no_numbering_sub", BOTH, "（一）予以公开", "予以公开", LABEL_LAYOUTS),
    (
        "no_numbering_top",
        BOTH,
        "一、本年新收政府信息公开申请数量",
        "本年新收政府信息公开申请数量",
        LABEL_LAYOUTS,
    ),
    ("no_numbering_carried_out", BOTH, "四、结转下年度继续办理", "结转下年度继续办理", LABEL_LAYOUTS),
    ("doubled_numbering", BOTH, "（一）予以公开", "三、（一）予以公开", LABEL_LAYOUTS),
    ("fullwidth_digit_numbering", BOTH, "1.属于国家秘密", "１．属于国家秘密", LABEL_LAYOUTS),
    ("fullwidth_numbering_dun", BOTH, "2.重复申请", "２、重复申请", LABEL_LAYOUTS),
    ("paren_numbering_leaf", BOTH, "3.要求提供公开出版物", "(3)要求提供公开出版物", LABEL_LAYOUTS),
    ("halfwidth_brackets_group", BOTH, "（三）不予公开", "(三)不予公开", LABEL_LAYOUTS),
    (
        "halfwidth_row4_note",
        BOTH,
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "(二)部分公开(区分处理的,只计这一情形,不计其他情形)",
        LABEL_LAYOUTS,
    ),
    (
        "row4_note_absent",
        BOTH,
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "（二）部分公开",
        LABEL_LAYOUTS,
    ),
    ("law_prohibited_dun", BOTH, "2.其他法律行政法规禁止公开", "2.其他法律、行政法规禁止公开", LABEL_LAYOUTS),
    (
        "other_no_correction_comma",
        ("gov2021",),
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "1.申请人无正当理由逾期不补正，行政机关不再处理其政府信息公开申请",
        LABEL_LAYOUTS,
    ),
    (
        "other_unpaid_fee_comma",
        ("gov2021",),
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "2.申请人逾期未按收费通知要求缴纳费用，行政机关不再处理其政府信息公开申请",
        LABEL_LAYOUTS,
    ),
    ("space_in_t4_header", BOTH, "结果维持", "结果 维持", ("official_html", "markdown_text")),
    ("ideographic_space_in_label", BOTH, "2.重复申请", "2.重复\u3000申请", NO_SPACE_LAYOUTS),
    (
        "space_in_row_label",
        BOTH,
        "二、上年结转政府信息公开申请数量",
        "二、上年结转 政府信息公开申请数量",
        NO_SPACE_LAYOUTS,
    ),
    ("t2_fee_header_short", ("gov2021",), "本年收费金额（单位：万元）", "本年收费金额(万元)", LABEL_LAYOUTS),
    ("t2_delta_header", ("gov2019",), "本年增/减", "本年增减", LABEL_LAYOUTS),
]


def _label_params() -> list:
    params = []
    for case_id, fmts, old, new, layouts in LABEL_CASES:
        for fmt in fmts:
            for layout in layouts:
                params.append(pytest.param(fmt, layout, old, new, id=f"{case_id}-{fmt}-{layout}"))
    return params


@pytest.mark.parametrize(("fmt", "layout", "old", "new"), _label_params())
def test_label_variant(fmt: str, layout: str, old: str, new: str) -> None:
    report = _base(fmt)
    doc = _mutate(render(report, layout).decode("utf-8"), layout, old, new)
    _assert_same(report, _parse(doc), layout, f"{old} → {new}")


# Section headings in the regulation's long wording (spec §2, §12.4): the section must still be found.
HEADING_CASES = [
    ("s5.problems", "五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况"),
    ("s5.problems", "五、存在的主要问题及改进情况", "五、存在问题及改进情况"),
    (
        "s4.review_litigation",
        "四、政府信息公开行政复议、行政诉讼情况",
        "四、因政府信息公开工作被申请行政复议和提起行政诉讼情况",
    ),
    ("s1.overview", "一、总体情况", "一、总体情况概述"),
]


@pytest.mark.parametrize("layout", ["official_html", "tsv_text", "pdf_text"])
@pytest.mark.parametrize(("key", "old", "new"), HEADING_CASES)
def test_section_heading_variant(layout: str, key: str, old: str, new: str) -> None:
    report = _base("gov2021")
    doc = render(report, layout).decode("utf-8")
    assert old in doc
    out = _parse(doc.replace(old, new))
    got = "".join((out["sections"].get(key) or "").split())
    first = report.sections[key].split("\n")[0][:12]
    assert first in got, f"{key} under {new!r} not found: {got[:80]!r}"
    _assert_same(report, out, layout, f"heading {new}")


# --- §9 value conventions --------------------------------------------------------------------------------

ALL_LAYOUTS = ("official_html", "tsv_text", "pdf_text", "markdown_text")
HTML_LAYOUTS = ("official_html", "word_html", "markdown_text")

# (id, format, key, printed text, expected value, expected flag, layouts)
VALUE_CASES: list[tuple[str, str, str, str, float, str, tuple[str, ...]]] = [
    ("thousands_comma", "gov2021", "t3.outcome.granted.natural", "1,234", 1234, "num", ALL_LAYOUTS),
    (
        "thousands_fullwidth_comma",
        "gov2021",
        "t3.outcome.granted.natural",
        "1，234",
        1234,
        "num",
        ALL_LAYOUTS,
    ),
    ("thousands_space", "gov2021", "t3.outcome.granted.natural", "1 234", 1234, "num", HTML_LAYOUTS),
    ("fullwidth_digits", "gov2021", "t3.outcome.granted.natural", "１２３", 123, "num", ALL_LAYOUTS),
    ("fullwidth_digits_t4", "gov2019", "t4.review.upheld", "３", 3, "num", ALL_LAYOUTS),
    ("em_dash", "gov2021", "t3.outcome.withheld.state_secret.natural", "—", 0, "dash", ALL_LAYOUTS),
    ("hyphen", "gov2021", "t3.outcome.withheld.state_secret.natural", "-", 0, "dash", ALL_LAYOUTS),
    ("double_hyphen", "gov2021", "t3.outcome.withheld.state_secret.natural", "--", 0, "dash", ALL_LAYOUTS),
    ("en_dash", "gov2021", "t3.outcome.withheld.state_secret.natural", "–", 0, "dash", ALL_LAYOUTS),
    ("slash", "gov2021", "t3.outcome.withheld.state_secret.natural", "/", 0, "slash", ALL_LAYOUTS),
    ("fullwidth_slash", "gov2021", "t3.outcome.withheld.state_secret.natural", "／", 0, "slash", ALL_LAYOUTS),
    ("wu", "gov2021", "t3.outcome.withheld.state_secret.natural", "无", 0, "na_text", ALL_LAYOUTS),
    ("bu_sheji", "gov2021", "t3.outcome.withheld.state_secret.natural", "不涉及", 0, "na_text", ALL_LAYOUTS),
    ("n_a", "gov2021", "t3.outcome.withheld.state_secret.natural", "N/A", 0, "na_text", ALL_LAYOUTS),
    ("blank", "gov2021", "t3.outcome.withheld.state_secret.natural", "", 0, "blank", HTML_LAYOUTS),
    (
        "nbsp_blank",
        "gov2021",
        "t3.outcome.withheld.state_secret.natural",
        "\u00a0",
        0,
        "blank",
        ("official_html",),
    ),
    ("dash_in_t4", "gov2021", "t4.litigation_direct.other", "—", 0, "dash", ALL_LAYOUTS),
    ("footnote_star", "gov2021", "t3.outcome.granted.natural", "12*", 12, "num", ALL_LAYOUTS),
    ("footnote_zhu", "gov2021", "t3.outcome.granted.natural", "12（注）", 12, "num", ALL_LAYOUTS),
    ("delta_plus", "gov2019", "t2.licensing.delta", "+1036", 1036, "num", ALL_LAYOUTS),
    ("delta_minus", "gov2019", "t2.licensing.delta", "-3", -3, "num", ALL_LAYOUTS),
    ("delta_word_up", "gov2019", "t2.licensing.delta", "增加5", 5, "num", ALL_LAYOUTS),
    ("delta_word_down", "gov2019", "t2.licensing.delta", "减少2", -2, "num", ALL_LAYOUTS),
    ("procurement_yuan", "gov2019", "t2.procurement.amount", "251000元", 25.1, "num", ALL_LAYOUTS),
    ("procurement_wan", "gov2019", "t2.procurement.amount", "31.6万元", 31.6, "num", ALL_LAYOUTS),
    ("fee_decimals", "gov2021", "t2.admin_fee.amount_wan", "12.50", 12.5, "num", ALL_LAYOUTS),
    ("fee_zero_decimals", "gov2021", "t2.admin_fee.amount_wan", "0.00", 0, "num", ALL_LAYOUTS),
    ("fee_grouped", "gov2021", "t2.admin_fee.amount_wan", "1,234.5", 1234.5, "num", ALL_LAYOUTS),
    ("fee_yuan", "gov2021", "t2.admin_fee.amount_wan", "36000元", 3.6, "num", ALL_LAYOUTS),
    ("t2_count_grouped", "gov2021", "t2.licensing.decisions", "11,398,889", 11398889, "num", ALL_LAYOUTS),
]


def _value_params() -> list:
    return [
        pytest.param(fmt, key, raw, value, flag, layout, id=f"{case_id}-{layout}")
        for case_id, fmt, key, raw, value, flag, layouts in VALUE_CASES
        for layout in layouts
    ]


def _report_with(fmt: str, key: str, raw: str, value: float, flag: str) -> SynthReport:
    report = _base(fmt)
    if key == "t2.licensing.delta":
        report.cells["t2.licensing.prev_items"] = max(int(report.cells["t2.licensing.prev_items"]), 10)
    report.cells[key] = value
    report.raw[key] = raw
    if flag != "num":
        report.blanks.add(key)
    if key.startswith(("t3.", "t4.")):
        rebalance(report)
        report.raw[key] = raw
        if flag != "num":
            report.blanks.add(key)
    return report


@pytest.mark.parametrize(("fmt", "key", "raw", "value", "flag", "layout"), _value_params())
def test_value_convention(fmt: str, key: str, raw: str, value: float, flag: str, layout: str) -> None:
    report = _report_with(fmt, key, raw, value, flag)
    out = _parse(render(report, layout).decode("utf-8"))
    assert out["ok"], out["error"]
    got = out["cells"].get(key)
    assert got is not None, f"{key} printed {raw!r}: missing/unknown (flag {out['flags'].get(key)!r})"
    assert abs(got - value) < 1e-6, f"{key} printed {raw!r}: got {got!r}, want {value!r}"
    assert out["flags"].get(key) == flag, (
        f"{key} printed {raw!r}: flag {out['flags'].get(key)!r}, want {flag!r}"
    )
    if raw.strip():
        assert out["raw"].get(key, "").strip() == raw.strip(), f"raw text not kept: {out['raw'].get(key)!r}"
    _assert_same(report, out, layout, f"value {raw!r}")


@pytest.mark.parametrize("layout", ["official_html", "word_html"])
@pytest.mark.parametrize("fmt", BOTH)
def test_blank_total_with_parts_is_derived(fmt: str, layout: str) -> None:
    """Spec §5.2/§9: a blank 总计 whose parts are non-zero is their sum, flagged derived; I3 there is unknown."""
    report = _base(fmt)
    key = "t3.outcome.granted.total"
    assert report.cells[key] > 0
    report.blanks.add(key)
    report.raw[key] = ""
    out = _parse(render(report, layout).decode("utf-8"))
    assert out["cells"].get(key) == report.cells[key]
    assert out["flags"].get(key) == "derived"
    i3 = [c for c in out["checks"] if c["rule"] == "I3" and c["scope"] == "t3.outcome.granted"]
    assert i3, "no I3 check for t3.outcome.granted"
    assert all(c["status"] == "unknown" for c in i3), i3
    assert not compare(report, out, layout)


# --- parse_value unit table (spec §9) ----------------------------------------------------------------------

PARSE_VALUE_CASES = [
    ("58", 58, "num"),
    ("0", 0, "num"),
    ("0.00", 0, "num"),
    ("12.5", 12.5, "num"),
    ("1,234", 1234, "num"),
    ("1，234", 1234, "num"),
    ("1 234", 1234, "num"),
    ("１２３", 123, "num"),
    ("  57 ", 57, "num"),
    ("", 0, "blank"),
    ("   ", 0, "blank"),
    ("\u00a0", 0, "blank"),
    ("\u3000", 0, "blank"),
    ("—", 0, "dash"),
    ("–", 0, "dash"),
    ("-", 0, "dash"),
    ("--", 0, "dash"),
    ("/", 0, "slash"),
    ("／", 0, "slash"),
    ("无", 0, "na_text"),
    ("不涉及", 0, "na_text"),
    ("不适用", 0, "na_text"),
    ("N/A", 0, "na_text"),
    ("+1036", 1036, "num"),
    ("-3", -3, "num"),
    ("+4", 4, "num"),
    ("增加5", 5, "num"),
    ("减少2", -2, "num"),
    ("12*", 12, "num"),
    ("12（注）", 12, "num"),
    ("abc", None, "unknown"),
    ("见附件", None, "unknown"),
]


@pytest.mark.parametrize(("raw", "value", "flag"), PARSE_VALUE_CASES)
def test_parse_value(raw: str, value: float | None, flag: str) -> None:
    got = parse_value(raw)
    assert got[1] == flag, f"{raw!r}: {got}"
    if value is None:
        assert got[0] is None
    else:
        assert got[0] == value, f"{raw!r}: {got}"
        assert not isinstance(got[0], bool)


@pytest.mark.parametrize(
    ("raw", "wan"),
    [("251000元", 25.1), ("31.6万元", 31.6), ("3802895.90元", 380.28959), ("1,000元", 0.1)],
)
def test_parse_value_amount_units(raw: str, wan: float) -> None:
    from crawler.parsers.normalize import to_wan

    value, flag, unit = parse_value(raw)
    assert flag == "num"
    assert value is not None
    assert abs(to_wan(value, unit) - wan) < 1e-6, (raw, value, unit)


def test_parse_value_ints_stay_ints() -> None:
    assert isinstance(parse_value("58")[0], int)
    assert isinstance(parse_value("1,234")[0], int)
    assert isinstance(parse_value("12.5")[0], float)


@pytest.mark.parametrize("fmt", ["gov2021", "gov2019"])
def test_empty_total_in_pipe_table_is_unknown_not_derived(fmt: str) -> None:
    """In extracted text (pipe tables) an empty 总计 beside non-zero parts may be a lost value (real report 004):
    it stays unknown and its checks unknown; it is never derived or read as 0."""
    report = _base(fmt)
    key = "t3.outcome.granted.total"
    text = render(report, "markdown_text").decode("utf-8")
    printed = cell_text(report, key, "markdown_text")
    row_start = text.index("予以公开")
    row_end = text.index("\n", row_start)
    row = text[row_start:row_end]
    cut = row.rstrip(" |").rsplit("|", 1)
    assert cut[1].strip() == printed
    text = text[:row_start] + cut[0] + "|  |" + text[row_end:]
    out = _parse(text)
    assert out["cells"][key] is None and out["flags"][key] == "unknown"
    i3 = [c for c in out["checks"] if c["rule"] == "I3" and c["scope"] == "t3.outcome.granted"]
    assert i3 and all(c["status"] == "unknown" for c in i3)
