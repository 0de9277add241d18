"""`ogi serve`'s Datasette (through its test client): tables, facets, canned queries, metadata, read-only."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from archive.serve import make_datasette


@pytest.fixture
def served(db_path, arc, make_parsed):
    for name in ("001", "002", "007", "008"):
        sha = arc.save_document(name.encode(), url=f"http://x/{name}")
        parsed = make_parsed(name)
        if name == "007":
            parsed["checks"] = [
                {"rule": "I1", "scope": "total", "status": "fail", "lhs": 10, "rhs": 12},
                {"rule": "S3", "scope": "received_new", "status": "fail", "lhs": 30, "rhs": 31},
            ]
        arc.save_report(parsed, sha256=sha, url=f"http://x/{name}")
    return make_datasette(db_path)


def get(ds, path: str):
    return asyncio.run(ds.client.get(path))


def get_json(ds, path: str) -> dict:
    sep = "&" if "?" in path else "?"
    r = get(ds, path + sep + "_shape=objects")
    assert r.status_code == 200, (path, r.text[:500])
    return json.loads(r.text)


def test_pages_render(served):
    for path in ("/", "/ogi", "/ogi/reports", "/ogi/t3", "/ogi/t4", "/ogi/t2", "/ogi/checks", "/ogi/sections",
                 "/ogi/cells_long", "/ogi/documents", "/ogi/versions", "/ogi/changes", "/ogi/runs"):  # fmt: skip
        r = get(served, path)
        assert r.status_code == 200, path
    home = get(served, "/ogi").text
    assert "年度报告档案" in home
    assert "full-text search" in home


def test_reports_have_default_facets(served):
    data = get_json(served, "/ogi/reports.json?_extra=facet_results")
    facets = data["facet_results"]
    facets = facets.get("results", facets)
    assert {"year", "province", "t3_format", "check_status"} <= set(facets)
    years = {f["value"]: f["count"] for f in facets["year"]["results"]}
    assert years == {2021: 2, 2019: 1, 2020: 1}
    provinces = {f["value"] for f in facets["province"]["results"]}
    assert {"河南省", "福建省", "上海市"} <= provinces


def test_t3_reads_as_printed_rows_with_facets(served):
    data = get_json(
        served, "/ogi/t3.json?row_key=t3.received_new&is_current=1&_labels=on&_extra=facet_results"
    )
    assert len(data["rows"]) == 4
    row = next(r for r in data["rows"] if r["report_id"]["label"] == "焦作市人民政府办公室")
    assert (row["natural"], row["commercial"], row["total"]) == (57, 1, 58)
    assert row["row_key"]["label"] == "一、本年新收政府信息公开申请数量"
    facets = data["facet_results"]
    facets = facets.get("results", facets)
    assert {"year", "province", "format"} <= set(facets)
    assert "row_key" not in facets  # issue 13: a 29-value facet list no longer comes before the data
    html = get(served, "/ogi/t3").text
    assert "自然人" in html  # bilingual column descriptions reach the page
    assert "一、本年新收政府信息公开申请数量" in html  # row labels shown next to the keys
    assert "焦作市人民政府办公室" in html  # report ids shown with their agency


def test_canned_queries(served):
    failing = get_json(served, "/ogi/failing_checks.json")["rows"]
    assert {(r["year"], r["rule"]) for r in failing} == {(2020, "I1"), (2020, "S3")}
    narrative = get_json(served, "/ogi/narrative_mismatch.json")["rows"]
    assert [(r["narrative"], r["tables"]) for r in narrative] == [(30, 31)]
    totals = get_json(served, "/ogi/totals_by_year_province.json")["rows"]
    henan = next(r for r in totals if r["province"] == "河南省")
    assert (henan["year"], henan["received_new"]) == (2021, 58)
    assert get_json(served, "/ogi/changed_reports.json")["rows"] == []
    long_q = get_json(served, "/ogi/search.json?q=政府信息公开条例")["rows"]
    assert {r["year"] for r in long_q} == {2019, 2020, 2021}
    short_q = get_json(served, "/ogi/search.json?q=政策")["rows"]
    assert len(short_q) == 4
    assert all(r["key"] == "s5.problems" for r in short_q)


def test_sections_table_has_fts_search(served):
    data = get_json(served, "/ogi/sections.json?_search=中华人民共和国")
    assert len(data["rows"]) == 4


def test_served_database_is_read_only(served):
    r = asyncio.run(served.client.post("/ogi/-/query", data={"sql": "DELETE FROM reports"}))
    assert r.status_code in (400, 403, 405)
    r = get(served, "/ogi.json?sql=DELETE+FROM+reports")
    assert r.status_code == 400
    db = served.get_database("ogi")
    with pytest.raises(sqlite3.OperationalError):
        asyncio.run(db.execute("DELETE FROM reports"))
    assert get_json(served, "/ogi/reports.json")["rows"]


def test_reads_while_a_writer_writes(served, arc, make_parsed):
    sha = arc.save_document(b"new one")
    arc.conn.execute("BEGIN IMMEDIATE")
    arc.conn.execute("UPDATE reports SET title = 'x'")
    try:
        assert (
            len(get_json(served, "/ogi/reports.json")["rows"]) == 4
        )  # readers are not blocked by the writer
    finally:
        arc.conn.execute("ROLLBACK")
    arc.save_report(make_parsed("009"), sha256=sha)
    assert len(get_json(served, "/ogi/reports.json")["rows"]) == 5  # and see new reports at once


def test_big_cell_tables_are_served_without_a_total_count(served):
    data = get_json(served, "/ogi/cells_long.json?_size=5")
    assert len(data["rows"]) == 5
    full = json.loads(get(served, "/ogi/cells_long.json?_size=5").text)
    assert full["filtered_table_rows_count"] is None  # no count(*) over millions of rows
    assert len(full["rows"]) == 5
    reports = json.loads(get(served, "/ogi/reports.json").text)
    assert reports["filtered_table_rows_count"] == 4  # other tables still count
    assert get(served, "/ogi/cells_long").status_code == 200
