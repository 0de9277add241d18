"""Datasette exposure (issue 12 item 8): value-size and heap caps, a SQL time limit and row cap, debug pages
off unless asked for, whole-database download only when asked for."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from archive.serve import make_datasette

from .conftest import datasette_process


@pytest.fixture
def served_db(db_path, arc, make_parsed):
    for name in ("001", "007"):
        sha = arc.save_document(name.encode(), url=f"http://x/{name}")
        arc.save_report(make_parsed(name), sha256=sha, url=f"http://x/{name}")
    return db_path


def get(ds, path: str):
    return asyncio.run(ds.client.get(path))


def test_one_value_cannot_be_a_gigabyte(served_db):
    ds = make_datasette(served_db)
    for sql in ("select length(randomblob(1000000000))", "select length(zeroblob(500000000))",
                "select length(replace(hex(zeroblob(10000000)), '0', '00'))"):
        t0 = time.monotonic()
        r = get(ds, "/ogi.json?sql=" + urllib.request.quote(sql))
        assert r.status_code == 400, sql
        assert "too big" in json.loads(r.text)["error"]
        assert time.monotonic() - t0 < 2
    r = get(ds, "/ogi.json?_shape=array&sql=" + urllib.request.quote("select length(randomblob(1000000)) as n"))
    assert json.loads(r.text) == [{"n": 1000000}]  # ordinary sizes still work


def test_time_limit_and_row_cap(served_db):
    ds = make_datasette(served_db)
    settings = json.loads(get(ds, "/-/settings.json").text)
    assert settings["sql_time_limit_ms"] <= 2000 and settings["max_returned_rows"] <= 1000
    slow = ("with recursive c(x) as (select 1 union all select x + 1 from c) "
            "select count(*) from c where x < 10000000000")
    t0 = time.monotonic()
    r = get(ds, "/ogi.json?sql=" + urllib.request.quote(slow))
    elapsed = time.monotonic() - t0
    assert r.status_code == 400 and elapsed < 5, elapsed
    many = "with recursive c(x) as (select 1 union all select x + 1 from c limit 5000) select x from c"
    data = json.loads(get(ds, "/ogi.json?sql=" + urllib.request.quote(many)).text)
    assert len(data["rows"]) == 1000 and data["truncated"] is True


def test_debug_pages_off_unless_asked(served_db):
    ds = make_datasette(served_db)
    for path in ("/-/databases", "/-/databases.json", "/-/threads", "/-/threads.json", "/-/actor.json",
                 "/-/permissions", "/-/allow-debug", "/-/messages"):
        r = get(ds, path)
        assert r.status_code == 404, path
        assert str(served_db.parent) not in r.text
    assert get(ds, "/-/versions.json").status_code == 200
    assert str(served_db.parent) not in get(ds, "/ogi").text
    debug = make_datasette(served_db, debug_pages=True)
    r = get(debug, "/-/databases.json")
    assert r.status_code == 200 and str(served_db) in r.text


def test_whole_database_download_is_an_option(served_db, tmp_path):
    assert get(make_datasette(served_db), "/-/ogi/ogi/download").status_code == 404
    ds = make_datasette(served_db, allow_download=True)
    r = get(ds, "/-/ogi/ogi/download")
    assert r.status_code == 200
    assert r.content[:16] == b"SQLite format 3\x00"
    assert 'filename="ogi.db"' in r.headers["content-disposition"]
    copy = tmp_path / "copy.db"
    copy.write_bytes(r.content)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("select count(*) from reports").fetchone()[0] == 2
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_randomblob_does_not_allocate_a_gigabyte_in_plain_datasette(served_db):
    """Measured: the peak RSS of a plain `datasette DB` process before and after one randomblob(1e9) GET."""
    with datasette_process(served_db) as (proc, base):
        urllib.request.urlopen(base + "/ogi/reports", timeout=10).close()
        before = _hwm_kb(proc.pid)
        url = base + "/ogi.json?sql=" + urllib.request.quote("select length(randomblob(1000000000))")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=20)
        assert err.value.code == 400
        after = _hwm_kb(proc.pid)
        os.environ.get("OGI_MEASURE") and print(f"VmHWM before {before} kB after {after} kB")
        assert after - before < 50_000, (before, after)  # < 50 MB more, not ~1 GB


def test_every_connection_gets_the_caps():
    """The prepare_connection hook on a bare connection: the length limit and the process heap limit."""
    from archive import datasette_plugin

    class FakeDatasette:
        def __init__(self, conf):
            self.conf = conf

        def plugin_config(self, name):
            return self.conf if name == datasette_plugin.PLUGIN else None

    conn = sqlite3.connect(":memory:")
    try:
        datasette_plugin.prepare_connection(conn, "x", FakeDatasette({}))
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) == 16 << 20
        datasette_plugin.prepare_connection(conn, "x", FakeDatasette({"max_length_mb": 4}))
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) == 4 << 20
    finally:
        conn.close()


def test_ogi_serve_process_has_a_heap_limit(served_db):
    """`ogi serve`'s process limits SQLite's heap (process-wide, so measured in a child process)."""
    code = (
        "import sqlite3, sys\n"
        "from archive.serve import make_datasette, SERVE_HEAP_LIMIT_MB\n"
        "from archive import datasette_plugin\n"
        "ds = make_datasette(sys.argv[1], heap_limit_mb=SERVE_HEAP_LIMIT_MB)\n"
        "conn = sqlite3.connect(':memory:')\n"
        "datasette_plugin.prepare_connection(conn, 'ogi', ds)\n"
        "print(conn.execute('PRAGMA hard_heap_limit').fetchone()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(served_db)], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-1000:]
    assert int(out.stdout.split()[-1]) == 512 << 20
    assert make_datasette(served_db).plugin_config("ogi-archive")["heap_limit_mb"] == 0  # in-process: none
