"""Across reports on fabricated multi-year archives: consistent random series with planted breaks (a wrong
carry-over, a late report, a copied report, a renamed body, a missing year, an edit after publication, a
roll-up that does not add up), every break found; a consistent random series raises no cross-year failure."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import open_archive
from archive.across import recompute_across
from archive.schema import T3_C6
from ogi.demo.synth import SynthReport, random_report, to_parsed_json

TODAY = dt.date(2026, 12, 1)


def link(prev: SynthReport | None, rep: SynthReport) -> SynthReport:
    """Given last year's report and a random report, return the report made consistent with last year:
    上年结转 = last year's 结转下年度 per column (I1 and I3 kept), 现行有效 = last + 制发 − 废止 (gov2021)."""
    if prev is None:
        return rep
    c = rep.cells
    for col in T3_C6:
        c[f"t3.carried_in.{col}"] = prev.cells[f"t3.carried_out.{col}"]
        rn = c[f"t3.outcome.total.{col}"] + c[f"t3.carried_out.{col}"] - c[f"t3.carried_in.{col}"]
        if rn < 0:
            c[f"t3.carried_out.{col}"] += -rn
            rn = 0
        c[f"t3.received_new.{col}"] = rn
    for row in ("t3.carried_in", "t3.carried_out", "t3.received_new"):
        c[f"{row}.total"] = sum(c[f"{row}.{col}"] for col in T3_C6)
    if rep.fmt == "gov2021" and prev.fmt == "gov2021":
        for row in ("t2.regulation", "t2.normative_doc"):
            before = prev.cells[f"{row}.in_force"]
            c[f"{row}.repealed"] = min(c[f"{row}.repealed"], before + c[f"{row}.issued"])
            c[f"{row}.in_force"] = before + c[f"{row}.issued"] - c[f"{row}.repealed"]
    return rep


def series(rng: random.Random, agency: str, years: list[int], **kw: Any) -> list[SynthReport]:
    """Given an agency and its years, return a consistent random series (gov2019 before 2021)."""
    out: list[SynthReport] = []
    prev = None
    for y in years:
        fmt = "gov2021" if y >= 2021 else "gov2019"
        rep = random_report(rng, fmt, agency=agency, year=y, published=f"{y + 1}-01-15", scope="self",
                            blank_rate=0.0, derived_totals=False, **kw)
        prev = link(prev if prev is not None and prev.year == y - 1 else None, rep)
        out.append(rep)
    return out


def store(arc: Any, rep: SynthReport, *, url: str | None = None, parsed: dict[str, Any] | None = None) -> int:
    """Given an archive and a synthetic report, save it (bytes = its parse JSON) and return the report id."""
    p = parsed or to_parsed_json(rep)
    data = json.dumps(p, ensure_ascii=False, sort_keys=True).encode()
    u = url or f"https://example.gov.cn/{rep.agency}/{rep.year}.html"
    sha = arc.save_document(data, url=u)
    return arc.save_report(p, sha256=sha, url=u).report_id


