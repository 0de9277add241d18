"""Property tests: random consistent reports in every layout parse back to the same cells; garbage never raises.

Reports come from ``ogi.demo.synth`` (numbers that satisfy I1–I4, spec §5), rendered into the layouts
real portals publish (official HTML with merged cells, Word HTML, flattened TSV, PDF text, markdown).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.parsers import Report, parse_document
from ogi.demo import LAYOUTS, SynthReport, compare, from_expected, random_report, render
from ogi.demo.synth import FORMATS, SECTION_TITLES, T3_LABELS, TEXT_LAYOUTS

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
GARBAGE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _parse(data: bytes) -> dict:
    rep = parse_document(data, source="x")
    assert isinstance(rep, Report)
    out = rep.to_json()
    json.dumps(out, ensure_ascii=False)  # the contract is JSON-serialisable
    return out


def _describe(report: SynthReport, layout: str, seed: int) -> str:
    return f"fmt={report.fmt} layout={layout} seed={seed} agency={report.agency} year={report.year}"


def _check_roundtrip(report: SynthReport, layout: str, seed: int, *, encoding: str = "utf-8") -> None:
    out = _parse(render(report, layout, encoding=encoding))
    where = _describe(report, layout, seed)
    assert out["ok"], f"{where}: not ok: {out['error']}"
    diffs = compare(report, out, layout)
    assert not diffs, f"{where}: {len(diffs)} wrong cells, e.g. " + "; ".join(diffs[:6])
    assert out["formats"] == {"t2": report.fmt, "t3": report.fmt, "t4": report.fmt}, where
    failed = [c for c in out["checks"] if c["status"] == "fail"]
    assert not failed, f"{where}: failed checks {failed[:5]}"
    # every identity that can be verified is ok; I3 is unknown only on rows with a derived (blank) total
    derived_rows = set()
    if layout not in TEXT_LAYOUTS:  # the text layouts print a derived total as its number
        derived_rows = {
            k.rsplit(".", 1)[0]
            for k in report.blanks
            if report.cells.get(k) and not report.raw.get(k, "").strip()
        }
    unknown = [
        c
        for c in out["checks"]
        if c["status"] == "unknown" and not (c["rule"] == "I3" and c["scope"] in derived_rows)
    ]
    assert not unknown, f"{where}: unknown checks {unknown[:5]}"
    rules = {c["rule"] for c in out["checks"]}
    assert {"I1", "I2", "I3", "I4"} <= rules, f"{where}: checks missing: {rules}"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(seed=seeds)
def test_roundtrip_cells(fmt: str, layout: str, seed: int) -> None:
    report = random_report(random.Random(seed), fmt)
    _check_roundtrip(report, layout, seed)


@pytest.mark.parametrize("layout", ["official_html", "word_html"])
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, fmt=st.sampled_from(FORMATS))
def test_roundtrip_gbk_declared_gb2312(layout: str, seed: int, fmt: str) -> None:
    """A page declaring gb2312 but using GBK-only characters decodes and parses right."""
    report = random_report(random.Random(seed), fmt)
    data = render(report, layout, encoding="gbk")
    assert b"gb2312" in data
    _check_roundtrip(report, layout, seed, encoding="gbk")
    out = _parse(data)
    assert "喆" in out["text"] or "堃" in out["text"] or "昇" in out["text"], "GBK-only characters lost"


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, fmt=st.sampled_from(FORMATS))
def test_roundtrip_metadata(layout: str, seed: int, fmt: str) -> None:
    report = random_report(random.Random(seed), fmt)
    out = _parse(render(report, layout))
    where = _describe(report, layout, seed)
    assert out["year"] == report.year, f"{where}: year {out['year']!r}"
    assert out["title"], f"{where}: no title"
    assert report.title in out["title"].replace(" ", ""), f"{where}: title {out['title']!r}"
    assert out["agency"] == report.agency, f"{where}: agency {out['agency']!r}"
    assert out["published"] == report.published, f"{where}: published {out['published']!r}"
    assert out["scope"] == report.scope, f"{where}: scope {out['scope']!r}"


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, fmt=st.sampled_from(FORMATS))
def test_roundtrip_sections(layout: str, seed: int, fmt: str) -> None:
    report = random_report(random.Random(seed), fmt)
    out = _parse(render(report, layout))
    where = _describe(report, layout, seed)
    for key in SECTION_TITLES:
        got = "".join((out["sections"].get(key) or "").split())
        # every paragraph of the section's narrative is in the section found (PDF text wraps lines)
        for para in report.sections[key].split("\n"):
            assert para[:12] in got, f"{where}: {key} lacks {para[:12]!r}: {got[:80]!r}"
    s3 = [c for c in out["checks"] if c["rule"] == "S3"]
    assert s3, f"{where}: no S3 check"
    assert all(c["status"] == "ok" for c in s3), f"{where}: S3 {s3}"


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=seeds,
    fmt=st.sampled_from(FORMATS),
    layout=st.sampled_from(["official_html", "word_html"]),
)
def test_roundtrip_derived_blank_totals(seed: int, fmt: str, layout: str) -> None:
    """Blank 总计 cells of outcome rows with non-zero parts come back derived (report 002's pattern)."""
    report = random_report(random.Random(seed), fmt, mode="dense", derived_totals=True)
    _check_roundtrip(report, layout, seed)


# --- garbage never raises ----------------------------------------------------------------------------------


def _assert_graceful(data: bytes) -> None:
    out = _parse(data)
    if not out["ok"]:
        assert isinstance(out["error"], str), "ok=False needs a clear error"
        assert out["error"], "ok=False needs a clear error"


@GARBAGE_SETTINGS
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_raise(data: bytes) -> None:
    _assert_graceful(data)


@GARBAGE_SETTINGS
@given(text=st.text(max_size=2000))
def test_random_text_never_raises(text: str) -> None:
    _assert_graceful(text.encode("utf-8", errors="surrogatepass"))


@GARBAGE_SETTINGS
@given(seed=seeds, fmt=st.sampled_from(FORMATS), layout=st.sampled_from(LAYOUTS), frac=st.floats(0, 1))
def test_truncated_renders_never_raise(seed: int, fmt: str, layout: str, frac: float) -> None:
    data = render(random_report(random.Random(seed), fmt), layout)
    _assert_graceful(data[: int(len(data) * frac)])


@GARBAGE_SETTINGS
@given(seed=seeds, fmt=st.sampled_from(FORMATS), layout=st.sampled_from(LAYOUTS), data=st.data())
def test_corrupted_renders_never_raise(seed: int, fmt: str, layout: str, data: st.DataObject) -> None:
    """Shuffled, dropped, duplicated lines and flipped bytes in a real-looking report."""
    doc = render(random_report(random.Random(seed), fmt), layout)
    rng = random.Random(data.draw(seeds))
    lines = doc.split(b"\n")
    op = data.draw(st.sampled_from(["shuffle", "drop", "dup", "flip", "gbk_mislabel"]))
    if op == "shuffle":
        rng.shuffle(lines)
    elif op == "drop":
        lines = [ln for ln in lines if rng.random() < 0.7]
    elif op == "dup":
        lines = [ln for ln in lines for _ in range(rng.choice((1, 1, 2)))]
    doc = b"\n".join(lines)
    if op == "flip":
        b = bytearray(doc)
        for _ in range(20):
            b[rng.randrange(len(b))] = rng.randrange(256)
        doc = bytes(b)
    elif op == "gbk_mislabel":
        doc = doc.replace(b"utf-8", b"gb2312")
    _assert_graceful(doc)


_LABELS = [lab for pair in T3_LABELS.values() for lab in pair if lab] + [
    "申请人情况",
    "自然人",
    "总计",
    "行政复议",
    "第二十条第（一）项",
]
_cell_text = st.one_of(
    st.sampled_from(_LABELS),
    st.integers(-10, 10**12).map(str),
    st.sampled_from(["", "-", "/", "&nbsp;", "无", "１２", "1,2,3", "9" * 400]),
    st.text(max_size=20),
)


@st.composite
def _random_html(draw: st.DrawFn) -> bytes:
    parts = [
        "<html><head><meta charset='utf-8'><title>",
        draw(st.sampled_from(["", "年度报告", "某某2021年政府信息公开工作年度报告"])),
        "</title></head><body>",
    ]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(f"<p>{draw(st.text(max_size=40))}</p>")
        parts.append("<table>" if draw(st.booleans()) else "<table border=1><tbody>")
        for _ in range(draw(st.integers(0, 12))):
            parts.append("<tr>")
            for _ in range(draw(st.integers(0, 12))):
                span = draw(
                    st.sampled_from(
                        [
                            "",
                            " colspan='3'",
                            " rowspan='22'",
                            " rowspan='0'",
                            " colspan='-1'",
                            " colspan='x'",
                            " rowspan='99999'",
                        ]
                    )
                )
                parts.append(f"<td{span}>{draw(_cell_text)}</td>")
            if draw(st.booleans()):
                parts.append("</tr>")
        if draw(st.booleans()):
            parts.append("</table>")
    if draw(st.booleans()):
        parts.append("</body></html>")
    return "".join(parts).encode("utf-8", errors="surrogatepass")


@GARBAGE_SETTINGS
@given(doc=_random_html())
def test_random_html_never_raises(doc: bytes) -> None:
    _assert_graceful(doc)


@st.composite
def _random_text_table(draw: st.DrawFn) -> bytes:
    lines = [draw(st.sampled_from(["", "某县2022年政府信息公开工作年度报告"]))]
    for _ in range(draw(st.integers(0, 40))):
        sep = draw(st.sampled_from(["\t", " ", " | "]))
        cells = draw(st.lists(_cell_text, max_size=16))
        lines.append(sep.join(cells))
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


@GARBAGE_SETTINGS
@given(doc=_random_text_table())
def test_random_text_tables_never_raise(doc: bytes) -> None:
    _assert_graceful(doc)


def test_not_a_report_gives_clear_error() -> None:
    out = _parse("<html><body><p>通知公告</p><p>今天天气很好。</p></body></html>".encode())
    assert out["ok"] is False
    assert out["error"]


def test_empty_input() -> None:
    out = _parse(b"")
    assert out["ok"] is False
    assert out["error"]


# --- real fixtures' expected cells, re-rendered --------------------------------------------------------------

_REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
_REAL_CASES = [
    p
    for p in sorted(_REAL.glob("*.json"))
    if json.loads(p.read_text(encoding="utf-8")).get("format") in FORMATS
]


@pytest.mark.parametrize("layout", ["official_html", "word_html", "tsv_text"])
@pytest.mark.parametrize("path", _REAL_CASES, ids=lambda p: p.stem)
def test_real_expected_cells_rerendered(path: Path, layout: str) -> None:
    """Each real fixture's hand-checked cells, rendered into a clean layout, parse back to the same cells
    (reports that break their own arithmetic, such as 007, keep their printed numbers)."""
    meta = json.loads(path.read_text(encoding="utf-8"))
    report = from_expected(meta["expected_cells"], meta["format"], meta["agency"], meta["year"])
    out = _parse(render(report, layout))
    assert out["ok"], out["error"]
    diffs = compare(report, out, layout, flags=False)
    assert not diffs, f"{path.stem} {layout}: {len(diffs)} wrong cells, e.g. " + "; ".join(diffs[:6])
