"""A full disk loses nothing that was reported stored and leaves an archive every command opens (issue 12).

Each scenario runs in a private mount namespace (``unshare -m``) with the archive on a small tmpfs
(``mount -t tmpfs -o size=…``) that a filler file makes fuller; the namespace's driver is this file run as a
script (``python test_disk_full.py <scenario> …``), which runs the ``ogi`` commands, frees space by deleting the
filler, runs every command again and writes what it saw as JSON outside the tmpfs. Skipped, with the
platform's own words, where unprivileged namespaces or tmpfs mounts are refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STORED = ("new", "new_version", "unchanged", "pre2019")  # `ogi import` statuses of a report it keeps
FJ_REPORTS = 22  # reports a clean crawl of the sample fj portal archives (tests/crawler/test_hostmap_https.py)

pytestmark = pytest.mark.slow


def _ogi(*args: str, timeout: float = 120) -> dict[str, Any]:
    """Run ``python -m ogi …``; return its exit status and output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "ogi", *args], capture_output=True, text=True, timeout=timeout,
                         env=env, cwd=ROOT)
    return {"rc": res.returncode, "out": res.stdout, "err": res.stderr}


def _fill(mnt: Path, kb: int) -> Path:
    filler = mnt / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * (kb * 1024))
    return filler


def _after_freeing(db: Path, filler: Path) -> dict[str, Any]:
    filler.unlink()
    return {"status": _ogi("status", "--db", str(db)), "export": _ogi("export", "--db", str(db)),
            "sources": _ogi("sources", "--db", str(db))}


def _archive_rows(db: Path) -> dict[str, Any]:
    con = sqlite3.connect(db)
    try:
        return {"reports": con.execute("SELECT count(*) FROM reports").fetchone()[0],
                "agencies": [r[0] for r in con.execute("SELECT agency FROM reports ORDER BY agency")],
                "runs": [list(r) for r in con.execute("SELECT id, status, counts FROM runs ORDER BY id")],
                "integrity": con.execute("PRAGMA integrity_check").fetchone()[0]}
    finally:
        con.close()


def scenario_import(mnt: Path, reports: Path, out: Path, filler_kb: int) -> None:
    """In the namespace: import every report file until the disk is full, free space, use every command."""
    db = mnt / "ogi.db"
    filler = _fill(mnt, filler_kb)
    files = sorted(str(p) for p in reports.glob("*.html"))
    first = _ogi("import", "--json", "--db", str(db), *files)
    seen = {"import": first, "df_full": shutil.disk_usage(mnt).free}
    seen.update(_after_freeing(db, filler))
    seen["rows"] = _archive_rows(db)
    printed = {json.loads(line)["file"] for line in first["out"].splitlines() if line.startswith("{")}
    rest = [f for f in files if f not in printed][:5] or files[-5:]
    seen["again_files"] = rest
    seen["again"] = _ogi("import", "--json", "--db", str(db), *rest)
    seen["rows_again"] = _archive_rows(db)
    out.write_text(json.dumps(seen, ensure_ascii=False), encoding="utf-8")


def scenario_crawl(mnt: Path, port: str, url: str, out: Path, filler_kb: int) -> None:
    """In the namespace: crawl the sample portal until the disk is full, free space, use every command."""
    db = mnt / "ogi.db"
    filler = _fill(mnt, filler_kb)
    crawl = ("crawl", "--db", str(db), "--allow-private", "--host-map", f"fixture.test=127.0.0.1:{port}", "--fast",
             "--download-timeout", "1.5", "--quiet", "--url", url, "-s", "OGI_COMMIT_ITEMS=5")
    seen: dict[str, Any] = {"crawl": _ogi(*crawl)}
    seen.update(_after_freeing(db, filler))
    seen["rows"] = _archive_rows(db) if db.exists() else None
    seen["again"] = _ogi(*crawl)
    seen["rows_again"] = _archive_rows(db)
    out.write_text(json.dumps(seen, ensure_ascii=False), encoding="utf-8")


