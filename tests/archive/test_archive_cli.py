"""`ogi import` / `ogi export` over the real fixtures: round trip, idempotence, new versions, bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import open_archive
from ogi.cli import cli

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
REAL_REPORTS = sorted(
    p for p in REAL.iterdir() if p.suffix in (".txt", ".html") and p.with_suffix(".json").exists()
)

PARTIAL = sorted((REAL / "partial").glob("P*.txt"))


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def parse_json(paths: list[Path]) -> list[dict]:
    result = CliRunner().invoke(cli, ["parse", "--json", *map(str, paths)], catch_exceptions=False)
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, list[dict], str]:
    db = tmp_path_factory.mktemp("cli") / "ogi.db"
    files = [*REAL_REPORTS, *PARTIAL]
    out = run("import", *map(str, files), "--db", str(db), "--json")
    return db, [json.loads(line) for line in out.splitlines()], out


def test_round_trip_every_real_fixture(imported):
    db, lines, _ = imported
    parsed = {p["source"]: p for p in parse_json(REAL_REPORTS)}
    exported = [json.loads(line) for line in run("export", "--db", str(db), "--format", "jsonl").splitlines()]
    by_source = {e["source"]: e for e in exported}
    statuses = {line["file"]: line["status"] for line in lines}
    for path in REAL_REPORTS:
        src = str(path)
        assert statuses[src] in ("new", "pre2019", "image_only"), (src, statuses[src])
        assert src in by_source, f"{src} not exported"
        obj = by_source[src]
        for extra in ("url", "sha256", "region"):
            assert extra in obj
        assert obj["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        rest = {k: v for k, v in obj.items() if k not in ("url", "sha256", "region")}
        assert rest == parsed[src], src
        assert list(rest) == list(parsed[src])  # exactly the same fields, in the same order


def test_regions_of_the_real_fixtures(imported):
    db, _, _ = imported
    exported = [json.loads(line) for line in run("export", "--db", str(db)).splitlines()]
    regions = {e["agency"]: (e["region"] or {}).get("province") for e in exported}
    assert regions.get("焦作市人民政府办公室") == "河南省"
    assert regions.get("平潭综合实验区") == "福建省"


def test_reimport_changes_nothing(imported):
    db, _, _ = imported
    arc = open_archive(db)
    before = arc.counts()
    arc.close()
    out = run("import", *map(str, REAL_REPORTS), "--db", str(db), "--json")
    assert {json.loads(line)["status"] for line in out.splitlines()} <= {"unchanged", "pre2019", "image_only"}
    arc = open_archive(db)
    assert arc.counts() == before
    arc.close()


def test_changed_file_becomes_a_new_version(tmp_path):
    db = tmp_path / "v.db"
    src = tmp_path / "001.txt"
    shutil.copy(REAL / "001.txt", src)
    first = json.loads(run("import", str(src), "--db", str(db), "--json"))
    assert first["status"] == "new"
    text = src.read_text(encoding="utf-8")
    src.write_text(text + "\n（本报告于发布后更正）\n", encoding="utf-8")
    second = json.loads(run("import", str(src), "--db", str(db), "--json"))
    assert (second["status"], second["version"], second["report_id"]) == (
        "new_version",
        2,
        first["report_id"],
    )
    arc = open_archive(db)
    rep = arc.report(first["report_id"])
    assert rep["changed_after_publication"] == 1
    assert rep["versions"] == 2
    assert arc.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
    arc.close()
    exported = run("export", "--db", str(db)).splitlines()
    assert len(exported) == 1
    assert json.loads(exported[0])["sha256"] == second["sha256"]


def test_not_a_report_and_unreadable_files(tmp_path):
    db = tmp_path / "bad.db"
    junk = tmp_path / "login.html"
    junk.write_text("<html><body>请登录 login</body></html>", encoding="utf-8")
    binary = tmp_path / "noise.pdf"
    binary.write_bytes(b"%PDF-1.4 truncated \x00\x01")
    result = CliRunner().invoke(
        cli, ["import", str(junk), str(binary), str(tmp_path / "missing.txt"), "--db", str(db), "--json"]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [line["status"] for line in lines] == ["not_report", "not_report", "error"]
    assert all(line.get("reason") for line in lines)
    arc = open_archive(db)
    assert arc.conn.execute("SELECT count(*) FROM documents WHERE reason IS NOT NULL").fetchone()[0] == 2
    assert arc.counts()["reports"] == 0
    arc.close()


def test_csv_export_is_tidy_long_with_a_codebook(imported, tmp_path):
    db, _, _ = imported
    out = tmp_path / "cells.csv"
    run("export", "--db", str(db), "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows
    assert list(rows[0]) == [
        "report_id",
        "version_id",
        "agency",
        "year",
        "province",
        "key",
        "value",
        "raw",
        "flag",
        "path",
        "sha256",
        "url",
        # the report's metadata (issue 13): aggregate reports (scope) are not summed with their parts
        "title",
        "scope",
        "formats",
        "region_code",
        "published",
        "check_status",
        "checks_failed",
        "checks_unknown",
    ]
    arc = open_archive(db)
    n = arc.conn.execute(
        "SELECT count(*) FROM cells c JOIN versions v ON v.id = c.version_id WHERE v.is_current = 1"
    )
    assert len(rows) == n.fetchone()[0]
    arc.close()
    jiaozuo = [
        r for r in rows if r["agency"] == "焦作市人民政府办公室" and r["key"] == "t3.received_new.total"
    ]
    assert jiaozuo
    assert jiaozuo[0]["value"] == "58"
    assert jiaozuo[0]["raw"] == "58"
    assert jiaozuo[0]["flag"] == "num"
    book = list(csv.DictReader(io.StringIO(out.with_name("cells.codebook.csv").read_text(encoding="utf-8"))))
    names = {b["name"] for b in book}
    assert {"key", "raw", "flag", "t3.received_new.total", "derived"} <= names
    assert all(b["label_en"] for b in book)


def test_bad_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 50)
    result = CliRunner().invoke(cli, ["export", "--db", str(bad)])
    assert result.exit_code != 0
    assert "not an SQLite database" in result.output
    assert "Traceback" not in result.output


def test_damaged_database_is_a_clear_error(tmp_path):
    db = tmp_path / "dmg.db"
    run("import", str(REAL / "001.txt"), str(REAL / "002.html"), "--db", str(db))
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(db.read_bytes())
    for page in range(2, pages):  # scribble over every page but the header page
        data[page * page_size : page * page_size + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["export", "--db", str(db)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "damaged" in result.output or "malformed" in result.output or "cannot open" in result.output
