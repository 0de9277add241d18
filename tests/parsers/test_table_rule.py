"""THE RULE of issue 11 on every fixture and on random layouts with tables cut, merged and moved: a table whose
heading or labels are printed gives every one of its keys (a value, or null flagged `unknown` with a warning),
and `formats.tN` is `unreadable`, never `none`, when such a table could not be read."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.parsers import CellValue, parse_document
from ogi.demo import random_report, render
from ogi.demo.synth import FORMATS, LAYOUTS, TEXT_LAYOUTS
from tests.parsers.invariant import printed_tables, rule_violations

FIXTURES = Path(__file__).parent.parent / "fixtures"
DOCS = sorted(
    p
    for p in [*(FIXTURES / "real").rglob("*"), *(FIXTURES / "hazards").glob("0*")]
    if p.suffix in (".txt", ".html", ".md")
)
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SECTION_RE = re.compile(r"^.{0,12}[二三四五]、.{0,4}(?:主动公开|收到和处理|行政复议|存在|政府信息公开行政)", re.M)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_rule_holds_on_every_fixture(path: Path) -> None:
    report = parse_document(path.read_bytes(), source=str(path), url=path.name)
    assert not rule_violations(report), rule_violations(report)


def test_the_rule_can_fail() -> None:
    """The checker itself: a printed table 三 whose keys went missing is reported."""
    report = parse_document((FIXTURES / "real" / "001.txt").read_bytes(), source="001.txt")
    assert not rule_violations(report)
    del report.cells["t3.carried_out.total"]
    assert rule_violations(report)
    report.formats["t4"] = "none"
    assert any("formats.t4 is none" in v for v in rule_violations(report))
    report = parse_document((FIXTURES / "real" / "001.txt").read_bytes(), source="001.txt")
    report.cells["t3.outcome.granted.natural"] = CellValue(None, "", "unknown", "text")
    assert any("without a warning" in v for v in rule_violations(report))


def _text(data: bytes) -> str:
    return data.decode("utf-8")


def _blocks(text: str) -> list[str]:
    """Given a rendered text report, return it cut at its section headings (二 … 五)."""
    cuts = [m.start() for m in SECTION_RE.finditer(text)]
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@pytest.mark.parametrize("layout", TEXT_LAYOUTS)
@SETTINGS
@given(seed=st.integers(0, 10_000), fmt=st.sampled_from(FORMATS), frac=st.floats(0.2, 1.0))
def test_rule_holds_with_tables_cut(layout: str, seed: int, fmt: str, frac: float) -> None:
    text = _text(render(random_report(random.Random(seed), fmt), layout))
    start = max(0, text.find("二、"))
    cut = text[: start + int((len(text) - start) * frac)]
    report = parse_document(cut.encode(), source="x.txt")
    assert not rule_violations(report), (rule_violations(report), printed_tables(cut))


@pytest.mark.parametrize("layout", TEXT_LAYOUTS)
@SETTINGS
@given(seed=st.integers(0, 10_000), fmt=st.sampled_from(FORMATS), drop=st.integers(0, 400))
def test_rule_holds_with_tables_merged(layout: str, seed: int, fmt: str, drop: int) -> None:
    """Line breaks lost across the tables (one-line page dumps), and some lines dropped inside them."""
    text = _text(render(random_report(random.Random(seed), fmt), layout))
    lines = text.split("\n")
    if drop < len(lines):
        del lines[drop]
    head, _, tail = "\n".join(lines).partition("二、")
    merged = head + "二、" + tail.replace("\n", "" if seed % 2 else " ")
    report = parse_document(merged.encode(), source="x.txt")
    assert not rule_violations(report), rule_violations(report)


@pytest.mark.parametrize("layout", LAYOUTS)
@SETTINGS
@given(seed=st.integers(0, 10_000), fmt=st.sampled_from(FORMATS), order=st.permutations(range(3)))
def test_rule_holds_with_tables_moved(layout: str, seed: int, fmt: str, order: list[int]) -> None:
    """Sections 二/三/四 (each with its table) printed in another order."""
    data = render(random_report(random.Random(seed), fmt), layout)
    if layout not in TEXT_LAYOUTS:
        report = parse_document(data, source="x.html")
        assert not rule_violations(report), rule_violations(report)
        return
    blocks = _blocks(_text(data))
    if len(blocks) < 5:
        return
    head, tables, rest = blocks[0], blocks[1:4], blocks[4:]
    moved = head + "".join(tables[i] for i in order) + "".join(rest)
    report = parse_document(moved.encode(), source="x.txt")
    assert not rule_violations(report), rule_violations(report)
    if list(order) == [0, 1, 2]:
        assert report.formats["t3"] == fmt


UNREAD_T4 = (
    "平潭综合实验区2021年政府信息公开工作年度报告\n一、总体情况\n略。\n四、政府信息公开行政复议、行政诉讼情况\n"
    "行政复议 行政诉讼\n结果维持 结果纠正 其他结果 尚未审结 总计\n（表格见附件）\n五、存在的主要问题及改进情况\n无。\n"
)


def test_every_format_a_report_gives_is_a_schema_format() -> None:
    """formats.tN is a contract value of archive.schema.FORMATS — `unreadable` included."""
    from archive.schema import FORMATS as SCHEMA_FORMATS

    report = parse_document(UNREAD_T4.encode(), source="x.txt")
    assert report.formats["t4"] == "unreadable"
    given = {f for p in DOCS for f in parse_document(p.read_bytes(), source=str(p), url=p.name).formats.values()}
    assert given | set(report.formats.values()) <= set(SCHEMA_FORMATS)
