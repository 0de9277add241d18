"""Issue 12: atomic creation, WAL-aware header check, no version churn on re-import, OS errors as one clear
line, gc of orphan blobs and abandoned WARC logs, integrity for `ogi status --check`."""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import ArchiveError, open_archive
from archive.blobs import PackStore, iter_pack
from archive.store import seed_keys, seed_row_labels
from ogi.cli import cli

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "fixtures" / "real"


def _counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(db)
    try:
        return (con.execute("SELECT count(*) FROM keys").fetchone()[0],
                con.execute("SELECT count(*) FROM row_labels").fetchone()[0])  # fmt: skip
    finally:
        con.close()


# --- creation ----------------------------------------------------------------------------------------------

RACER = """
import sys, time
sys.path.insert(0, sys.argv[3])
from archive import open_archive
start = float(sys.argv[2])
while time.time() < start:
    pass
arc = open_archive(sys.argv[1])
arc.start_run(kind="crawl", trigger=sys.argv[4])
arc.close()
print("ok")
"""


@pytest.mark.parametrize("attempt", range(3))
def test_two_processes_creating_one_new_archive(tmp_path, attempt):
    db = tmp_path / "race.db"
    start = time.time() + 1.0
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(db), str(start), str(ROOT), f"p{i}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0 and out.strip() == "ok", err
    arc = open_archive(db)
    assert sorted(r["trigger"] for r in arc.runs()) == ["p0", "p1"]
    seeded = _counts(db)
    arc.close()
    fresh = tmp_path / "fresh.db"
    open_archive(fresh).close()
    assert seeded == _counts(fresh) == (len(seed_keys()), len(seed_row_labels()))  # seeded exactly once


def test_a_creation_killed_before_seeding_leaves_nothing_half_done(db_path, monkeypatch):
    from archive import store

    def killed() -> list[str]:
        raise KeyboardInterrupt  # what a kill between creation and seeding was

    monkeypatch.setattr(store, "seed_keys", killed)
    with pytest.raises(KeyboardInterrupt):
        open_archive(db_path)
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
    con.close()
    monkeypatch.undo()
    arc = open_archive(db_path)  # created now, as if nothing had happened
    assert arc.schema_version == 3 and _counts(db_path)[0] == len(seed_keys())
    arc.close()


def test_an_archive_left_unseeded_by_an_old_creation_is_seeded(db_path):
    open_archive(db_path).close()
    full = _counts(db_path)
    con = sqlite3.connect(db_path)
    con.executescript("DELETE FROM keys; DELETE FROM row_labels;")
    con.close()
    open_archive(db_path).close()
    assert _counts(db_path) == full


# --- the header check and WAL -------------------------------------------------------------------------


def _wal_copy(src_db: Path, dst_db: Path) -> None:
    """Copy a database whose newest pages are only in its WAL (the writer still has it open)."""
    shutil.copy(src_db, dst_db)
    shutil.copy(src_db.with_name(src_db.name + "-wal"), dst_db.with_name(dst_db.name + "-wal"))


def test_main_file_shorter_than_its_header_with_pages_in_the_wal_opens(tmp_path, make_parsed):
    src = tmp_path / "src.db"
    arc = open_archive(src)
    arc.conn.execute("PRAGMA wal_autocheckpoint = 0")
    sha = arc.save_document(b"doc")
    arc.save_report(make_parsed("001"), sha256=sha)
    arc.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for i in range(30):  # more pages, in the WAL only
        s = arc.save_document(f"doc {i}".encode())
        arc.save_report(make_parsed("001", agency=f"机关{i}"), sha256=s)
    before = arc.counts()
    dst = tmp_path / "copy.db"
    _wal_copy(src, dst)
    arc.close()
    # a checkpoint that wrote page 1 (the header's new page count) but not yet the pages after it
    con = sqlite3.connect(":memory:")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with dst.open("r+b") as fh:
        head = bytearray(fh.read(100))
        pages = int.from_bytes(head[28:32], "big")
        head[28:32] = (pages + 200).to_bytes(4, "big")
        fh.seek(0)
        fh.write(head)
    assert dst.stat().st_size < (pages + 200) * page_size
    copy = open_archive(dst)
    assert copy.counts() == before
    copy.close()


def test_a_truncated_file_without_wal_pages_is_still_refused(tmp_path, make_parsed):
    db = tmp_path / "t.db"
    arc = open_archive(db)
    for i in range(20):
        s = arc.save_document(f"d{i}".encode())
        arc.save_report(make_parsed("001", agency=f"机关{i}"), sha256=s)
    arc.close()
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises(ArchiveError, match="truncated"):
        open_archive(db)


# --- re-importing the same content --------------------------------------------------------------------


