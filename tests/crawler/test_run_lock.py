"""Never two crawls of one run: a crawl of an existing run holds its lock, a second one is refused in one line.

Before crawler/runlock.py, `ogi crawl --run-id N` twice at once crawled the run twice side by side (issue 12:
failure rows duplicated, counts wrong); a kill -9 of the holder must not leave the run blocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive import open_archive
from crawler.runlock import RunBusy, RunLock, run_lock_file
from ogi.demo.portal import HUB_URL, Portal, PortalServer

from .conftest import ROOT, query, run_ogi
from .test_crawl import crawl_args


def test_a_held_run_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    db = tmp_path / "ogi.db"
    with RunLock(db, 7):
        with pytest.raises(RunBusy, match=rf"run 7 is already being crawled \(pid {os.getpid()}\)"):
            RunLock(db, 7).acquire()
        RunLock(db, 8).acquire()  # another run is another lock
    with RunLock(db, 7):  # released on exit
        pass


def test_a_killed_holder_leaves_the_run_free(tmp_path: Path) -> None:
    db = tmp_path / "ogi.db"
    code = ("import sys, time; from crawler.runlock import RunLock; "
            f"RunLock({str(db)!r}, 3).acquire(); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(RunBusy, match=f"pid {proc.pid}"):
            RunLock(db, 3).acquire()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with RunLock(db, 3):  # the kernel dropped the dead process's lock; the stale file does not block
            assert run_lock_file(db, 3).exists()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_a_second_crawl_of_a_running_run_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "ogi.db"
    arc = open_archive(db)
    run_id = arc.start_run(kind="crawl", trigger="test", sources=None)
    arc.close()
    server = PortalServer(Portal(slow_seconds=3.0)).start()
    try:
        args = crawl_args(server, db, "--url", HUB_URL, "--run-id", str(run_id))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        first = subprocess.Popen([sys.executable, "-m", "ogi.commands.crawl", *args], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not run_lock_file(db, run_id).exists() or not run_lock_file(db, run_id).read_text().strip():
            assert time.monotonic() < deadline and first.poll() is None, "the first crawl never took the lock"
            time.sleep(0.05)
        second = run_ogi(*args)
        _out, err = first.communicate(timeout=180)
    finally:
        server.stop()
    assert second.returncode == 1, second.stderr[-2000:]
    assert f"run {run_id} is already being crawled (pid {first.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err[-3000:]
    assert query(db, "SELECT count(*) FROM runs") == [(1,)]
    dupes = query(db, "SELECT url, reason, count(*) FROM failures GROUP BY url, reason HAVING count(*) > 1")
    assert dupes == []
