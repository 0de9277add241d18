"""The service: job store reconciliation, misfire catch-up with a controlled clock, the lock, SIGTERM and resume."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import scheduler
from archive import open_archive
from ogi.commands.schedule import schedule
from ogi.service.config import DEFAULT_CONFIG, load_config, parse_config

from .conftest import start_service, stop_service

ROOT = Path(scheduler.__file__).resolve().parent
FAKE_CRAWL = Path(__file__).resolve().parent / "fake_crawl.py"


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {predicate}")


def hourly_config(grace_hours: float = 6.0, **jobs_extra):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["jobs"] = {"hourly": {"mode": "light", "cron": [{"minute": 0}], "misfire_grace_hours": grace_hours},
                    **jobs_extra}
    return parse_config(data)


def stored_next_run(db: str, job_id: str) -> datetime | None:
    return scheduler.SQLiteJobStore(scheduler.jobs_path(db)).stored_next_run_times()[job_id]


def set_next_run(db: str, job_id: str, when: datetime) -> None:
    store = scheduler.SQLiteJobStore(scheduler.jobs_path(db))
    job = store.lookup_job(job_id)
    job.next_run_time = when
    store.update_job(job)


class Recorder:
    """A service whose runs are only recorded (no crawl)."""

    def __init__(self, db: str, config) -> None:
        self.calls: list[str] = []
        self.service = scheduler.Service(db, config)
        self.service.run_job = self.calls.append

    def __enter__(self) -> Recorder:
        self.service.start()
        return self

    def __exit__(self, *exc) -> None:
        self.service.shutdown()


def test_jobs_are_stored_with_stable_ids_and_timezone(db):
    config = load_config()
    with Recorder(db, config) as rec:
        jobs = {j.id: j for j in rec.service.scheduler.get_jobs()}
        assert str(rec.service.scheduler.timezone) == "Asia/Shanghai"
    assert set(jobs) == {"full-february", "full-april", "weekly-season", "monthly-revisions",
                         scheduler.HEALTH_JOB_ID}
    assert jobs["full-april"].misfire_grace_time == 168 * 3600
    assert jobs["weekly-season"].misfire_grace_time == 72 * 3600
    assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())
    assert jobs["full-april"].func_ref == "scheduler:run_scheduled"
    assert jobs["full-april"].args == ("full-april",)
    stored = scheduler.SQLiteJobStore(scheduler.jobs_path(db)).stored_next_run_times()
    assert set(stored) == set(jobs)
    assert rec.calls == []


def test_missed_runs_are_caught_up_once_on_start(db):
    config = hourly_config(grace_hours=6)
    with Recorder(db, config):
        pass
    now = datetime.now(config.tz)
    set_next_run(db, "hourly", now - timedelta(hours=5, minutes=1))  # five hourly runs missed
    with Recorder(db, config) as rec:
        wait_for(lambda: rec.calls)
        time.sleep(0.5)
        assert rec.calls == ["hourly"]  # coalesced: once, not five times
    assert stored_next_run(db, "hourly") > now
    # a restart does not run it again
    with Recorder(db, config) as rec:
        time.sleep(0.8)
        assert rec.calls == []


def daily_config(at: datetime, grace_hours: float):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["jobs"] = {"daily": {"mode": "full", "cron": [{"hour": at.hour, "minute": at.minute}],
                              "misfire_grace_hours": grace_hours}}
    return parse_config(data)


@pytest.mark.parametrize(("grace_hours", "runs"), [(6, ["daily"]), (1, [])])
def test_misfire_grace_is_in_hours(db, grace_hours, runs):
    """A daily run missed by 5 hours is caught up with a 6-hour grace and skipped (logged) with a 1-hour one."""
    missed_at = (datetime.now(load_config().tz) - timedelta(hours=5)).replace(second=0, microsecond=0)
    config = daily_config(missed_at, grace_hours)
    with Recorder(db, config):
        pass
    set_next_run(db, "daily", missed_at)
    with Recorder(db, config) as rec:
        wait_for(lambda: rec.calls or rec.service.missed)
        time.sleep(0.3)
        assert rec.calls == runs
        assert rec.service.missed == ([] if runs else ["daily"])
    assert stored_next_run(db, "daily") > missed_at + timedelta(hours=23)


def test_reconcile_keeps_unchanged_jobs_and_updates_changed_ones(db):
    config = hourly_config(daily={"mode": "full", "cron": [{"hour": 5}]})
    with Recorder(db, config):
        pass
    now = datetime.now(config.tz)
    past = now - timedelta(minutes=30)
    set_next_run(db, "hourly", past)
    set_next_run(db, "daily", now + timedelta(days=400))
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["jobs"] = {"hourly": {"mode": "light", "cron": [{"minute": 0}], "misfire_grace_hours": 6},
                    "daily": {"mode": "full", "cron": [{"hour": 6}]},  # changed schedule
                    "weekly": {"mode": "full", "cron": [{"day_of_week": "sun", "hour": 1}]}}  # new
    rec = Recorder(db, parse_config(data))
    scheduler_ = rec.service.build_scheduler()
    scheduler_.start(paused=True)
    try:
        rec.service.reconcile(scheduler_)
        jobs = {j.id: j for j in scheduler_.get_jobs()}
    finally:
        scheduler_.shutdown(wait=False)
    assert set(jobs) == {"hourly", "daily", "weekly", scheduler.HEALTH_JOB_ID}
    assert abs(jobs["hourly"].next_run_time - past) < timedelta(seconds=1)  # kept: the missed run will catch up
    assert jobs["daily"].next_run_time < now + timedelta(days=2)  # recomputed from the new schedule
    assert jobs["daily"].next_run_time.hour == 6


def test_second_service_on_the_same_archive_refuses(db):
    config = hourly_config()
    with Recorder(db, config):
        with pytest.raises(scheduler.LockedError, match="Another scheduler is running"):
            scheduler.Service(db, config).start()
    # released on shutdown
    with Recorder(db, config):
        pass


def write_config(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["crawl_command"] = [sys.executable, str(FAKE_CRAWL), "--db", "{db}", "--run-id", "{run_id}",
                             "--trigger", "{trigger}"]
    data["stop_grace_seconds"] = 20
    data.update(changes)
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump(data))
    return path




def test_lock_across_processes_and_sigterm_stops_cleanly(db, tmp_path):
    config_path = write_config(tmp_path)
    log = tmp_path / "service.log"
    proc = start_service(db, config_path, log)
    try:
        wait_for(lambda: scheduler.lock_holder(scheduler.service_lock_path(db)) == proc.pid)
        result = CliRunner().invoke(schedule, ["--db", db, "--config", str(config_path)])
        assert result.exit_code == 1
        assert "Another scheduler is running" in result.output
        assert str(proc.pid) in result.output
        listing = CliRunner().invoke(schedule, ["--db", db, "--config", str(config_path), "--list"])
        assert listing.exit_code == 0
        assert f"running (pid {proc.pid})" in listing.output
    finally:
        code = stop_service(proc, 30)
    assert code == 0
    assert scheduler.lock_holder(scheduler.service_lock_path(db)) is None
    text = log.read_text()
    assert "Received SIGTERM" in text
    assert "Scheduler stopped" in text


def test_sigterm_during_a_run_then_resume_completes_the_work(db, tmp_path, plan):
    """The real service process: a missed run catches up on start, SIGTERM stops it mid-crawl, a restart resumes."""
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    items_log, state = tmp_path / "items.log", tmp_path / "state.json"
    plan(sources={"portal": {"pages": 2}}, items=30, item_sleep=0.1, state=str(state), log=str(items_log))
    with Recorder(db, config):
        pass
    set_next_run(db, "weekly-season", datetime.now(config.tz) - timedelta(hours=1))
    log = tmp_path / "service.log"

    proc = start_service(db, config_path, log)
    try:
        wait_for(lambda: items_log.exists() and len(items_log.read_text().splitlines()) >= 5)
    finally:
        assert stop_service(proc, 30) == 0
    done_before = len(items_log.read_text().splitlines())
    assert 5 <= done_before < 30
    arc = open_archive(db)
    [run] = arc.runs()
    arc.close()
    assert run["status"] == "interrupted"
    assert run["trigger"] == "schedule:weekly-season"
    assert scheduler.StateStore(scheduler.jobs_path(db)).get(run["id"])["state"] == "interrupted"

    proc = start_service(db, config_path, log)
    try:
        def finished():
            arc = open_archive(db)
            try:
                runs = arc.runs()
            finally:
                arc.close()
            return runs if runs[0]["status"] != "running" and runs[0]["status"] != "interrupted" else None
        runs = wait_for(finished, timeout=30)
    finally:
        assert stop_service(proc, 30) == 0
    assert len(runs) == 1  # the same run, resumed; no duplicate run
    assert runs[0]["id"] == run["id"]
    assert runs[0]["status"] == "ok"
    assert runs[0]["counts"]["reports_found"] == 30
    items = items_log.read_text().splitlines()
    assert items == [f"item {i}" for i in range(30)]  # every item exactly once
    calls = [json.loads(line) for line in (tmp_path / "plan.json.calls").read_text().splitlines()]
    assert [c[c.index("--run-id") + 1] for c in calls] == [str(run["id"])] * 2
    row = scheduler.StateStore(scheduler.jobs_path(db)).get(run["id"])
    assert row["state"] == "done"
    assert row["attempts"] == 2
    assert stored_next_run(db, "weekly-season") > datetime.now(config.tz)
