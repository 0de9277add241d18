"""Read commands on a read-only copy: they work on a read-only mount, create no file beside the archive
(no -wal/-shm), change no byte, see what a writer has committed to the WAL, and refuse to write."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import ArchiveError, open_archive
from ogi.cli import cli
from tests.conftest import REAL

# the served archive answers on a read-only mount (Datasette opens it immutable there)
SERVE = ("import asyncio; from archive.serve import make_datasette; ds = make_datasette('{db}'); "
         "r = asyncio.run(ds.client.get('/ogi/reports.json?_shape=array')); "
         "assert r.status_code == 200 and len(r.json()) == 2, r.status_code")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    db = tmp_path / "ro" / "ogi.db"
    db.parent.mkdir()
    res = CliRunner().invoke(cli, ["import", str(REAL / "001.txt"), str(REAL / "002.html"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert not db.with_name("ogi.db-wal").exists()  # closed cleanly: checkpointed, no WAL left
    return db


def test_read_commands_create_and_change_nothing(archive: Path, tmp_path: Path) -> None:
    before = _digest(archive.parent)
    for args in (["export", "--db", str(archive)], ["export", "--db", str(archive), "--format", "csv"],
                 ["sources", "--db", str(archive)], ["status", "--db", str(archive)]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, (args, res.output)
    assert _digest(archive.parent) == before  # same files, same bytes: no -wal, -shm, jobs store …


def test_readonly_open_refuses_writes_and_old_schemas(archive: Path) -> None:
    arc = open_archive(archive, readonly=True)
    try:
        assert arc.immutable
        with pytest.raises(ArchiveError, match="read-only"):
            arc.save_document(b"x", url="http://x.test/")
    finally:
        arc.close()
    import sqlite3

    con = sqlite3.connect(archive)
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    with pytest.raises(ArchiveError, match="older than this program"):
        open_archive(archive, readonly=True)


def test_readonly_open_sees_a_writers_commits(archive: Path) -> None:
    writer = open_archive(archive)  # a crawl at work: the -wal file exists
    try:
        writer.save_document(b"%PDF-1.4 new", url="http://x.test/new.pdf")
        reader = open_archive(archive, readonly=True)
        try:
            assert not reader.immutable  # mode=ro, so the WAL's pages are read
            assert reader.counts()["documents"] == writer.counts()["documents"]
        finally:
            reader.close()
    finally:
        writer.close()


def test_read_commands_on_a_read_only_mount(archive: Path, tmp_path: Path) -> None:
    """A real read-only file system (a bind mount remounted ro, in a private mount namespace)."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) for a private read-only bind mount")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    ogi = Path(sys.executable).with_name("ogi")
    out = tmp_path / "cells.csv"
    script = (f"mount --bind {archive.parent} {mnt} && mount -o remount,ro,bind {mnt} && "
              f"! touch {mnt}/probe 2>/dev/null && "
              f"{ogi} export --db {mnt}/ogi.db --format csv -o {out} && "
              f"{ogi} sources --db {mnt}/ogi.db > /dev/null && "
              f"{ogi} status --db {mnt}/ogi.db > /dev/null && "
              f"{sys.executable} -c \"{SERVE.format(db=mnt / 'ogi.db')}\"")
    proc = subprocess.run([unshare, "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "mount" in proc.stderr and "permission" in proc.stderr.lower():
        pytest.skip(f"mount not permitted here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) > 100
