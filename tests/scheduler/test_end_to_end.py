"""The real path: `ogi crawl` in a subprocess against the sample portal, recorded in the archive's run history."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import scheduler
from archive import open_archive
from crawler.pipelines import RUN_PARTIAL
from ogi.commands.schedule import run_now, schedule, status
from ogi.demo.portal import HUB_URL, Portal, PortalServer
from ogi.service.config import DEFAULT_CONFIG, load_config

from .conftest import start_service, stop_service

pytestmark = pytest.mark.slow

# The sample portal loses items by design (404s, WAF walls, robots, a declared page that is not served), so
# a run over it is never `ok`: the crawl judges it partial (`suspect` while the archive has no `partial`).
LOSSY = RUN_PARTIAL

ROOT = Path(scheduler.__file__).resolve().parent


def query(db: str, sql: str, *params):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def fetched(db: str) -> int:
    """Fetches archived so far (0 while the archive is being created: no file, no table yet, or locked)."""
    if not Path(db).exists():
        return 0
    try:
        return query(db, "SELECT count(*) FROM fetches")[0][0]
    except sqlite3.OperationalError:
        return 0


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {predicate}")


def portal_config(tmp_path: Path, server: PortalServer) -> Path:
    """The bundled schedule with the default crawl command, pointed at the sample portal (mode arguments)."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{"name": "sample-hub", "url": HUB_URL, "agency": "样例门户",
                                                    "level": "demo"}]}, allow_unicode=True))
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    portal_args = ["--sources-file", str(sources), "--allow-private", "--host-map",
                   f"fixture.test=127.0.0.1:{server.port}", "--fast", "--download-timeout", "1.5", "--quiet"]
    data["modes"] = {mode: [*args, *portal_args] for mode, args in data["modes"].items()}  # keep --mode
    data["stop_grace_seconds"] = 30
    data["run_timeout_minutes"] = 5
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_run_now_through_the_subprocess_path(tmp_path):
    db = str(tmp_path / "ogi.db")
    with PortalServer(Portal(slow_seconds=3.0)) as server:
        config = portal_config(tmp_path, server)
        first = CliRunner().invoke(run_now, ["--db", db, "--config", str(config), "--source", "sample-hub"])
        assert first.exit_code == 0, first.output + scheduler.run_log_path(db, 1).read_text()[-3000:]
        assert first.output.startswith(f"run 1: {LOSSY} ")
        second = CliRunner().invoke(run_now, ["--db", db, "--config", str(config), "--source", "sample-hub"])
        assert second.exit_code == 0, second.output
        expected = {r["url"] for r in server.portal.manifest["reports"]}
        # the weekly pass: `--mode light` through the same path finds the report published since, and
        # requests no known article
        new_url = server.portal.publish_report()
        before = dict(server.portal.hits)
        light = CliRunner().invoke(run_now, ["--db", db, "--config", str(config), "--source", "sample-hub",
                                             "--mode", "light"])
        assert light.exit_code == 0, light.output + scheduler.run_log_path(db, 3).read_text()[-3000:]
        requested = {u for u, n in server.portal.hits.items() if n > before.get(u, 0)}
    arc = open_archive(db)
    try:
        runs = arc.runs()
    finally:
        arc.close()
    assert [(r["id"], r["status"], r["trigger"]) for r in reversed(runs)] == [
        (1, LOSSY, "run-now"), (2, LOSSY, "run-now"), (3, LOSSY, "run-now")]
    light_counts = runs[0]["counts"]
    assert (light_counts["mode"], light_counts["crawl_mode"]) == ("light", "light")
    assert light_counts["new_items"] == 1
    assert light_counts["new_reports"] == 1
    assert light_counts["known_items"] == 30
    assert new_url in requested
    assert not expected & requested
    assert "--mode light" in scheduler.run_log_path(db, 3).read_text()
    assert "new items 1" in light.output
    first_counts, second_counts = runs[2]["counts"], runs[1]["counts"]
    assert first_counts["reports_found"] == 31
    assert first_counts["new_reports"] >= 30
    assert first_counts["failures"] > 10
    assert first_counts["failures_by_reason"]["http/404"] >= 1
    assert first_counts["sources"] == {"sample-hub": "partial"}
    assert second_counts["new_reports"] == 0  # the refresh is incremental and adds no duplicate
    assert second_counts["reports_found"] >= 30
    assert runs[2]["started_at"] < runs[2]["finished_at"]
    assert expected | {new_url} <= {u for (u,) in query(db, "SELECT url FROM reports")}
    assert query(db, "SELECT count(*) FROM versions") == [(32,)]
    assert "crawling 1 source(s)" in scheduler.run_log_path(db, 1).read_text()

    shown = CliRunner().invoke(status, ["--db", db, "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "#1" in shown.output
    assert "run-now" in shown.output
    assert "reports 31" in shown.output
    data = json.loads(CliRunner().invoke(status, ["--db", db, "--config", str(config), "--json"]).output)
    assert data["counts"]["reports"] >= 30
    assert [r["id"] for r in data["runs"]] == [3, 2, 1]
    assert [(r["mode"], r["new_items"]) for r in data["runs"]] == [("light", 1), ("full", None), ("full", None)]
    assert "new items 1" in shown.output
    assert [j["job"] for j in data["next_runs"]]
    listing = CliRunner().invoke(schedule, ["--db", db, "--config", str(config), "--list"])
    assert "weekly-season" in listing.output
    assert "not running" in listing.output




def test_sigterm_during_a_real_crawl_then_resume(tmp_path):
    """The service catches up a missed run, is stopped mid-crawl, and its restart resumes the same run to the end."""
    db = str(tmp_path / "ogi.db")
    log = tmp_path / "service.log"
    with PortalServer(Portal(slow_seconds=3.0, delay=1.0)) as server:
        config_path = portal_config(tmp_path, server)
        config = load_config(config_path)
        service = scheduler.Service(db, config)
        service.start()
        service.shutdown()
        store = scheduler.SQLiteJobStore(scheduler.jobs_path(db))
        job = store.lookup_job("full-april")
        job.next_run_time = datetime.now(config.tz) - timedelta(hours=2)  # missed while the service was down
        store.update_job(job)

        proc = start_service(db, config_path, log)
        try:
            wait_for(lambda: fetched(db) >= 3)
        finally:
            assert stop_service(proc, 60) == 0
        [(run_id, run_status)] = query(db, "SELECT id, status FROM runs")
        assert run_status == "interrupted", log.read_text()[-3000:]
        reports_before = query(db, "SELECT count(*) FROM reports")[0][0]
        expected = {r["url"] for r in server.portal.manifest["reports"]}
        assert reports_before < len(expected)

        proc = start_service(db, config_path, log)
        try:
            state = scheduler.StateStore(scheduler.jobs_path(db))
            wait_for(lambda: state.get(run_id)["state"] == "done", timeout=120)
        finally:
            assert stop_service(proc, 60) == 0
    runs = query(db, "SELECT id, status, trigger, counts FROM runs")
    assert len(runs) == 1, runs  # resumed under the same run id: no lost or duplicated run
    assert runs[0][:3] == (run_id, LOSSY, "schedule:full-april")
    versions = query(db, "SELECT count(*), count(DISTINCT sha256) FROM versions")[0]
    assert versions[0] == versions[1]  # nothing archived twice
    row = scheduler.StateStore(scheduler.jobs_path(db)).get(run_id)
    assert row["state"] == "done"
    assert row["attempts"] == 2
    text = log.read_text()
    assert "Resuming run 1" in text
    assert "Received SIGTERM" in text
    nxt = scheduler.SQLiteJobStore(scheduler.jobs_path(db)).stored_next_run_times()["full-april"]
    assert nxt > datetime.now(config.tz) + timedelta(days=1)  # caught up once, not again
    counts = json.loads(runs[0][3])
    archived = {u for (u,) in query(db, "SELECT url FROM reports")}
    missing = expected - archived
    assert not missing, f"lost on resume: {sorted(missing)}"
    assert query(db, "SELECT count(*) FROM versions") == [(31,)]
    assert counts["new_reports"] >= 30  # the interrupted attempt's new reports are carried into the totals