def _run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_the_same_report_in_three_files_imported_again_and_again(tmp_path):
    raw = (REAL / "001.txt").read_bytes()
    files = {"lf.txt": raw, "crlf.txt": raw.replace(b"\n", b"\r\n"), "bom.txt": b"\xef\xbb\xbf" + raw}
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    db = tmp_path / "r.db"
    seen = []
    for _ in range(3):
        seen += [json.loads(line)["status"] for line in _run("import", *paths, "--db", str(db), "--json").splitlines()]
        seen += [json.loads(line)["status"] for line in _run("import", *reversed(paths), "--db", str(db),
                                                               "--json").splitlines()]  # fmt: skip
    assert seen[0] == "new" and set(seen[1:]) == {"unchanged"}
    con = sqlite3.connect(db)
    assert con.execute("SELECT versions, changed_after_publication FROM reports").fetchall() == [(1, 0)]
    assert con.execute("SELECT count(*) FROM versions").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM documents").fetchone() == (3,)  # every file is kept, with provenance
    assert con.execute("SELECT count(DISTINCT parse_status) FROM documents").fetchone() == (1,)
    con.close()


def test_an_older_version_imported_again_is_not_a_new_version(arc, make_parsed):
    p1 = make_parsed("001")
    p2 = {**p1, "text": "全文（本报告于发布后更正）"}
    a, b = arc.save_document(b"first"), arc.save_document(b"second")
    assert arc.save_report(p1, sha256=a).status == "new"
    assert arc.save_report(p2, sha256=b).status == "new_version"
    for _ in range(3):
        res_a, res_b = arc.save_report(p1, sha256=a), arc.save_report(p2, sha256=b)
        assert (res_a.status, res_a.version, res_b.status, res_b.version) == ("unchanged", 1, "unchanged", 2)
    rep = arc.report(res_a.report_id)
    assert (rep["versions"], rep["sha256"]) == (2, b)


# --- OS errors ------------------------------------------------------------------------------------------


def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device", "/data/ogi.db.blobs/x.pack")


def test_disk_full_writing_a_blob_is_one_clear_error(arc, monkeypatch):
    before = arc.counts()
    monkeypatch.setattr(PackStore, "put", _enospc)
    with pytest.raises(ArchiveError) as info:
        arc.save_document(b"new bytes")
    msg = str(info.value)
    assert "No space left on device" in msg and "ENOSPC" in msg and "\n" not in msg
    assert not isinstance(info.value, OSError)
    monkeypatch.undo()
    assert arc.counts() == before
    assert arc.read_document(arc.save_document(b"new bytes")) == b"new bytes"  # fine once there is space


def test_disk_full_syncing_before_commit_is_one_clear_error(arc, monkeypatch):
    monkeypatch.setattr(PackStore, "sync", _enospc)
    with pytest.raises(ArchiveError, match="No space left on device"):
        arc.save_document(b"more bytes")
    monkeypatch.undo()
    assert arc.counts()["documents"] == 0