def rows(arc: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    cur = arc.conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, Any]:
    """An archive of six bodies 2020–2025 with one planted break each, and the alias file for the renaming."""
    rng = random.Random(7)
    arc = open_archive(tmp_path / "ogi.db")
    years = list(range(2020, 2026))
    ids: dict[str, dict[int, int]] = {}
    plan = {
        "carry": "焦作市教育局", "late": "洛阳市生态环境局", "copy": "宿迁市市场监督管理局",
        "old": "丽水市农业局", "new": "丽水市农业农村局", "missing": "南京市秦淮区教育局",
        "tables": "绍兴市上虞区教育局",
    }
    for role, agency in plan.items():
        if role == "new":
            continue
        reps = series(rng, agency, years, mode="dense")
        if role == "carry":
            bad = next(r for r in reps if r.year == 2023)
            bad.cells["t3.carried_in.natural"] += 1
            bad.cells["t3.carried_in.total"] += 1
            bad.cells["t3.outcome.total.natural"] += 1  # I1 still holds inside the report
            bad.cells["t3.outcome.granted.natural"] += 1
            bad.cells["t3.outcome.total.total"] += 1
            bad.cells["t3.outcome.granted.total"] += 1
        if role == "late":
            next(r for r in reps if r.year == 2022).published = "2023-05-10"
        if role == "copy":
            a, b = (next(r for r in reps if r.year == y) for y in (2023, 2024))
            b.sections = dict(a.sections)
        if role == "old":
            for r in reps:
                if r.year >= 2023:
                    r.agency = plan["new"]
                    r.title = f"{r.agency}{r.year}年政府信息公开工作年度报告"
        if role == "missing":
            reps = [r for r in reps if r.year != 2023]
            reps = [link(None, r) if r.year != 2024 else r for r in reps]
        if role == "tables":
            a, b = (next(r for r in reps if r.year == y) for y in (2022, 2023))
            for k in list(b.cells):
                if k.startswith(("t3.", "t4.")):
                    b.cells[k] = a.cells[k]
            b.sections = {k: v.replace("新收政府信息公开申请", "新收政府信息公开申请1") for k, v in b.sections.items()}
        ids[role] = {r.year: store(arc, r) for r in reps}
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text(f"renamed:\n  - from: {plan['old']}\n    to: {plan['new']}\n    note: 机构改革\n", "utf-8")
    yield {"arc": arc, "ids": ids, "plan": plan, "aliases": aliases, "tmp": tmp_path}
    arc.close()


def test_planted_breaks_are_all_found(planted: dict[str, Any]) -> None:
    arc, ids, plan = planted["arc"], planted["ids"], planted["plan"]
    summary = recompute_across(arc, aliases=planted["aliases"], today=TODAY)
    fails = rows(arc, "SELECT report_id, rule, scope, lhs, rhs FROM cross_checks WHERE status = 'fail'")
    # the wrong carry-over: 2023 of the carry body, natural and total columns, nothing else anywhere
    assert sorted((f["report_id"], f["rule"], f["scope"]) for f in fails) == [
        (ids["carry"][2023], "Y1", "natural"), (ids["carry"][2023], "Y1", "total")]
    assert summary["cross_checks"]["fail"] == 2
    # the late report: a department, deadline 31 January, published 10 May = 99 days late
    late = rows(arc, "SELECT * FROM coverage WHERE timeliness = 'late'")
    assert [(r["report_id"], r["days_late"], r["deadline"]) for r in late] == [
        (ids["late"][2022], 99, "2023-01-31")]
    # the missing year: coverage says missing, the 2024 pair is unknown, never ok or fail
    miss = rows(arc, "SELECT c.year FROM coverage c JOIN bodies b USING (body_id) WHERE c.status = 'missing'"
                     " AND b.name = ?", plan["missing"])
    assert [m["year"] for m in miss] == [2023]
    y1 = rows(arc, "SELECT status, detail FROM cross_checks WHERE report_id = ? AND rule = 'Y1'",
              ids["missing"][2024])
    assert [r["status"] for r in y1] == ["unknown"] and "2023" in y1[0]["detail"]
    # the copied report: every long section of 2024 flagged copied against 2023
    copied = rows(arc, "SELECT report_id, other_report_id, section, score, passages FROM similarity"
                       " WHERE flag = 'copied'")
    assert {(c["report_id"], c["other_report_id"]) for c in copied} == {(ids["copy"][2024], ids["copy"][2023])}
    assert all(c["score"] == 1.0 and json.loads(c["passages"]) for c in copied)
    # identical tables 三/四 with changed narrative claims
    flagged = rows(arc, "SELECT report_id, other_report_id FROM similarity WHERE flag = "
                        "'tables_identical_narrative_changed'")
    assert flagged == [{"report_id": ids["tables"][2023], "other_report_id": ids["tables"][2022]}]
    # the renamed body: one body through the alias file, its 2022 → 2023 pair checked and ok
    bid = rows(arc, "SELECT DISTINCT body_id FROM body_reports WHERE report_id IN (?, ?)",
               ids["old"][2022], ids["old"][2023])
    assert len(bid) == 1
    names = rows(arc, "SELECT name, rule, note FROM body_names WHERE body_id = ? ORDER BY name", bid[0]["body_id"])
    assert {(n["name"], n["rule"]) for n in names} == {(plan["old"], "alias"), (plan["new"], "exact")}
    assert [r["status"] for r in rows(arc, "SELECT status FROM cross_checks WHERE report_id = ? AND rule = 'Y1'",
                                      ids["old"][2023])] == ["ok"] * 7


