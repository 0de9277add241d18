"""`ogi demo` shows one of each across-report finding (issue 14): the series column of the sample portal
(ogi/demo/series.py) crawled into the demo archive, every planted finding read back from the derived tables, the
across canned queries answering with rows (and their datasette-vega chart links) under plain Datasette, and an
edit after publication found when the portal changes a report between two crawls."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ogi.demo import series
from ogi.demo.portal import SERIES_URL, Portal, PortalServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
P = series.PLANTED


def _ogi(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ogi.commands.crawl", *args], capture_output=True, text=True,
                          timeout=180, env=env, cwd=ROOT)


def _rows(db: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    res = _ogi("demo", "--no-serve", "--db", str(db))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "sample-series: ok" in res.stdout, res.stdout
    return db


def _report(db: Path, agency: str, year: int) -> int:
    found = _rows(db, "SELECT id FROM reports WHERE agency = ? AND year = ?", agency, year)
    assert len(found) == 1, (agency, year, found)
    return int(found[0]["id"])


def test_every_series_report_is_archived(demo_db: Path) -> None:
    expected = Portal().series_expected
    got = {(r["agency"], r["year"]) for r in _rows(demo_db, "SELECT agency, year FROM reports")}
    assert {(e.agency, e.year) for e in expected} <= got
    assert len(expected) == 14


def test_cross_year_failures_y1_and_y2(demo_db: Path) -> None:
    y1, y2 = P["y1_fail"], P["y2_fail"]
    fails = _rows(demo_db, "SELECT * FROM cross_checks WHERE status = 'fail'")
    rid = _report(demo_db, y1["agency"], y1["year"])
    hit = [r for r in fails if r["rule"] == "Y1" and r["report_id"] == rid and r["scope"] == y1["scope"]]
    assert hit and hit[0]["lhs"] - hit[0]["rhs"] == y1["delta"]
    # the pair exists only because the renamed body's 2022 report (办公室) is the same body
    assert hit[0]["prev_report_id"] == _report(demo_db, P["renamed"]["from"], y1["year"] - 1)
    rid2 = _report(demo_db, y2["agency"], y2["year"])
    hit2 = [r for r in fails if r["rule"] == "Y2" and r["report_id"] == rid2 and r["scope"] == y2["scope"]]
    assert hit2 and hit2[0]["lhs"] - hit2[0]["rhs"] == y2["delta"]
    # nothing else of the series fails: the rest are consistent random series
    series_ids = {r["id"] for r in _rows(demo_db, "SELECT id FROM reports WHERE agency LIKE '焦作市%'")}
    assert {(r["rule"], r["report_id"]) for r in fails if r["report_id"] in series_ids} == {("Y1", rid), ("Y2", rid2)}


def test_coverage_late_and_missing(demo_db: Path) -> None:
    late, missing = P["late"], P["missing"]
    row = _rows(demo_db, "SELECT * FROM coverage WHERE name = ? AND year = ?", late["agency"], late["year"])
    assert row and row[0]["timeliness"] == "late" and row[0]["days_late"] == late["days_late"]
    assert row[0]["published"].startswith(late["published"])  # the page's 发布日期
    gone = _rows(demo_db, "SELECT * FROM coverage WHERE name = ? AND year = ?", missing["agency"], missing["year"])
    assert gone and gone[0]["status"] == "missing" and gone[0]["report_id"] is None


def test_copied_report(demo_db: Path) -> None:
    c = P["copied"]
    rid, prev = _report(demo_db, c["agency"], c["year"]), _report(demo_db, c["agency"], c["of_year"])
    flags = {(r["section"], r["flag"]) for r in _rows(
        demo_db, "SELECT * FROM similarity WHERE report_id = ? AND other_report_id = ?", rid, prev)}
    assert ("s1.overview", "copied") in flags and ("t3+t4", "tables_identical") in flags


def test_renamed_body_is_one_body(demo_db: Path) -> None:
    names = _rows(demo_db, "SELECT * FROM body_names WHERE name IN (?, ?)", P["renamed"]["from"], P["renamed"]["to"])
    assert len(names) == 2 and len({r["body_id"] for r in names}) == 1
    assert {r["rule"] for r in names} == {"exact", "normalised"}  # the 办公厅/办公室 rule, recorded


def test_rollup_and_rates(demo_db: Path) -> None:
    r = P["rollup"]
    rows = _rows(demo_db, "SELECT * FROM rollups WHERE name = ? AND year = ?", r["agency"], r["year"])
    assert len(rows) == 9 and {(x["status"], x["coverage_share"], x["members_found"]) for x in rows} == {
        ("ok", 1.0, r["members"])}
    assert all(x["printed"] == x["summed"] for x in rows)
    rated = _rows(demo_db, "SELECT * FROM rates WHERE rated = 1 AND name LIKE '焦作市%' AND rate = 'disclosure'")
    assert len(rated) >= 10 and all(x["denominator"] >= 30 for x in rated)


def test_across_canned_queries_answer_with_rows_and_chart_links(demo_db: Path) -> None:
    from datasette.app import Datasette

    ds = Datasette([str(demo_db)])  # plain Datasette: the plugin comes from the entry point
    name = demo_db.stem

    def get(path: str) -> Any:
        return asyncio.run(ds.client.get(f"/{name}/{path}"))

    for query, params, chart in (("body_timeline", "?name=焦作市财政局", "g.y_column=received_new"),
                                 ("late_missing_by_province", "", "g.y_column=late"),
                                 ("yoy_jumps", "", "g.y_column=delta_received_new")):
        res = get(f"{query}.json{params}{'&' if params else '?'}_shape=objects")
        assert res.status_code == 200, (query, res.text[:300])
        rows = json.loads(res.text)["rows"]
        assert rows, query
        page = get(query + params)
        assert page.status_code == 200 and chart in page.text and "datasette-vega" in page.text, query
    timeline = json.loads(get("body_timeline.json?name=焦作市财政局&_shape=objects").text)["rows"]
    assert [(t["year"], t["timeliness"]) for t in timeline] == [
        (2021, "on_time"), (2022, "on_time"), (2023, "missing"), (2024, "late")]
    late = json.loads(get("late_missing_by_province.json?_shape=objects").text)["rows"]
    assert any(r["province"] == "河南省" and r["late"] >= 1 and r["missing"] >= 1 for r in late)


def test_edit_after_publication_between_two_crawls(tmp_path: Path) -> None:
    server = PortalServer(Portal(slow_seconds=0.5)).start()
    db = tmp_path / "ogi.db"
    args = ["crawl", "--db", str(db), "--allow-private", "--host-map", f"fixture.test=127.0.0.1:{server.port}",
            "--fast", "--quiet", "--url", SERIES_URL]
    try:
        assert _ogi(*args).returncode == 0
        url = series.revise(server.portal)
        second = _ogi(*args)
        assert second.returncode == 0, second.stderr[-2000:]
    finally:
        server.stop()
    e = P["edit"]
    rid = _report(db, e["agency"], e["year"])
    edits = _rows(db, "SELECT * FROM edits WHERE report_id = ?", rid)
    assert len(edits) == 1 and edits[0]["url"] == url and edits[0]["cells_changed"] >= 1
    changed = {c["key"] for c in json.loads(edits[0]["changed_cells"])}
    assert "t3.outcome.granted.natural" in changed
    cov = _rows(db, "SELECT * FROM coverage WHERE report_id = ?", rid)
    assert cov and cov[0]["edited_after_publication"] == 1
