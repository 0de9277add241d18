"""`ogi gc`: orphan blob records removed through the command line (dry run first)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from click.testing import CliRunner

from archive import open_archive
from archive.blobs import PackStore
from ogi.cli import cli


def _pack_of_dead_writer(arc, data: bytes) -> None:
    """A pack left by a writer that died before committing: its one blob is referenced by no row."""
    store = PackStore(arc.blob_dir)
    store.put(hashlib.sha256(data).hexdigest(), data)
    name = store._name
    store.close()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (arc.blob_dir / name).rename(arc.blob_dir / name.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))


def _run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_ogi_gc_command(tmp_path):
    db = tmp_path / "ogi.db"
    arc = open_archive(db)
    arc.save_document(b"x")
    _pack_of_dead_writer(arc, b"orphan")
    arc.close()
    out = json.loads(_run("gc", "--db", str(db), "--dry-run", "--json"))
    assert out["dry_run"] is True and out["orphan_records"] == 1 and len(out["packs_deleted"]) == 1
    assert "removed 1 orphan records" in _run("gc", "--db", str(db))
    assert "removed 0 orphan records" in _run("gc", "--db", str(db))
    assert len(list((tmp_path / "ogi.db.blobs").glob("*.pack"))) == 1