def test_without_the_alias_a_renamed_body_is_two_bodies(planted: dict[str, Any]) -> None:
    arc, ids = planted["arc"], planted["ids"]
    empty = planted["tmp"] / "none.yaml"
    empty.write_text("renamed: []\n", "utf-8")
    recompute_across(arc, aliases=empty, today=TODAY)
    bid = rows(arc, "SELECT DISTINCT body_id FROM body_reports WHERE report_id IN (?, ?)",
               ids["old"][2022], ids["old"][2023])
    assert len(bid) == 2
    y1 = rows(arc, "SELECT status FROM cross_checks WHERE report_id = ? AND rule = 'Y1'", ids["old"][2023])
    assert [r["status"] for r in y1] == ["unknown"]  # no 2022 for the new name: not checked, not ok
    old_missing = rows(arc, "SELECT c.year FROM coverage c JOIN bodies b USING (body_id) WHERE b.name = ? AND"
                            " c.status = 'missing'", planted["plan"]["old"])
    assert [r["year"] for r in old_missing] == [2023, 2024, 2025]


def test_edit_after_publication_has_changed_cells_and_a_section_diff(tmp_path: Path) -> None:
    rng = random.Random(3)
    arc = open_archive(tmp_path / "ogi.db")
    try:
        rep = series(rng, "洛阳市教育局", [2023], mode="dense")[0]
        rid = store(arc, rep)
        p = to_parsed_json(rep)
        p["cells"]["t4.review.upheld"] += 1
        p["cells"]["t4.review.total"] += 1
        p["sections"]["s5.problems"] += "\n补充说明：已整改。"
        assert store(arc, rep, parsed=p) == rid
        recompute_across(arc, today=TODAY)
        (edit,) = rows(arc, "SELECT * FROM edits")
        assert edit["report_id"] == rid and edit["changed_sections"] == "s5.problems"
        assert {c["key"] for c in json.loads(edit["changed_cells"])} == {"t4.review.upheld", "t4.review.total"}
        assert "+补充说明：已整改。" in edit["diff"]
        (cov,) = rows(arc, "SELECT edited_after_publication, edits FROM coverage WHERE report_id = ?", rid)
        assert cov == {"edited_after_publication": 1, "edits": 1}
    finally:
        arc.close()


