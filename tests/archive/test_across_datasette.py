"""The across-report canned queries and tables in `ogi serve`'s Datasette, on a small archive with one of
each finding: a failed carry-over, a late report, a missing year, a copied section, an aggregate roll-up."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import yaml

from archive import open_archive
from archive.across import DERIVED_TABLES, DERIVED_VIEWS, recompute_across
from archive.serve import make_datasette
from ogi.demo.synth import random_report, to_parsed_json

METADATA = Path(__file__).resolve().parents[2] / "archive" / "metadata.yml"


def _save(arc: Any, rep: Any, tag: str) -> int:
    p = to_parsed_json(rep)
    sha = arc.save_document(json.dumps(p, ensure_ascii=False).encode(), url=f"http://x/{tag}")
    return arc.save_report(p, sha256=sha, url=f"http://x/{tag}").report_id


def _get(ds: Any, path: str) -> dict[str, Any]:
    r = asyncio.run(ds.client.get(path + ("&" if "?" in path else "?") + "_shape=objects"))
    assert r.status_code == 200, (path, r.text[:300])
    return json.loads(r.text)


def test_every_canned_query_answers_with_its_finding(tmp_path: Path) -> None:
    rng = random.Random(2)
    db = tmp_path / "ogi.db"
    arc = open_archive(db)
    try:
        kw: dict[str, Any] = {"scope": "self", "blank_rate": 0.0, "derived_totals": False, "mode": "dense"}
        a = random_report(rng, "gov2021", agency="焦作市教育局", year=2022, published="2023-01-10", **kw)
        b = random_report(rng, "gov2021", agency="焦作市教育局", year=2023, published="2024-04-01", **kw)
        b.sections = dict(a.sections)  # copied, numbers and all
        b.cells["t3.carried_in.natural"] = a.cells["t3.carried_out.natural"] + 3  # a wrong carry-over
        _save(arc, a, "a")
        _save(arc, b, "b")
        c = random_report(rng, "gov2021", agency="焦作市人民政府", year=2022, published="2023-03-01",
                          **{**kw, "scope": "aggregate"})
        _save(arc, c, "c")
        recompute_across(arc, today=dt.date(2026, 12, 1))
    finally:
        arc.close()
    ds = make_datasette(db)
    timeline = _get(ds, "/ogi/body_timeline.json?name=教育局")["rows"]
    assert [(r["year"], r["timeliness"]) for r in timeline] == [(2022, "on_time"), (2023, "late")]
    assert timeline[1]["days_late"] == 61 and timeline[1]["cross_fail"] >= 1
    late = _get(ds, "/ogi/late_missing_by_province.json")["rows"]
    assert sum(r["late"] for r in late) == 1 and {r["province"] for r in late} == {"河南省"}
    assert sum(r["missing"] for r in late) == 1  # the government's 2023 report (deadline 2024-03-31)
    assert _get(ds, "/ogi/yoy_jumps.json")["rows"][0]["received_new"] == b.cells["t3.received_new.total"]
    copies = _get(ds, "/ogi/copy_paste_candidates.json?flag=copied")["rows"]
    assert copies and all(json.loads(r["passages"]) for r in copies)
    fails = _get(ds, "/ogi/cross_year_failures.json")["rows"]
    assert {(r["rule"], r["scope"]) for r in fails} >= {("Y1", "natural")}
    rollups = _get(ds, "/ogi/rollup_checks.json")["rows"]
    # the one body of the region the archive knows reported: complete as far as known, and it does not add up
    assert rollups and {(r["status"], r["coverage_share"], r["members_found"]) for r in rollups} == {("fail", 1.0, 1)}
    assert _get(ds, "/ogi/rates_ranking.json?rate=")["rows"] is not None


def test_metadata_describes_every_derived_table_bilingually() -> None:
    tables = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]["tables"]
    for name in (*DERIVED_TABLES, *DERIVED_VIEWS):
        desc = tables[name]["description"]
        assert " / " in desc and any("\u4e00" <= ch <= "\u9fff" for ch in desc), name


def test_ogi_import_recomputes_and_export_across_writes_every_table(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ogi.cli import cli

    real = Path(__file__).resolve().parents[1] / "fixtures" / "real"
    db = tmp_path / "ogi.db"
    files = [str(real / f"{n}.txt") for n in ("009", "010", "011")]
    res = CliRunner().invoke(cli, ["import", "--db", str(db), *files], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = tmp_path / "across.jsonl"
    res = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "across", "-o", str(out)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    tables = {x["table"] for x in lines}
    assert {"bodies", "body_reports", "cross_checks", "coverage", "rates"} <= tables
    y1 = [x for x in lines if x["table"] == "cross_checks" and x["rule"] == "Y1" and x["prev_report_id"]]
    assert len(y1) == 14  # 2023 and 2024 against their previous years, 7 applicant columns each
    book = (tmp_path / "across.codebook.csv").read_text(encoding="utf-8")
    assert "cross_checks.lhs" in book and "跨年校验" in book
