"""`ogi schedule --list`, `ogi run-now`, `ogi status`, `python scheduler.py`, and the stale-source health check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

import scheduler
from ogi.commands.schedule import COMMANDS, run_now, schedule, status
from ogi.service.config import replace_config

ROOT = Path(scheduler.__file__).resolve().parent


def test_commands_are_exported():
    assert [c.name for c in COMMANDS] == ["schedule", "run-now", "status"]
    for command in COMMANDS:
        assert command.help
        assert "Example:" in command.help


def test_schedule_list_before_the_service_ever_ran(db):
    result = CliRunner().invoke(schedule, ["--db", db, "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "timezone Asia/Shanghai" in lines[0]
    jobs = [line.split()[0] for line in lines[2:6]]
    assert sorted(jobs) == ["full-april", "full-february", "monthly-revisions", "weekly-season"]
    assert "computed from the config" in result.output
    assert "Service: not running" in result.output


def test_schedule_list_reads_the_job_store(db):
    service = scheduler.Service(db)
    service.start()
    service.shutdown()
    result = CliRunner().invoke(schedule, ["--db", db, "--list"])
    assert result.exit_code == 0
    assert "computed from the config" not in result.output
    assert "+08:00" not in result.output  # shown as Shanghai wall-clock times


def test_python_scheduler_py_list(db):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), "--db", db, "--list"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "weekly-season" in proc.stdout


def test_bad_config_is_a_clear_error(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("timezone: Nowhere/Land\njobs: {}\n")
    for command, extra in ((schedule, ["--list"]), (run_now, []), (status, [])):
        result = CliRunner().invoke(command, ["--db", db, "--config", str(bad), *extra])
        assert result.exit_code == 2  # bad input (issue 13: one line, exit 2; was 1)
        assert "timezone" in result.output
        assert "Traceback" not in result.output


def _config_file(tmp_path: Path, config) -> Path:
    import yaml

    from ogi.service.config import DEFAULT_CONFIG

    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["crawl_command"] = list(config.crawl_command)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_run_now_and_status(db, config, plan, tmp_path):
    cfg = _config_file(tmp_path, config)
    plan(sources={"a": {"reports_found": 4, "pages": 2, "new_reports": 4}}, failures=[["http://x/", "http/404"]])
    result = CliRunner().invoke(run_now, ["--db", db, "--config", str(cfg), "--source", "a"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("run 1: ok (pages 2, reports 4, new 4, new versions 0, failures 0)")
    plan(sources={"a": {"reports_found": 0, "status": "failed"}}, exit=1)
    result = CliRunner().invoke(run_now, ["--db", db, "--config", str(cfg), "--source", "a"])
    assert result.exit_code == 1
    assert "run 2: failed" in result.output
    shown = CliRunner().invoke(status, ["--db", db, "--config", str(cfg)])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "#2" in text
    assert "#1" in text
    assert "Failing sources:\n  a: last run #2 failed" in text
    assert "last good run #1" in text
    assert "[failed] run 2 failed" in text
    data = json.loads(CliRunner().invoke(status, ["--db", db, "--config", str(cfg), "--json"]).output)
    assert [r["status"] for r in data["runs"]] == ["failed", "ok"]
    assert data["failing_sources"][0]["source"] == "a"
    assert data["service"]["running"] is False
    assert data["counts"]["documents"] == 0


def test_run_now_unknown_mode(db):
    result = CliRunner().invoke(run_now, ["--db", db, "--mode", "turbo"])
    assert result.exit_code == 1
    assert "Unknown mode" in result.output


def test_status_without_an_archive(db, tmp_path, monkeypatch):
    # an archive the user named that is not there: the next runs are shown, then one error line, exit 2
    result = CliRunner().invoke(status, ["--db", db])
    assert result.exit_code == 2
    assert "no archive at" in result.output
    assert "Next runs (Asia/Shanghai)" in result.output
    assert not os.path.exists(db)
    # the default archive (no --db) missing: nothing has run yet, which is not an error
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OGI_DB", raising=False)
    result = CliRunner().invoke(status, [])
    assert result.exit_code == 0, result.output
    assert "no archive at" in result.output
    assert not (tmp_path / "ogi.db").exists()


def test_health_check_alerts_stale_sources_once(db, config, plan, tmp_path):
    out = tmp_path / "alerts.jsonl"
    hook = tmp_path / "hook.py"
    hook.write_text(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    config = replace_config(config, alerts=replace_config(config.alerts, command=(sys.executable, str(hook))))
    plan(sources={"a": {"reports_found": 4}, "b": {"reports_found": 4}})
    runner = scheduler.Runner(db, config)
    assert runner.run(scheduler.RunRequest(job_id="run-now")).status == "ok"
    assert runner.check_stale() == []  # just ran
    later = scheduler.utcnow() + timedelta(days=200)  # no good run for far longer than twice the interval
    alerts = runner.check_stale(now=later)
    assert sorted(a.source for a in alerts) == ["a", "b"]
    runner.check_stale(now=later + timedelta(days=1))  # the same condition is delivered once
    delivered = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["rule"], d["source"]) for d in delivered] == [("stale", "a"), ("stale", "b")]


def test_run_now_sigterm_stops_the_crawl_and_leaves_it_resumable(db, config, plan, tmp_path):
    import signal
    import time

    from archive import open_archive

    cfg = _config_file(tmp_path, config)
    items = tmp_path / "items.log"
    plan(sources={"a": {}}, items=60, item_sleep=0.03, state=str(tmp_path / "state.json"), log=str(items))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from ogi.commands.schedule import run_now; run_now.main(sys.argv[1:])"
    proc = subprocess.Popen([sys.executable, "-c", code, "--db", db, "--config", str(cfg)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (items.exists() and len(items.read_text().splitlines()) >= 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, out + err
    assert "run 1: interrupted" in out
    done = len(items.read_text().splitlines())
    time.sleep(0.3)
    assert len(items.read_text().splitlines()) == done < 60  # the crawl stopped with the command
    arc = open_archive(db)
    try:
        assert arc.runs()[0]["status"] == "interrupted"
    finally:
        arc.close()
    assert scheduler.StateStore(scheduler.jobs_path(db)).pending()[0]["run_id"] == 1
    # the service's resume path finishes it under the same run id
    [outcome] = scheduler.Runner(db, config).resume_pending()
    assert (outcome.run_id, outcome.status) == (1, "ok")
    assert items.read_text().splitlines() == [f"item {i}" for i in range(60)]
