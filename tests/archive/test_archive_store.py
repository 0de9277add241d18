"""The archive API: documents with provenance, reports, versions, bad input, runs."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from archive import SCHEMA_VERSION, ArchiveError, open_archive
from archive.queries import parse_object


def _strip(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("url", "sha256", "region")}


def test_open_sets_wal_foreign_keys_and_schema_version(arc, db_path):
    assert arc.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert arc.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert arc.schema_version == SCHEMA_VERSION
    meta = dict(arc.conn.execute("SELECT key, value FROM archive_meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    # the FTS table uses the trigram tokenizer
    sql = arc.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sections_fts'").fetchone()[0]
    assert "trigram" in sql
    # reopening does not migrate again
    arc.close()
    again = open_archive(db_path)
    assert again.schema_version == SCHEMA_VERSION
    again.close()


def test_save_document_dedups_and_keeps_provenance(arc):
    data = "焦作 report".encode()
    sha = arc.save_document(
        data,
        url="http://a.example/r.html",
        final_url="http://a.example/r2.html",
        http_status=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "ETag": '"abc"',
            "Last-Modified": "Mon, 01 Jan 2024",
        },
        fetched_at="2024-01-02T00:00:00Z",
        source="spider_a",
    )
    assert sha == hashlib.sha256(data).hexdigest()
    assert arc.read_document(sha) == data
    sha2 = arc.save_document(data, url="http://b.example/copy.html", fetched_at="2024-02-01T00:00:00Z")
    assert sha2 == sha
    assert arc.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    assert arc.conn.execute("SELECT count(*) FROM fetches").fetchone()[0] == 2
    last = arc.last_fetch("http://a.example/r.html")
    assert last == {
        "sha256": sha,
        "etag": '"abc"',
        "last_modified": "Mon, 01 Jan 2024",
        "fetched_at": "2024-01-02T00:00:00Z",
        "http_status": 200,
    }
    assert arc.last_fetch("http://a.example/r2.html")["sha256"] == sha  # by final URL too
    assert arc.last_fetch("http://nowhere") is None
    row = arc.conn.execute("SELECT content_type, size FROM documents").fetchone()
    assert row == ("text/html; charset=utf-8", len(data))
    # the same fetch seen later only moves fetched_at forward
    arc.save_document(data, url="http://b.example/copy.html", fetched_at="2024-03-01T00:00:00Z")
    assert arc.last_fetch("http://b.example/copy.html")["fetched_at"] == "2024-03-01T00:00:00Z"
    assert arc.conn.execute("SELECT count(*) FROM fetches").fetchone()[0] == 2


def test_save_report_round_trip_and_idempotent(arc, make_parsed):
    parsed = make_parsed("001")
    sha = arc.save_document(b"doc 001", url="http://x/001")
    res = arc.save_report(parsed, sha256=sha, url="http://x/001")
    assert (res.status, res.version) == ("new", 1)
    before = arc.counts()
    again = arc.save_report(parsed, sha256=sha, url="http://x/001")
    assert (again.status, again.report_id, again.version) == ("unchanged", res.report_id, 1)
    assert arc.counts() == before
    obj = parse_object(arc, arc.report(res.report_id)["current_version_id"])
    assert _strip(obj) == parsed
    assert obj["sha256"] == sha
    assert obj["url"] == "http://x/001"
    assert obj["region"] == {"province": "河南省", "prefecture": "焦作市", "county": None, "code": "410800"}
    rep = arc.report(res.report_id)
    assert (rep["province"], rep["t3_format"], rep["check_status"], rep["versions"]) == (
        "河南省",
        "gov2021",
        "unknown",
        1,
    )
    # headline numbers on the report row (totals by year and province read these)
    cells = parsed["cells"]
    assert (rep["received_new"], rep["outcome_total"], rep["carried_out"]) == (58, 56, 5)
    assert (
        rep["litigation_total"]
        == cells["t4.litigation_direct.total"] + cells["t4.litigation_after_review.total"]
    )


def test_wide_tables_have_printed_rows(arc, make_parsed):
    parsed = make_parsed("002")  # gov2019: 23 table 三 rows
    sha = arc.save_document(b"doc 002")
    arc.save_report(parsed, sha256=sha)
    t3 = arc.conn.execute("SELECT row_key, natural, total FROM t3 ORDER BY row_no").fetchall()
    assert len(t3) == 23
    assert t3[0][0] == "t3.received_new"
    assert t3[0][2] == parsed["cells"]["t3.received_new.total"]
    assert ("t3.outcome.other.sum",) in [(r[0],) for r in t3]
    t4 = arc.conn.execute("SELECT grp, total FROM t4 ORDER BY row_no").fetchall()
    assert [g for g, _ in t4] == ["t4.review", "t4.litigation_direct", "t4.litigation_after_review"]
    long = arc.conn.execute("SELECT count(*) FROM cells_long WHERE is_current = 1").fetchone()[0]
    assert long == len(parsed["cells"])


def test_changed_document_is_a_new_version_with_findable_differences(arc, make_parsed):
    v1 = make_parsed("008")
    sha1 = arc.save_document(b"version one")
    r1 = arc.save_report(v1, sha256=sha1, url="http://x/008")
    v2 = make_parsed("008")
    v2["cells"] = dict(v2["cells"], **{"t3.received_new.natural": v1["cells"]["t3.received_new.natural"] + 7})
    v2["raw"] = dict(v2["raw"], **{"t3.received_new.natural": str(v2["cells"]["t3.received_new.natural"])})
    sha2 = arc.save_document(b"version two (revised)")
    r2 = arc.save_report(v2, sha256=sha2, url="http://x/008")
    assert (r2.status, r2.report_id, r2.version) == ("new_version", r1.report_id, 2)
    rep = arc.report(r1.report_id)
    assert rep["changed_after_publication"] == 1
    assert rep["versions"] == 2
    assert rep["sha256"] == sha2
    changes = arc.conn.execute("SELECT key, old_value, new_value FROM changes").fetchall()
    old = v1["cells"]["t3.received_new.natural"]
    assert changes == [("t3.received_new.natural", old, old + 7)]
    # only the new version is current, everywhere
    assert arc.conn.execute("SELECT count(*) FROM versions WHERE is_current = 1").fetchone()[0] == 1
    assert (
        arc.conn.execute("SELECT count(DISTINCT version_id) FROM t3 WHERE is_current = 1").fetchone()[0] == 1
    )
    assert _strip(parse_object(arc, rep["current_version_id"])) == v2
    # the first version is still there
    first = arc.conn.execute("SELECT id FROM versions WHERE version = 1").fetchone()[0]
    assert _strip(parse_object(arc, first)) == v1
    # saving the old document again does not make it current silently: it is a change back
    r3 = arc.save_report(v2, sha256=sha2, url="http://x/008")
    assert r3.status == "unchanged"


def test_not_a_report_is_kept_as_a_document_with_reason(arc):
    sha = arc.save_document(b"<html>login page</html>", url="http://x/login")
    res = arc.save_report(
        {"ok": False, "status": "not_report", "error": "no annual-report tables or title"}, sha256=sha
    )
    assert res.status == "not_report"
    assert res.report_id is None
    assert res.reason == "no annual-report tables or title"
    row = arc.conn.execute("SELECT parse_status, reason FROM documents WHERE sha256 = ?", (sha,)).fetchone()
    assert row == ("not_report", "no annual-report tables or title")
    assert arc.conn.execute("SELECT count(*) FROM reports").fetchone()[0] == 0


def test_image_only_and_pre2019_are_stored_without_tables(arc, make_parsed):
    sha = arc.save_document(b"scanned")
    parsed = make_parsed("001", status="image_only", cells={}, flags={}, raw={}, paths={}, checks=[])
    res = arc.save_report(parsed, sha256=sha)
    assert res.status == "image_only"
    assert res.change == "new"
    assert res.report_id
    assert arc.report(res.report_id)["parse_status"] == "image_only"
    assert arc.save_report(parsed, sha256=sha).change == "unchanged"


def test_save_report_needs_a_stored_document(arc, make_parsed):
    with pytest.raises(ArchiveError, match="save_document first"):
        arc.save_report(make_parsed("001"), sha256="0" * 64)


def test_bad_parse_object_is_not_half_written(arc, make_parsed):
    sha = arc.save_document(b"doc")
    parsed = make_parsed("001")
    parsed["checks"] = [{"rule": "I1", "scope": "natural", "status": "ok", "lhs": {"bad": 1}, "rhs": 1}]
    with pytest.raises(ArchiveError):
        arc.save_report(parsed, sha256=sha)
    counts = arc.counts()
    assert counts["reports"] == counts["versions"] == counts["cells"] == 0
    # the archive still works afterwards
    assert arc.save_report(make_parsed("001"), sha256=sha).status == "new"


def test_second_writer_gets_a_clear_error(db_path, make_parsed):
    arc = open_archive(db_path, busy_timeout=0.2)
    sha = arc.save_document(b"doc")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ArchiveError, match="another process is writing"):
            arc.save_report(make_parsed("001"), sha256=sha)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert arc.counts()["reports"] == 0
    assert arc.save_report(make_parsed("001"), sha256=sha).status == "new"
    arc.close()


def test_readers_see_whole_reports_while_writing(db_path, make_parsed):
    arc = open_archive(db_path)
    sha = arc.save_document(b"doc")
    reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM cells").fetchone()[0] == 0
    arc.save_report(make_parsed("001"), sha256=sha)  # a WAL writer does not wait for the reader
    assert reader.execute("SELECT count(*) FROM cells").fetchone()[0] == 0  # snapshot
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM cells").fetchone()[0] == 190
    reader.close()
    arc.close()


def test_corrupt_and_truncated_databases_are_clear_errors(tmp_path, make_parsed):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="not an SQLite database"):
        open_archive(junk)
    good = tmp_path / "good.db"
    arc = open_archive(good)
    for i in range(5):
        sha = arc.save_document(f"doc {i}".encode())
        arc.save_report(make_parsed("001", agency=f"机关{i}"), sha256=sha)
    arc.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    arc.close()
    data = good.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="truncated"):
        open_archive(cut)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    with pytest.raises(ArchiveError, match="not an OGI archive"):
        open_archive(other)


def test_newer_schema_is_refused(db_path):
    open_archive(db_path).close()
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(ArchiveError, match="newer"):
        open_archive(db_path)


def test_missing_blob_is_a_clear_error(arc):
    sha = arc.save_document(b"bytes")
    arc.close()
    pack, _offset, _size = open_archive(arc.path).blob_location(sha)
    pack.unlink()
    arc = open_archive(arc.path)
    assert arc.verify_blobs() == [sha]
    with pytest.raises(ArchiveError, match="blob missing"):
        arc.read_document(sha)
    # storing the same bytes again restores the blob (content-addressed, never a different content)
    arc.save_document(b"bytes")
    assert arc.read_document(sha) == b"bytes"
    assert arc.verify_blobs(full=True) == []
    arc.close()


def test_damaged_blob_is_a_clear_error(arc):
    sha = arc.save_document(b"some report bytes")
    pack, offset, _size = arc.blob_location(sha)
    arc.close()
    data = bytearray(pack.read_bytes())
    data[offset] ^= 0xFF
    pack.write_bytes(bytes(data))
    arc = open_archive(arc.path)
    with pytest.raises(ArchiveError, match="damaged"):
        arc.read_document(sha)
    assert arc.verify_blobs(full=True) == [sha]
    arc.close()


def test_blobs_are_append_only_and_deduplicated(arc, tmp_path):
    from archive.blobs import iter_pack, unpack

    sha = arc.save_document(b"original")
    pack, _offset, _size = arc.blob_location(sha)
    arc.blobs.sync()
    before = pack.read_bytes()
    arc.save_document(b"original", url="http://elsewhere")  # same bytes: not stored again
    other = arc.save_document(b"another document")
    arc.blobs.sync()
    after = pack.read_bytes()
    assert after.startswith(before)  # appended, never rewritten
    assert [r[0] for r in iter_pack(pack)] == [sha, other]  # packs are self-describing
    assert unpack(arc.blob_dir, tmp_path / "files") == 2
    assert (tmp_path / "files" / sha).read_bytes() == b"original"


def test_runs_api(arc):
    run = arc.start_run(kind="crawl", trigger="schedule", sources=["a", "b"])
    arc.record_source_result(run, "a", pages=3, reports_found=2, new_reports=1, status="ok")
    arc.record_source_result(run, "b", failures=1, status="failed", detail="blocked")
    arc.record_failure(run, "http://b/1", "http_403", detail="forbidden", source="b")
    arc.finish_run(run, status="suspect", counts={"new_reports": 1}, detail="one source failed")
    runs = arc.runs()
    assert runs[0]["id"] == run
    assert runs[0]["status"] == "suspect"
    assert runs[0]["counts"] == {"new_reports": 1}
    assert runs[0]["sources"] == ["a", "b"]
    hist = arc.source_history("b")
    assert hist[0]["status"] == "failed"
    assert hist[0]["failures"] == 1
    assert hist[0]["run_status"] == "suspect"
    with pytest.raises(ArchiveError):
        arc.finish_run(run, status="weird")
    with pytest.raises(ArchiveError):
        arc.record_source_result(9999, "a")
    sha = arc.save_document(b"x", url="http://a/1", run_id=run, source="a")
    assert arc.conn.execute("SELECT run_id FROM fetches WHERE sha256 = ?", (sha,)).fetchone()[0] == run


def test_region_hint_wins_over_inference(arc, make_parsed):
    sha = arc.save_document(b"doc")
    res = arc.save_report(
        make_parsed("013"), sha256=sha, region_hint={"province": "福建省", "prefecture": "福州市"}
    )
    rep = arc.report(res.report_id)
    assert (rep["province"], rep["prefecture"]) == ("福建省", "福州市")
    assert res.status == "pre2019"


def test_migrations_run_in_order_once(db_path, make_parsed, monkeypatch):
    from archive import schema

    arc = open_archive(db_path)
    sha = arc.save_document(b"doc")
    arc.save_report(make_parsed("001"), sha256=sha)
    arc.close()
    nxt = max(schema.MIGRATIONS) + 1
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        {
            **schema.MIGRATIONS,
            nxt: "ALTER TABLE reports ADD COLUMN note TEXT;\nUPDATE reports SET note = 'migrated';",
        },
    )
    arc = open_archive(db_path)
    assert arc.schema_version == nxt
    assert arc.conn.execute("SELECT note FROM reports").fetchall() == [("migrated",)]
    assert arc.counts()["cells"] == 190  # data kept
    arc.close()
    arc = open_archive(db_path)  # nothing to do the second time
    assert arc.schema_version == nxt
    arc.close()


def test_version_1_archive_migrates_to_parser_version_columns(db_path, make_parsed, monkeypatch):
    from archive import schema

    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", {1: schema.MIGRATIONS[1]})
        arc = open_archive(db_path)
        assert arc.schema_version == 1
        sha = arc.save_document(b"doc")  # a version-1 archive with a document in it
        assert "parser_version" not in [r[1] for r in arc.conn.execute("PRAGMA table_info(versions)")]
        arc.close()
    arc = open_archive(db_path)
    assert arc.schema_version == SCHEMA_VERSION
    cols = [r[1] for r in arc.conn.execute("PRAGMA table_info(versions)")]
    assert cols[-2:] == ["parser_version", "reparse"]
    res = arc.save_report(make_parsed("001"), sha256=sha, parser_version="p1")
    vid = arc.report(res.report_id)["current_version_id"]
    row = arc.conn.execute("SELECT parser_version, reparse FROM versions WHERE id = ?", (vid,)).fetchone()
    assert row == ("p1", 0)
    arc.close()


def test_failed_migration_leaves_the_database_as_it_was(db_path, monkeypatch):
    from archive import schema

    open_archive(db_path).close()
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        {
            **schema.MIGRATIONS,
            max(schema.MIGRATIONS) + 1: "ALTER TABLE reports ADD COLUMN x TEXT;\nSELECT * FROM nope;",
        },
    )
    with pytest.raises(ArchiveError):
        open_archive(db_path)
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "x" not in [r[1] for r in con.execute("PRAGMA table_info(reports)")]
    con.close()
