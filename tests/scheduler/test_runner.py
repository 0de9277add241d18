"""Runs through the real subprocess path (a fake crawl script), recorded in the archive's run history."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest

import scheduler
from archive import open_archive
from ogi.service.config import AlertConfig, replace_config


def runs(db: str) -> list[dict]:
    arc = open_archive(db)
    try:
        return arc.runs()
    finally:
        arc.close()


def test_ok_run_is_recorded(db, config, plan, tmp_path):
    plan(sources={"beijing": {"pages": 3, "reports_found": 12, "new_reports": 2, "new_versions": 1, "failures": 2},
                  "shanghai": {"pages": 1, "reports_found": 4, "new_reports": 4}},
         failures=[["http://x/1", "http_404"], ["http://x/2", "http_404"], ["http://x/3", "waf_412"]])
    runner = scheduler.Runner(db, config)
    outcome = runner.run(scheduler.RunRequest(job_id="full-april", mode="full"))
    assert outcome.status == "ok", outcome
    assert outcome.alerts == []
    [run] = runs(db)
    assert run["id"] == outcome.run_id
    assert run["status"] == "ok"
    assert run["trigger"] == "schedule:full-april"
    assert run["started_at"]
    assert run["finished_at"]
    counts = run["counts"]
    assert counts["pages"] == 4
    assert counts["reports_found"] == 16
    assert counts["new_reports"] == 6
    assert counts["new_versions"] == 1
    assert counts["failures"] == 2
    assert counts["failures_by_reason"] == {"http_404": 2, "waf_412": 1}
    assert counts["sources"] == {"beijing": "ok", "shanghai": "ok"}
    # the crawl got the run id and the trigger; its output went to the run log
    calls = [json.loads(line) for line in (tmp_path / "plan.json.calls").read_text().splitlines()]
    assert calls == [["--db", db, "--run-id", str(outcome.run_id), "--trigger", "schedule:full-april",
                      "--mode", "full"]]  # the mode's arguments (ogi/service/schedule.yaml)
    assert f"run {outcome.run_id}" in scheduler.run_log_path(db, outcome.run_id).read_text()
    state = scheduler.StateStore(scheduler.jobs_path(db)).get(outcome.run_id)
    assert state["state"] == "done"
    assert state["status"] == "ok"
    assert state["exit_code"] == 0


def test_sources_and_mode_arguments(db, config, plan, tmp_path):
    plan(sources={"a": {"reports_found": 3}, "b": {"reports_found": 3}})
    config = replace_config(config, modes={**config.modes, "light": ("--list-only",)})
    runner = scheduler.Runner(db, config)
    outcome = runner.run(scheduler.RunRequest(job_id="weekly-season", mode="light", sources=("a",)))
    assert outcome.status == "ok"
    call = json.loads((tmp_path / "plan.json.calls").read_text().splitlines()[0])
    assert call[-3:] == ["--list-only", "--source", "a"]
    assert runs(db)[0]["counts"]["sources"] == {"a": "ok"}


@pytest.mark.parametrize(
    ("plan_data", "status", "rules"),
    [
        ({"sources": {"a": {"reports_found": 3}}, "exit": 2}, "failed", ["failed"]),
        ({"sources": {"a": {"reports_found": 0, "status": "failed"}}}, "failed", ["failed"]),
        ({"sources": {"a": {"reports_found": 0}, "b": {"reports_found": 0}}}, "empty", ["empty"]),
    ],
)
def test_bad_runs_are_classified_and_alerted(db, config, plan, plan_data, status, rules, tmp_path):
    out = tmp_path / "alerts.jsonl"
    hook = tmp_path / "hook.py"
    hook.write_text(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    config = replace_config(config, alerts=AlertConfig(command=(sys.executable, str(hook))))
    plan(**plan_data)
    outcome = scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="full-april"))
    assert outcome.status == status
    assert [a.rule for a in outcome.alerts] == rules
    assert runs(db)[0]["status"] == status
    delivered = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["rule"] for d in delivered] == rules
    assert delivered[0]["run_id"] == outcome.run_id


def test_suspect_run_against_recent_median(db, config, plan):
    runner = scheduler.Runner(db, config)
    for found in (20, 22, 19):
        plan(sources={"a": {"reports_found": found}, "b": {"reports_found": 5}})
        assert runner.run(scheduler.RunRequest(job_id="weekly-season")).status == "ok"
    plan(sources={"a": {"reports_found": 3}, "b": {"reports_found": 5}})
    outcome = runner.run(scheduler.RunRequest(job_id="weekly-season"))
    assert outcome.status == "suspect"
    assert "a found 3 (median 20)" in outcome.detail
    assert [(a.rule, a.source) for a in outcome.alerts] == [("suspect", "a")]
    assert runs(db)[0]["status"] == "suspect"


def test_hard_time_limit(db, config, plan):
    plan(sources={"a": {"reports_found": 3}}, sleep=30, ignore_sigterm=True)
    config = replace_config(config, run_timeout_minutes=0.02, stop_grace_seconds=0.5)  # 1.2 s
    start = time.monotonic()
    outcome = scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="full-april"))
    assert time.monotonic() - start < 10
    assert outcome.status == "failed"
    assert outcome.timed_out
    assert "timeout" in outcome.detail
    assert outcome.exit_code is not None
    assert outcome.exit_code < 0
    assert runs(db)[0]["status"] == "failed"


def test_missing_crawl_program_fails_cleanly(db, config, plan):
    plan(sources={})
    config = replace_config(config, crawl_command=("/nonexistent/ogi", "crawl", "--run-id", "{run_id}"))
    outcome = scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="full-april"))
    assert outcome.status == "failed"
    assert outcome.exit_code == 127
    assert runs(db)[0]["status"] == "failed"


def test_unusable_archive_is_a_failed_run_not_a_crash(tmp_path, config, plan):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database at all" * 10)
    outcome = scheduler.Runner(str(bad), config).run(scheduler.RunRequest(job_id="full-april"))
    assert outcome.status == "failed"
    assert "Cannot open the archive" in outcome.detail


def test_one_run_at_a_time(db, config, plan):
    plan(sources={"a": {"reports_found": 1}}, sleep=1.5)
    first = scheduler.Runner(db, config)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(o=first.run(scheduler.RunRequest(job_id="full-april"))))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while scheduler.lock_holder(scheduler.run_lock_path(db)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(scheduler.SchedulerError, match="Another run is in progress"):
            scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="run-now"), wait_for_lock=False)
        # a waiting run goes after the first one
        second = scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="run-now"), wait_for_lock=True)
    finally:
        thread.join()
    assert result["o"].status == "ok"
    assert second.status == "ok"
    assert second.run_id == result["o"].run_id + 1