def test_disk_full_inside_a_batch_and_in_sqlite_is_one_clear_error(arc, monkeypatch):
    rid = arc.start_run()
    monkeypatch.setattr(PackStore, "put", _enospc)
    with pytest.raises(ArchiveError, match="ENOSPC"), arc.batch():
        arc.save_document(b"x")
    monkeypatch.undo()
    arc.conn.execute(f"PRAGMA max_page_count = {arc.conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(ArchiveError, match="cannot write") as info:
        arc.record_link_decisions(rid, "s", [{"url": f"http://x.test/{'y' * 3000}{i}", "reason": "r"}
                                             for i in range(200)])  # fmt: skip
    assert "\n" not in str(info.value)


def test_disk_full_closing_is_one_clear_error(db_path, monkeypatch):
    arc = open_archive(db_path)
    arc.save_document(b"x")
    monkeypatch.setattr(PackStore, "close", _enospc)
    with pytest.raises(ArchiveError, match="ENOSPC"):
        arc.close()


# --- gc ---------------------------------------------------------------------------------------------------


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _pack_of_dead_writer(arc, records: dict[str, bytes]) -> Path:
    """A pack written by a process that died, holding these blobs (none referenced yet)."""
    store = PackStore(arc.blob_dir)
    for data in records.values():
        import hashlib

        store.put(hashlib.sha256(data).hexdigest(), data)
    name = store._name
    store.close()
    dead = arc.blob_dir / name.replace(f"-{os.getpid()}-", f"-{_dead_pid()}-")
    (arc.blob_dir / name).rename(dead)
    return dead


def test_gc_deletes_a_wholly_orphan_pack_and_compacts_a_mixed_one(db_path):
    arc = open_archive(db_path)
    keep = arc.save_document(b"kept document")
    arc.close()
    arc = open_archive(db_path)
    orphan_pack = _pack_of_dead_writer(arc, {"a": b"rolled back 1", "b": b"rolled back 2"})
    (mixed,) = [p for p in arc.blob_dir.glob("*.pack") if p != orphan_pack]
    with mixed.open("ab") as fh:  # a blob appended by a transaction that was then rolled back
        fh.write(b"OGIB\0\0\0\0" + b"\x11" * 32 + (5).to_bytes(8, "big") + b"lost!")
    assert arc.integrity()["orphan_records"] == 3

    dry = arc.gc(dry_run=True)
    assert (dry.orphan_records, dry.packs_deleted, dry.packs_compacted) == (3, [orphan_pack.name], [mixed.name])
    assert orphan_pack.exists() and mixed.exists()

    res = arc.gc()
    assert res.orphan_records == 3 and res.bytes_freed == 2 * 48 + 26 + 48 + 5
    assert not orphan_pack.exists() and not mixed.exists()
    assert arc.read_document(keep) == b"kept document"
    assert arc.integrity()["ok"] and arc.integrity()["orphan_records"] == 0
    arc.close()
    arc = open_archive(db_path)
    assert arc.read_document(keep) == b"kept document"
    assert arc.gc().orphan_records == 0
    arc.close()


def test_gc_leaves_the_pack_of_a_live_writer_and_an_unverified_pack(db_path):
    writer = open_archive(db_path)
    writer.save_document(b"committed")
    (pack,) = writer.blob_dir.glob("*.pack")
    writer.blobs.put("ab" * 32, b"appended, its transaction not committed yet")
    writer.blobs.sync()
    other = open_archive(db_path)
    res = other.gc()  # the writer's pack is open in this process: left alone, with its uncommitted record
    assert res.orphan_records == 0 and res.packs_skipped == {pack.name: "open for writing in this process"}
    assert len(iter_pack(pack)) == 2
    writer.close()
    # a row pointing at a record the pack does not have: the pack is not touched
    other.conn.execute("UPDATE documents SET pack_offset = pack_offset + 1")
    live = pack.with_name(pack.name.replace(f"-{os.getpid()}-", "-1-"))  # pid 1 is always alive
    shutil.copy(pack, live)
    res = other.gc()
    assert "point at no record" in res.packs_skipped[pack.name]
    assert "pid 1" in res.packs_skipped[live.name]
    assert pack.exists() and live.exists() and len(iter_pack(pack)) == 2
    live.unlink()
    other.conn.execute("UPDATE documents SET pack_offset = pack_offset - 1")
    res = other.gc()  # now verified: the uncommitted record of the closed writer is an orphan
    assert res.orphan_records == 1 and res.packs_compacted == [pack.name]
    assert other.read_document(other.conn.execute("SELECT sha256 FROM documents").fetchone()[0]) == b"committed"
    other.close()


def test_gc_closes_abandoned_warc_logs(tmp_path):
    db = tmp_path / "ogi.db"
    arc = open_archive(db)
    done, running = arc.start_run(), arc.start_run()
    arc.finish_run(done, status="interrupted")
    warc = tmp_path / "warc"
    warc.mkdir()
    good = gzip.compress(b"WARC/1.0\r\n\r\nrecord one\r\n\r\n") + gzip.compress(b"WARC/1.0\r\n\r\nrecord two\r\n\r\n")
    torn = gzip.compress(b"WARC/1.0\r\n\r\nrecord three, cut by a kill" * 50)[:-40]
    abandoned = warc / f"ogi-run{done}-20261201T101010.warc.gz.open"
    abandoned.write_bytes(good + torn)
    live = warc / f"ogi-run{running}-20261201T101011.warc.gz.open"
    live.write_bytes(good)
    assert arc.gc(warc_min_age=3600).warc_closed == []  # too fresh
    res = arc.gc(warc_min_age=0)
    assert res.warc_closed == [f"ogi-run{done}-20261201T101010.warc.gz"]
    assert res.warc_truncated_bytes == len(torn)
    closed = warc / res.warc_closed[0]
    assert not abandoned.exists() and closed.read_bytes() == good
    assert gzip.decompress(closed.read_bytes()).count(b"WARC/1.0") == 2
    assert live.exists()  # its run is still running
    arc.close()


# --- integrity ----------------------------------------------------------------------------------------


def test_integrity_reports_missing_and_damaged_blobs(arc):
    sha = arc.save_document(b"some bytes")
    assert arc.integrity() == {"ok": True, "sqlite": ["ok"], "foreign_keys": [], "missing_blobs": [],
                               "orphan_records": 0, "problems": []}  # fmt: skip
    pack, offset, _ = arc.blob_location(sha)
    with pack.open("r+b") as fh:
        fh.seek(offset)
        fh.write(b"X")
    assert arc.integrity()["ok"]  # the cheap check sees the bytes are there
    full = arc.integrity(full=True)
    assert not full["ok"] and full["missing_blobs"] == [sha] and sha in full["problems"][0]
    assert [r[0] for r in iter_pack(pack)] == [sha]
