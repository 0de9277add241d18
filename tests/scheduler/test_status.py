"""`ogi status`: the last run's completeness per source, missed fire times, and `--check` (the archive's integrity)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

import scheduler
from archive import open_archive
from ogi.commands.schedule import status
from ogi.service.config import load_config
from ogi.service.status import build_status, format_status, integrity

from .test_commands import _config_file
from .test_service import Recorder, daily_config, set_next_run, wait_for


def test_status_shows_the_last_runs_completeness_per_source(db, config, plan):
    plan(sources={"a": {"reports_found": 3, "declared": 5, "listed": 5, "archived": 3, "missing": 2},
                  "b": {"reports_found": 4, "listed": 4, "archived": 4, "missing": 0},
                  "c": {"reports_found": 6, "declared": 6, "listed": 6, "archived": 6, "missing": 0}})
    outcome = scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="full-april"))
    data = build_status(db, config)
    comp = data["completeness"]
    assert comp["run_id"] == outcome.run_id
    assert comp["status"] == "partial"
    by_source = {s["source"]: s for s in comp["sources"]}
    assert by_source["a"] == {"source": "a", "declared": 5, "listed": 5, "archived": 3, "missing": 2,
                              "completeness": "partial"}
    assert by_source["b"]["completeness"] == "unknown"  # the portal declares no count
    assert by_source["b"]["declared"] is None
    assert by_source["c"]["completeness"] == "ok"
    text = format_status(data)
    assert f"Completeness of run #{outcome.run_id}: partial" in text
    assert "  a: declared 5, listed 5, archived 3, missing 2 — partial" in text
    assert "  b: declared ?, listed 4, archived 4, missing 0 — unknown" in text
    json.dumps(data, default=str)


def test_missed_fire_time_is_logged_with_how_late_and_recorded(db, tmp_path, config, caplog):
    missed_at = (datetime.now(load_config().tz) - timedelta(hours=5)).replace(second=0, microsecond=0)
    cfg = daily_config(missed_at, grace_hours=1)
    with Recorder(db, cfg):
        pass
    set_next_run(db, "daily", missed_at)
    caplog.set_level("WARNING", logger="scheduler")
    with Recorder(db, cfg) as rec:
        wait_for(lambda: rec.service.missed)
    [record] = [r for r in caplog.records if "missed its run" in r.getMessage()]
    message = record.getMessage()
    assert "5h 0" in message and "late, beyond its misfire grace of 1h 00m" in message
    [miss] = scheduler.StateStore(scheduler.jobs_path(db)).recent_missed()
    assert miss["job_id"] == "daily"
    assert abs(miss["late_seconds"] - 5 * 3600) < 120
    assert miss["grace_seconds"] == 3600
    assert datetime.fromisoformat(miss["scheduled_at"]) == missed_at
    open_archive(db).close()
    data = build_status(db, cfg)
    assert [m["job_id"] for m in data["missed"]] == ["daily"]
    assert "Missed runs" in format_status(data)
    assert "daily" in format_status(data).split("Missed runs")[1]


def test_status_check_runs_the_archives_integrity_check(db, config, plan, tmp_path):
    plan(sources={"a": {"reports_found": 1}})
    scheduler.Runner(db, config).run(scheduler.RunRequest(job_id="full-april"))
    cfg = _config_file(tmp_path, config)
    result = CliRunner().invoke(status, ["--db", db, "--config", str(cfg), "--check"])
    assert result.exit_code == 0, result.output
    assert "Integrity: ok" in result.output
    plain = CliRunner().invoke(status, ["--db", db, "--config", str(cfg)])
    assert "Integrity" not in plain.output  # only with --check
    arc = open_archive(db)
    try:
        arc.save_document(b"%PDF-1.4 a report", url="http://x.test/report.pdf")
    finally:
        arc.close()
    for pack in Path(f"{db}.blobs").rglob("*.pack"):
        pack.write_bytes(b"")  # the document's bytes are gone
    damaged = CliRunner().invoke(status, ["--db", db, "--config", str(cfg), "--check", "--json"])
    assert damaged.exit_code == 1
    data = json.loads(damaged.output)
    assert data["integrity"]["ok"] is False
    assert any("bytes missing" in p for p in data["integrity"]["problems"])
    text = CliRunner().invoke(status, ["--db", db, "--config", str(cfg), "--check"])
    assert text.exit_code == 1
    assert "Integrity: 1 problem(s)" in text.output
    assert "Traceback" not in text.output


def test_integrity_of_an_archive_without_the_check_or_whose_check_fails():
    class Old:
        pass

    class Broken:
        def integrity(self):
            raise OSError("disk gone")

    assert integrity(Old()) == {"ok": None, "problems": [], "available": False}
    result = integrity(Broken())
    assert result["ok"] is False
    assert result["problems"] == ["the integrity check failed: disk gone"]