def _in_namespace(tmp: Path, size: str, *args: str) -> dict[str, Any]:
    """Run this file's scenario ``args`` with a fresh ``size`` tmpfs at ``tmp/mnt`` in a private mount
    namespace; return what the scenario wrote."""
    mnt = tmp / "mnt"
    mnt.mkdir()
    out = tmp / "seen.json"
    cmd = ["unshare", "-m", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs "$0" && exec "$@"', str(mnt),
           sys.executable, __file__, *args, str(mnt), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory) -> None:
    """Skip (with the platform's reason) unless a private mount namespace with a tmpfs can be made here."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = tmp_path_factory.mktemp("probe")
    res = subprocess.run(["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0"', str(probe)],
                         capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"no private tmpfs mount here: {res.stderr.strip() or f'exit {res.returncode}'}")


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err[-3000:]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, err[-3000:]
    return errors[0]


def test_import_until_the_disk_is_full(namespaces, tmp_path):
    from ogi.demo.portal import Portal

    portal = Portal()
    reports = tmp_path / "reports"
    reports.mkdir()
    for i in range(150):  # 150 distinct reports: three batches of 50, ~60 KB each stored; ~5 MB free
        body, _year = portal.report_bytes(f"测试第{i:03d}局", fixture=i)
        (reports / f"r{i:03d}.html").write_bytes(body)
    seen = _in_namespace(tmp_path, "10m", "import", str(reports), "5120")

    first = seen["import"]
    assert first["rc"] == 2, first
    line = _one_error_line(first["err"])
    assert re.search(r"disk is full|No space left|ENOSPC", line), line
    printed = [json.loads(x) for x in first["out"].splitlines()]
    stored = [p for p in printed if p["status"] in STORED]
    not_stored = [p for p in printed if p["status"] not in STORED]
    assert stored and not_stored, [p["status"] for p in printed]  # some batches committed, one did not
    assert all("not stored" in p["reason"] for p in not_stored)

    # every report printed as stored is in the archive (its own rows and `ogi export`), nothing else is
    export = seen["export"]
    assert export["rc"] == 0, export["err"][-2000:]
    exported = [json.loads(x) for x in export["out"].splitlines()]
    agency = {p["file"]: f"测试第{Path(p['file']).stem[1:]}局" for p in printed}
    assert sorted(e["agency"] for e in exported) == sorted(agency[p["file"]] for p in stored)
    assert seen["rows"]["agencies"] == sorted(agency[p["file"]] for p in stored)
    assert seen["rows"]["integrity"] == "ok"

    # after freeing space every command opens the archive
    for name in ("status", "sources"):
        assert seen[name]["rc"] == 0, (name, seen[name]["err"][-2000:])
        assert "Traceback" not in seen[name]["err"]
    assert f"reports {len(stored)}," in seen["status"]["out"]
    again = seen["again"]
    assert again["rc"] == 0, again["err"][-2000:]
    statuses = [json.loads(x)["status"] for x in again["out"].splitlines()]
    assert statuses == ["new"] * len(seen["again_files"])
    assert seen["rows_again"]["reports"] == len(stored) + len(seen["again_files"])


@pytest.fixture(scope="module")
def fj_server():
    from ogi.demo.portal import Portal, PortalServer

    server = PortalServer(Portal(slow_seconds=3.0)).start()
    yield server
    server.stop()


# free space left on a 5 MB tmpfs: 1.9, 1.5, 1.1 MB (a clean crawl stores ~1.8 MB plus its WAL): the disk fills
# after some reports, after one, before any
@pytest.mark.parametrize("filler_kb", [3200, 3600, 4000])
def test_crawl_until_the_disk_is_full(namespaces, fj_server, tmp_path, filler_kb):
    from ogi.demo.portal import FJ_URL

    seen = _in_namespace(tmp_path, "5m", "crawl", str(fj_server.port), FJ_URL, str(filler_kb))
    crawl = seen["crawl"]
    assert "Traceback" not in crawl["err"], crawl["err"][-3000:]
    run = re.search(r"^run \d+: (\w+)", crawl["out"], re.M)
    assert run, crawl["out"]
    assert run.group(1) != "ok", crawl["out"]
    assert crawl["rc"] != 0
    said = re.search(r"reports (\d+) \(new (\d+)", crawl["out"])
    assert said, crawl["out"]
    rows = seen["rows"]
    assert rows is not None and rows["integrity"] == "ok"
    # what the crawl says it stored is exactly what the archive holds: nothing reported that was not stored
    assert int(said.group(1)) == int(said.group(2)) == rows["reports"], (crawl["out"], rows["reports"])
    assert rows["reports"] < FJ_REPORTS  # the disk really filled before the end
    assert all(status != "ok" for _id, status, _counts in rows["runs"]), rows["runs"]

    for name in ("status", "export", "sources"):
        assert seen[name]["rc"] == 0, (name, seen[name]["err"][-2000:])
        assert "Traceback" not in seen[name]["err"]
    assert len(seen["export"]["out"].splitlines()) == rows["reports"]
    # with space again, the next crawl opens the archive and archives every report
    again = seen["again"]
    assert again["rc"] == 0, again["err"][-3000:]
    assert re.search(r"^run \d+: ok", again["out"], re.M), again["out"]
    assert seen["rows_again"]["reports"] == FJ_REPORTS


if __name__ == "__main__":  # the driver, inside the namespace (see _in_namespace)
    scenario, *rest = sys.argv[1:]
    if scenario == "import":
        reports_dir, kb, mnt_dir, out_file = rest
        scenario_import(Path(mnt_dir), Path(reports_dir), Path(out_file), int(kb))
    else:
        port, url, kb, mnt_dir, out_file = rest
        scenario_crawl(Path(mnt_dir), port, url, Path(out_file), int(kb))
