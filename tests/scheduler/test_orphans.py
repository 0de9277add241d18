"""A crawl that outlives its runner (kill -9 of the service or of `ogi run-now`) is ended or adopted, never duplicated;
a resumed run counts each attempt's work once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import scheduler
from archive import open_archive
from ogi.commands.schedule import run_now
from ogi.service.config import load_config, replace_config
from ogi.service.procs import alive, group_alive

from .conftest import start_service, stop_service
from .test_commands import _config_file
from .test_service import Recorder, set_next_run, wait_for, write_config

ROOT = Path(scheduler.__file__).resolve().parent


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def archive_runs(db: str) -> list[dict]:
    arc = open_archive(db)
    try:
        return arc.runs()
    finally:
        arc.close()


def crawl_pid(db: str, run_id: int = 1) -> int | None:
    row = scheduler.StateStore(scheduler.jobs_path(db)).get(run_id)
    return row["pid"] if row else None


def calls(tmp_path: Path) -> list[list[str]]:
    return [json.loads(line) for line in lines(tmp_path / "plan.json.calls")]


def start_run_now(db: str, cfg: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from ogi.commands.schedule import run_now; run_now.main(sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, "--db", db, "--config", str(cfg)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_9_of_the_service_ends_the_orphan_crawl_before_the_resume(db, tmp_path, plan):
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    items_log = tmp_path / "items.log"
    plan(sources={"portal": {"pages": 2}}, items=80, item_sleep=0.1, state=str(tmp_path / "state.json"),
         log=str(items_log))
    with Recorder(db, config):
        pass
    set_next_run(db, "weekly-season", datetime.now(config.tz) - timedelta(hours=1))
    log = tmp_path / "service.log"
    proc = start_service(db, config_path, log)
    try:
        wait_for(lambda: len(lines(items_log)) >= 5)
        pid = crawl_pid(db)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    # the crawl outlives the service, in its own process group, and keeps the run lock
    assert pid and alive(pid)
    assert scheduler.lock_holder(scheduler.run_lock_path(db)) is not None
    with pytest.raises(scheduler.SchedulerError, match="Another run is in progress"):
        scheduler.Runner(db, load_config(config_path)).run(scheduler.RunRequest(job_id="run-now"),
                                                           wait_for_lock=False)
    assert len(calls(tmp_path)) == 1  # no second crawl started

    proc = start_service(db, config_path, log)
    try:
        state = scheduler.StateStore(scheduler.jobs_path(db))
        wait_for(lambda: state.get(1)["state"] == "done", timeout=60)
    finally:
        assert stop_service(proc, 30) == 0
    assert not alive(pid)
    assert lines(items_log) == [f"item {i}" for i in range(80)]  # every item once: never two crawls at a time
    [run] = archive_runs(db)
    assert (run["id"], run["status"]) == (1, "ok")
    assert run["counts"]["reports_found"] == 80
    assert [c[c.index("--run-id") + 1] for c in calls(tmp_path)] == ["1", "1"]
    row = scheduler.StateStore(scheduler.jobs_path(db)).get(1)
    assert row["attempts"] == 2
    assert row["pid"] is None
    text = log.read_text()
    assert f"its crawl (pid {pid}) outlived the process that started it" in text
    assert "Resuming run 1" in text


def test_kill_9_of_run_now_then_the_service_ends_and_resumes_it(db, config, plan, tmp_path):
    cfg = _config_file(tmp_path, config)
    items_log = tmp_path / "items.log"
    plan(sources={"a": {"pages": 1}}, items=80, item_sleep=0.1, state=str(tmp_path / "state.json"),
         log=str(items_log))
    proc = start_run_now(db, cfg)
    try:
        wait_for(lambda: len(lines(items_log)) >= 3)
        pid = crawl_pid(db)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert pid and alive(pid)
    again = CliRunner().invoke(run_now, ["--db", db, "--config", str(cfg)])
    assert again.exit_code == 1
    assert "Another run is in progress" in again.output
    service = scheduler.Service(db, load_config(cfg))
    service.start()
    try:
        state = scheduler.StateStore(scheduler.jobs_path(db))
        wait_for(lambda: state.get(1)["state"] == "done", timeout=60)
    finally:
        service.shutdown()
    assert not alive(pid)
    assert lines(items_log) == [f"item {i}" for i in range(80)]
    [run] = archive_runs(db)
    assert (run["id"], run["status"], run["trigger"]) == (1, "ok", "run-now")
    assert len(calls(tmp_path)) == 2


def test_a_crawl_that_finished_after_its_runner_died_is_adopted_not_rerun(db, config, plan, tmp_path):
    cfg = _config_file(tmp_path, config)
    items_log = tmp_path / "items.log"
    plan(sources={"a": {"pages": 4, "new_reports": 3}}, items=15, item_sleep=0.05,
         state=str(tmp_path / "state.json"), log=str(items_log),
         run_counts={"mode": "full", "pages": 4}, run_status="ok")
    proc = start_run_now(db, cfg)
    try:
        wait_for(lambda: len(lines(items_log)) >= 2)
        pid = crawl_pid(db)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    wait_for(lambda: not alive(pid), timeout=30)  # the orphan finished the run on its own
    service = scheduler.Service(db, load_config(cfg))
    service.start()
    try:
        state = scheduler.StateStore(scheduler.jobs_path(db))
        wait_for(lambda: state.get(1)["state"] == "done", timeout=30)
    finally:
        service.shutdown()
    assert len(calls(tmp_path)) == 1  # adopted: no second crawl
    [run] = archive_runs(db)
    assert run["status"] == "ok"
    assert (run["counts"]["pages"], run["counts"]["new_reports"], run["counts"]["reports_found"]) == (4, 3, 15)
    assert scheduler.StateStore(scheduler.jobs_path(db)).get(1)["attempts"] == 1


def test_resumed_run_counts_each_attempt_once(db, config, plan, tmp_path):
    """Attempt 1 records a and b when stopped; attempt 2 re-records only a: b's row must not count twice."""
    items_log = tmp_path / "items.log"
    plan(attempts=[{"a": {"pages": 2, "new_reports": 2, "failures": 1}, "b": {"pages": 1, "new_reports": 1}},
                   {"a": {"pages": 3, "new_reports": 4}}],
         record_on_stop=True, items=40, item_sleep=0.05, state=str(tmp_path / "state.json"), log=str(items_log))
    runner = scheduler.Runner(db, config)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(o=runner.run(scheduler.RunRequest(job_id="full-april"))))
    thread.start()
    try:
        wait_for(lambda: len(lines(items_log)) >= 3)
    finally:
        runner.stop.set()
        thread.join(timeout=30)
    first = result["o"]
    assert first.status == "interrupted"
    assert (first.counts["pages"], first.counts["new_reports"], first.counts["failures"]) == (3, 3, 1)
    [second] = scheduler.Runner(db, config).resume_pending()
    assert second.run_id == first.run_id
    # a: 2 + 3 pages, 2 + 4 new; b (not re-recorded): 1 page, 1 new, once
    assert (second.counts["pages"], second.counts["new_reports"], second.counts["failures"]) == (6, 7, 1)
    [run] = archive_runs(db)
    assert (run["counts"]["pages"], run["counts"]["new_reports"]) == (6, 7)
    assert lines(items_log) == [f"item {i}" for i in range(40)]