def test_rollup_ok_fail_and_unknown_with_coverage_share(tmp_path: Path) -> None:
    rng = random.Random(11)
    arc = open_archive(tmp_path / "ogi.db")
    try:
        members = ["焦作市教育局", "焦作市生态环境局", "焦作市人民政府办公室"]
        reps = {a: series(rng, a, [2022, 2023], mode="sparse") for a in members}
        for rs in reps.values():
            for r in rs:
                store(arc, r)
        agg_ids = {}
        for year in (2022, 2023):
            agg = random_report(rng, "gov2021", agency="焦作市人民政府", year=year, scope="aggregate",
                                published=f"{year + 1}-03-01", blank_rate=0.0, derived_totals=False)
            for k in list(agg.cells):
                if k.startswith(("t3.", "t4.")):
                    agg.cells[k] = sum(next(r for r in reps[a] if r.year == year).cells[k] for a in members)
            if year == 2023:
                agg.cells["t3.received_new.total"] += 5
            agg_ids[year] = store(arc, agg)
        recompute_across(arc, today=TODAY)
        got = {(r["year"], r["key"]): r for r in rows(arc, "SELECT * FROM rollups")}
        assert got[(2022, "t3.received_new.total")]["status"] == "ok"
        assert got[(2022, "t3.received_new.total")]["coverage_share"] == 1.0
        bad = got[(2023, "t3.received_new.total")]
        assert bad["status"] == "fail" and bad["printed"] == bad["summed"] + 5
        assert {r["status"] for k, r in got.items() if k[0] == 2023 and k[1] != "t3.received_new.total"} == {"ok"}
        # a body of the region seen only in 2022: its 2023 report is missing, the roll-up is unknown
        extra = series(rng, "焦作市农业农村局", [2022], mode="sparse")[0]
        store(arc, extra)
        recompute_across(arc, today=TODAY)
        got = {(r["year"], r["key"]): r for r in rows(arc, "SELECT * FROM rollups")}
        r23 = got[(2023, "t3.outcome.total.total")]
        assert r23["status"] == "unknown" and r23["coverage_share"] == 0.75 and r23["members_known"] == 4
    finally:
        arc.close()


def test_rates_need_thirty_cases_and_rank_within_level_and_province(tmp_path: Path) -> None:
    rng = random.Random(5)
    arc = open_archive(tmp_path / "ogi.db")
    try:
        sizes = {"焦作市教育局": (29, 10), "焦作市生态环境局": (30, 15), "焦作市市场监督管理局": (80, 60),
                 "焦作市人力资源和社会保障局": (200, 20)}
        for agency, (n, granted) in sizes.items():
            rep = random_report(rng, "gov2021", agency=agency, year=2023, scope="self", mode="zero",
                                blank_rate=0.0, derived_totals=False)
            for row, v in (("t3.outcome.granted", granted), ("t3.outcome.unavailable.not_held", n - granted),
                           ("t3.outcome.total", n), ("t3.received_new", n)):
                rep.cells[f"{row}.natural"] = v
                rep.cells[f"{row}.total"] = v
            store(arc, rep)
        recompute_across(arc, today=TODAY)
        got = {r["name"]: r for r in rows(arc, "SELECT * FROM rates WHERE rate = 'disclosure'")}
        assert got["焦作市教育局"]["rated"] == 0 and got["焦作市教育局"]["value"] is None
        assert "fewer than 30" in got["焦作市教育局"]["reason"]
        rated = {n: r for n, r in got.items() if r["rated"]}
        assert set(rated) == {"焦作市生态环境局", "焦作市市场监督管理局", "焦作市人力资源和社会保障局"}
        assert rated["焦作市生态环境局"]["value"] == 0.5 and rated["焦作市生态环境局"]["peers"] == 3
        assert {n: r["percentile"] for n, r in rated.items()} == {
            "焦作市人力资源和社会保障局": 0.0, "焦作市生态环境局": 0.5, "焦作市市场监督管理局": 1.0}
    finally:
        arc.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), first=st.integers(2019, 2023), n=st.integers(2, 4),
       mode=st.sampled_from(["zero", "sparse", "dense", "large"]))
def test_a_consistent_random_series_has_no_cross_year_failure(
    tmp_path_factory: pytest.TempPathFactory, seed: int, first: int, n: int, mode: str
) -> None:
    rng = random.Random(seed)
    arc = open_archive(tmp_path_factory.mktemp("prop") / "ogi.db")
    try:
        for agency in ("焦作市教育局", "洛阳市教育局"):
            for rep in series(rng, agency, list(range(first, first + n)), mode=mode):
                store(arc, rep)
        summary = recompute_across(arc, today=TODAY)
        assert summary["cross_checks"].get("fail", 0) == 0
        assert summary["cross_checks"].get("ok", 0) >= 2 * (n - 1) * 7  # every Y1 column of every pair checked
        assert summary["rollups"].get("fail", 0) == 0
    finally:
        arc.close()
