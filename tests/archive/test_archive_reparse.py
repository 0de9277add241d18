"""Re-parse: stored documents through a (changed) parser again, without re-crawling (`ogi reparse`, Archive.reparse)."""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive import ArchiveError, open_archive
from archive.queries import parse_object
from archive.store import comparable_parse
from ogi.cli import cli
from ogi.commands import archive as archive_cmds

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
FILES = [REAL / "001.txt", REAL / "002.html", REAL / "004.txt"]


def run(*args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def lines(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    db = tmp_path / "ogi.db"
    run("import", *map(str, FILES), "--db", str(db))
    return db


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(db)
    out = {
        t: con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
        for t in (
            "reports",
            "versions",
            "cells",
            "t3",
            "t4",
            "t2",
            "checks",
            "sections",
            "changes",
            "documents",
        )
    }
    con.close()
    return out


def bump_parser(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Make `crawler.parsers.parse_document` return a changed parse (as an improved parser would)."""
    import crawler.parsers

    real = crawler.parsers.parse_document

    class Wrapped:
        def __init__(self, rep: Any) -> None:
            self.rep = rep

        def to_json(self) -> dict[str, Any]:
            obj = self.rep.to_json()
            change(obj)
            return obj

    monkeypatch.setattr(crawler.parsers, "parse_document", lambda data, **kw: Wrapped(real(data, **kw)))


def test_parser_version_is_a_stable_source_hash():
    v = archive_cmds.parser_version()
    assert re.fullmatch(r"src-[0-9a-f]{12}", v) or not v.startswith("src-")
    archive_cmds.parser_version.cache_clear()
    assert archive_cmds.parser_version() == v


def test_import_records_the_parser_version(imported):
    con = sqlite3.connect(imported)
    rows = con.execute("SELECT DISTINCT parser_version, reparse FROM versions").fetchall()
    assert rows == [(archive_cmds.parser_version(), 0)]


def test_identical_reparse_changes_nothing(imported):
    before = snapshot(imported)
    res = run("reparse", "--db", str(imported), "--all", "--json")
    out = lines(res)
    assert len(out) == len(FILES)
    assert {o["status"] for o in out} == {"unchanged"}
    assert snapshot(imported) == before
    con = sqlite3.connect(imported)
    run_row = con.execute("SELECT kind, status, counts FROM runs").fetchone()
    assert run_row[:2] == ("reparse", "ok")
    assert json.loads(run_row[2]) == {"unchanged": len(FILES)}


def test_changed_parse_becomes_a_flagged_new_version(imported, monkeypatch):
    def change(obj: dict[str, Any]) -> None:
        if "t3.received_new.natural" in obj["cells"]:
            obj["cells"]["t3.received_new.natural"] += 1
            obj["raw"]["t3.received_new.natural"] = str(obj["cells"]["t3.received_new.natural"])

    bump_parser(monkeypatch, change)
    monkeypatch.setattr(archive_cmds, "parser_version", lambda: "test-parser-2")
    out = lines(run("reparse", "--db", str(imported), "--all", "--json"))
    assert {o["status"] for o in out} == {"new_version"}
    arc = open_archive(imported)
    for o in out:
        rep = arc.report(o["report_id"])
        assert rep["versions"] == 2
        assert rep["changed_after_publication"] == 0  # same bytes: not a change of the published report
        cur, prev = arc.conn.execute(
            "SELECT id, parser_version, reparse, sha256, is_current FROM versions WHERE report_id = ? ORDER BY version DESC",
            (o["report_id"],),
        ).fetchall()
        assert cur[1:] == ("test-parser-2", 1, o["sha256"], 1)
        assert prev[2:] == (0, o["sha256"], 0)
        assert rep["current_version_id"] == cur[0]
        changes = arc.conn.execute(
            "SELECT key, old_value, new_value FROM changes WHERE to_version_id = ?", (cur[0],)
        ).fetchall()
        assert [c[0] for c in changes] == ["t3.received_new.natural"]
        assert changes[0][2] == changes[0][1] + 1
        # only the new version's rows are current
        assert arc.conn.execute(
            "SELECT count(DISTINCT version_id) FROM t3 WHERE report_id = ? AND is_current = 1",
            (o["report_id"],),
        ).fetchone() == (1,)
        exported = parse_object(arc, cur[0])
        assert exported["cells"]["t3.received_new.natural"] == changes[0][2]
    arc.close()
    # the same improved parser again: nothing new
    before = snapshot(imported)
    assert {o["status"] for o in lines(run("reparse", "--db", str(imported), "--all", "--json"))} == {
        "unchanged"
    }
    assert snapshot(imported) == before


def test_reparse_by_sha256_prefix_and_since(imported, monkeypatch):
    bump_parser(monkeypatch, lambda obj: obj["warnings"].append("improved"))
    arc = open_archive(imported)
    sha = arc.conn.execute("SELECT sha256 FROM reports ORDER BY id LIMIT 1").fetchone()[0]
    arc.close()
    out = lines(run("reparse", "--db", str(imported), "--sha256", sha[:10], "--json"))
    assert [(o["sha256"], o["status"]) for o in out] == [(sha, "new_version")]
    assert lines(run("reparse", "--db", str(imported), "--since", "2999-01-01", "--json")) == []
    out = lines(run("reparse", "--db", str(imported), "--since", "2000-01-01", "--json"))
    assert sorted(o["status"] for o in out) == ["new_version", "new_version", "unchanged"]


def test_reparse_needs_exactly_one_selection_and_clear_errors(imported):
    for args in ([], ["--all", "--since", "2024-01-01"], ["--all", "--sha256", "abcdef"]):
        res = run("reparse", "--db", str(imported), *args, ok=False)
        assert res.exit_code == 2
        assert "exactly one of" in res.output
    res = run("reparse", "--db", str(imported), "--since", "yesterday", ok=False)
    assert res.exit_code == 2
    assert "not a date" in res.output
    res = run("reparse", "--db", str(imported), "--sha256", "0000000000", ok=False)
    assert res.exit_code == 1
    assert "no document" in res.output
    assert "Traceback" not in res.output


# --- the API, with a parse function standing in for the parser ---------------------------------------


def stored(
    arc: Any, make_parsed: Any, name: str = "001", data: bytes = b"doc-1"
) -> tuple[str, dict[str, Any]]:
    sha = arc.save_document(data, url=f"https://gov.example.cn/{name}.html")
    parsed = make_parsed(name)
    res = arc.save_report(parsed, sha256=sha, url=f"https://gov.example.cn/{name}.html", source="spider")
    assert res.status == "new"
    return sha, parsed


def test_api_reparse_identical_and_changed(arc, make_parsed):
    _sha, parsed = stored(arc, make_parsed)
    seen: list[dict[str, Any]] = []

    def same(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx)
        assert data == b"doc-1"
        return copy.deepcopy(parsed)

    counts = arc.counts()
    assert [r.status for r in arc.reparse(same, parser_version="p1")] == ["unchanged"]
    assert arc.counts() == counts
    assert seen[0]["source"] == parsed["source"]
    assert seen[0]["url"] == "https://gov.example.cn/001.html"
    assert seen[0]["save_url"] == "https://gov.example.cn/001.html"
    assert seen[0]["origin"] == "spider"
    assert seen[0]["title_hint"] == parsed["title"]

    def better(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(parsed)
        obj["checks"].append({"rule": "I5", "scope": "t4", "status": "ok", "lhs": 0, "rhs": 0})
        return obj

    (res,) = arc.reparse(better, parser_version="p2")
    assert (res.status, res.version) == ("new_version", 2)
    v = arc.conn.execute(
        "SELECT parser_version, reparse, origin, url, run_id FROM versions WHERE version = 2"
    ).fetchone()
    assert v[:4] == ("p2", 1, "spider", "https://gov.example.cn/001.html")
    assert arc.conn.execute("SELECT kind FROM runs WHERE id = ?", (v[4],)).fetchone() == ("reparse",)
    assert arc.conn.execute("SELECT count(*) FROM checks WHERE is_current = 1").fetchone() == (3,)


def test_api_reparse_rekeys_a_report_or_refuses_a_conflict(arc, make_parsed):
    sha1, p1 = stored(arc, make_parsed, "001", b"doc-1")
    sha2, p2 = stored(arc, make_parsed, "002", b"doc-2")
    id1 = arc.conn.execute("SELECT id FROM reports WHERE sha256 = ?", (sha1,)).fetchone()[0]

    def fixed_year(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(p1 if data == b"doc-1" else p2)
        if data == b"doc-1":
            obj["year"] = obj["year"] - 1  # the improved parser reads the year correctly
        return obj

    results = {r.sha256: r for r in arc.reparse(fixed_year)}
    assert (results[sha1].status, results[sha1].report_id, results[sha1].version) == ("new_version", id1, 2)
    assert results[sha2].status == "unchanged"
    key = arc.conn.execute("SELECT report_key, year FROM reports WHERE id = ?", (id1,)).fetchone()
    assert key == (f"{p1['agency']}|{p1['year'] - 1}", p1["year"] - 1)

    def clash(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(p1 if data == b"doc-1" else p2)
        if data == b"doc-2":  # now claims to be report 1's agency and year
            obj.update(agency=p1["agency"], year=p1["year"] - 1)
        return obj

    before = arc.counts()
    results = {r.sha256: r for r in arc.reparse(clash, sha256s=[sha2])}
    assert results[sha2].status == "conflict"
    assert "already has" in (results[sha2].reason or "")
    assert arc.counts() == before


def test_api_reparse_keeps_reports_and_old_versions(arc, make_parsed):
    sha_old, parsed = stored(arc, make_parsed, "001", b"doc-1")
    sha_new = arc.save_document(b"doc-1 revised")
    revised = {**parsed, "text": (parsed.get("text") or "") + "\n（本报告于发布后更正）"}  # other content: a version
    assert arc.save_report(revised, sha256=sha_new).status == "new_version"
    sha_not = arc.save_document(b"a list page")
    arc.save_report({"ok": False, "status": "not_report", "error": "no tables"}, sha256=sha_not)
    arc.save_document(b"never parsed")  # a crawled list page: not re-parsed

    assert set(arc.reparse_candidates()) == {sha_new, sha_not}

    def regression(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
        if data == b"a list page":
            return {**parsed, "year": 2030}  # the parser now finds a report in it
        return {"ok": False, "status": "not_report", "error": "parser regression"}

    results = {r.sha256: r for r in arc.reparse(regression)}
    assert results[sha_new].status == "not_report"
    assert "kept" in (results[sha_new].reason or "")
    assert arc.conn.execute("SELECT parse_status FROM documents WHERE sha256 = ?", (sha_new,)).fetchone() == (
        "report",
    )
    assert results[sha_not].status == "new"
    assert arc.conn.execute("SELECT reparse FROM versions WHERE sha256 = ?", (sha_not,)).fetchone() == (1,)
    # an older version asked for by sha256 is left alone
    (res,) = arc.reparse(regression, sha256s=[sha_old])
    assert res.status == "skipped"


def test_api_reparse_goes_on_after_a_missing_blob_or_a_crashing_parser(arc, make_parsed, tmp_path):
    sha1, _p1 = stored(arc, make_parsed, "001", b"doc-1")
    sha2, p2 = stored(arc, make_parsed, "002", b"doc-2")
    sha3, p3 = stored(arc, make_parsed, "004", b"doc-3")
    pack, offset, _size = arc.blob_location(sha1)
    with pack.open("r+b") as fh:  # damage doc-1's bytes
        fh.seek(offset)
        fh.write(b"X")
    by = {b"doc-2": p2, b"doc-3": p3}

    def parse(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
        if data == b"doc-2":
            raise RuntimeError("boom")
        return copy.deepcopy(by[data])

    results = {r.sha256: r for r in arc.reparse(parse)}
    assert results[sha1].status == "error"
    assert results[sha2].status == "error"
    assert "boom" in (results[sha2].reason or "")
    assert results[sha3].status == "unchanged"
    assert arc.runs(1)[0]["status"] == "ok"
    with pytest.raises(ArchiveError, match="at least 6"):
        arc.reparse(parse, sha256s=["ab"])


def test_comparable_parse_round_trips_through_the_archive(arc, make_parsed):
    parsed = make_parsed("002")
    parsed["cells"]["t9.extra"] = 1.5
    parsed["raw"]["t9.extra"] = "1.50"
    parsed["flags"]["t9.extra"] = None
    parsed["paths"]["t9.extra"] = None
    parsed["warnings"] = ("a", "b")
    sha = arc.save_document(b"x")
    res = arc.save_report(parsed, sha256=sha)
    vid = arc.report(res.report_id)["current_version_id"]
    back = parse_object(arc, vid)
    assert comparable_parse(back) == comparable_parse(parsed)
    other = copy.deepcopy(parsed)
    other["raw"]["t9.extra"] = "1.5"
    assert comparable_parse(other) != comparable_parse(parsed)