def test_sigterm_still_reaches_the_whole_process_group(db, config, plan, tmp_path):
    """The service signals the crawl's group: a child of the crawl stops with it (nothing left running)."""
    hook = tmp_path / "crawl.py"
    child_pid = tmp_path / "child.pid"
    hook.write_text(
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(child_pid)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n")
    config = replace_config(config, crawl_command=(sys.executable, str(hook), "{run_id}"), stop_grace_seconds=2.0)
    runner = scheduler.Runner(db, config)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(o=runner.run(scheduler.RunRequest(job_id="full-april"))))
    thread.start()
    try:
        wait_for(lambda: child_pid.exists() and child_pid.read_text())
        group = crawl_pid(db)
    finally:
        runner.stop.set()
        thread.join(timeout=30)
    assert result["o"].status == "interrupted", result["o"]
    child = int(child_pid.read_text())
    wait_for(lambda: not alive(child), timeout=30)
    assert group is not None
    assert not group_alive(group), Path(f"/proc/{child}/stat").read_text() if Path(f"/proc/{child}").exists() else ""  # no live member left (a zombie the container's init has not reaped is not one)


def test_a_run_claimed_by_a_live_crawl_is_not_resumed_beside_it(db, config, plan, tmp_path):
    """The crawl's claim (`claim_run` with its owner tag) is the run's lock: a resume waits for that crawl to end."""
    from crawler.liveness import owner_tag

    items_log = tmp_path / "items.log"
    plan(sources={"a": {}}, items=40, item_sleep=0.05, state=str(tmp_path / "state.json"), log=str(items_log))
    runner = scheduler.Runner(db, config)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(o=runner.run(scheduler.RunRequest(job_id="full-april"))))
    thread.start()
    try:
        wait_for(lambda: len(lines(items_log)) >= 2)
    finally:
        runner.stop.set()
        thread.join(timeout=30)
    run_id = result["o"].run_id
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        arc = open_archive(db)
        try:
            arc.claim_run(run_id, owner_tag(other.pid))  # what a crawl started by hand with --run-id records
        finally:
            arc.close()
        [held] = scheduler.Runner(db, config).resume_pending()
        assert held.status == "interrupted"
        assert f"a crawl (process {other.pid}) holds the run" in held.detail
        assert len(calls(tmp_path)) == 1  # no second crawl of the run
        assert scheduler.StateStore(scheduler.jobs_path(db)).get(run_id)["state"] == "interrupted"  # still pending
    finally:
        other.kill()
        other.wait()
    [resumed] = scheduler.Runner(db, config).resume_pending()
    assert resumed.status == "ok"
    assert lines(items_log) == [f"item {i}" for i in range(40)]
