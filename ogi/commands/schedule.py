"""`ogi schedule [--list]`, `ogi run-now [--source NAME]`, `ogi status`: the scheduler's commands."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import datetime
from typing import Any

import click

from ogi.service.config import ConfigError, ScheduleConfig, load_config

DB_ENV = "OGI_DB"
DEFAULT_DB = "ogi.db"

db_option = click.option("--db", "db", default=lambda: os.environ.get(DB_ENV, DEFAULT_DB), show_default="ogi.db or $OGI_DB",
                         type=click.Path(dir_okay=False), help="The archive database.")
config_option = click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
                             help="Schedule config file (default: $OGI_SCHEDULE_CONFIG or the bundled schedule.yaml).")


def _config(path: str | None) -> ScheduleConfig:
    try:
        return load_config(path)
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


def _service_logging() -> None:
    """The service logs at INFO to stderr even without -v."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("scheduler", "ogi.service.alerts", "apscheduler"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def _fmt_time(dt: datetime | None, config: ScheduleConfig) -> str:
    return dt.astimezone(config.tz).strftime("%Y-%m-%d %H:%M %a") if dt else "-"


def format_job_list(db: str, config: ScheduleConfig) -> str:
    """The table `ogi schedule --list` prints."""
    import scheduler

    rows = scheduler.list_jobs(db, config)
    lines = [f"Jobs for {db} (timezone {config.timezone}; job store {scheduler.jobs_path(db)})",
             f"{'JOB':<20} {'NEXT RUN':<23} {'MODE':<10} SCHEDULE"]
    for row in rows:
        mark = "" if row.stored else " *"
        lines.append(f"{row.id:<20} {_fmt_time(row.next_run, config) + mark:<23} {row.mode:<10} {row.schedule}")
    if any(not r.stored for r in rows):
        lines.append("* computed from the config: the service has not stored this job yet")
    holder = scheduler.lock_holder(scheduler.service_lock_path(db))
    lines.append(f"Service: {f'running (pid {holder})' if holder else 'not running'}")
    return "\n".join(lines)


@click.command("schedule")
@db_option
@config_option
@click.option("--list", "list_only", is_flag=True, help="Show the jobs and their next run times, then exit.")
def schedule(db: str, config_path: str | None, list_only: bool) -> None:
    """Run the yearly refresh service in the foreground (stop with SIGTERM or Ctrl-C).

    Jobs are kept in <db>.jobs.sqlite; runs missed while the service was down are caught up once
    on start. Only one service may run per archive.

    Example:

        ogi schedule --db ogi.db

        ogi schedule --list
    """
    import scheduler

    config = _config(config_path)
    if list_only:
        click.echo(format_job_list(db, config))
        return
    _service_logging()
    service = scheduler.Service(db, config)
    try:
        service.serve_forever()
    except scheduler.SchedulerError as e:
        raise click.ClickException(str(e)) from e


@click.command("run-now")
@db_option
@config_option
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable).")
@click.option("--mode", default="full", show_default=True,
              help="full, light (list pages, new items only) or revisions (known reports re-checked); any key of "
                   "the config's modes, whose `ogi crawl` arguments the run gets.")
@click.option("--wait/--no-wait", default=False, help="Wait for a run in progress instead of refusing.")
def run_now(db: str, config_path: str | None, sources: tuple[str, ...], mode: str, wait: bool) -> None:
    """Run one refresh now, through the same path as scheduled runs (subprocess, lock, history, alerts).

    Exits 0 when the run completed (ok, empty or suspect; alerts are delivered), 1 when it failed
    or was interrupted.

    Example:

        ogi run-now --db ogi.db --source beijing_gov

        ogi run-now --db ogi.db --mode light
    """
    import scheduler

    config = _config(config_path)
    if mode not in config.modes:
        raise click.ClickException(f"Unknown mode {mode!r}; configured: {', '.join(sorted(config.modes))}")
    _service_logging()
    runner = scheduler.Runner(db, config)
    request = scheduler.RunRequest(job_id="run-now", mode=mode, sources=sources, trigger="run-now")

    def _stop(signum: int, _frame: object) -> None:  # Ctrl-C / SIGTERM: stop the crawl cleanly; it resumes later
        logging.getLogger("scheduler").warning("Received %s; stopping the run", signal.Signals(signum).name)
        runner.stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = runner.run(request, wait_for_lock=wait)
    except scheduler.SchedulerError as e:
        raise click.ClickException(str(e)) from e
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    counts = outcome.counts
    new_items = f", new items {counts['new_items']}" if "new_items" in counts else ""
    click.echo(f"run {outcome.run_id}: {outcome.status}"
               f" (pages {counts.get('pages', 0)}, reports {counts.get('reports_found', 0)},"
               f" new {counts.get('new_reports', 0)}, new versions {counts.get('new_versions', 0)},"
               f" failures {counts.get('failures', 0)}{new_items}) in {outcome.seconds:.1f}s, mode {mode}"
               + (f": {outcome.detail}" if outcome.detail else ""))
    click.echo(f"log: {scheduler.run_log_path(db, outcome.run_id)}")
    if outcome.status == "interrupted":
        click.echo("interrupted: the next `ogi schedule` start resumes it", err=True)
    if outcome.status in ("failed", "interrupted"):
        sys.exit(1)


def _pick(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if row.get(key) not in (None, ""):
            return row[key]
    return None


def _counts(row: dict[str, Any]) -> dict[str, Any]:
    raw = _pick(row, "counts", "counts_json")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    counts = dict(raw) if isinstance(raw, dict) else {}
    for key in ("pages", "reports_found", "new_reports", "new_versions", "failures"):
        if key not in counts and row.get(key) is not None:
            counts[key] = row[key]
    return counts


def build_status(db: str, config: ScheduleConfig, *, limit: int = 10) -> dict[str, Any]:
    """Everything `ogi status` shows, as one JSON-able object."""
    import scheduler
    from ogi.service import alerts as alert_rules

    status: dict[str, Any] = {"db": db, "timezone": config.timezone}
    holder = scheduler.lock_holder(scheduler.service_lock_path(db))
    status["service"] = {"running": bool(holder), "pid": holder,
                         "run_in_progress_pid": scheduler.lock_holder(scheduler.run_lock_path(db))}
    status["next_runs"] = [{"job": r.id, "mode": r.mode, "next_run": r.next_run.isoformat() if r.next_run else None,
                            "stored": r.stored} for r in scheduler.list_jobs(db, config)]
    status["runs"], status["counts"], status["failing_sources"] = [], {}, []
    if not os.path.exists(db):
        status["error"] = f"no archive at {db} yet"
        return status
    try:
        history = scheduler.RunHistory(db)
    except scheduler.SchedulerError as e:
        status["error"] = str(e)
        return status
    try:
        for row in history.runs(limit=limit):
            counts = _counts(row)
            status["runs"].append({
                "id": _pick(row, "id", "run_id"), "status": row.get("status"), "trigger": row.get("trigger"),
                "started": _pick(row, "started_at", "started"), "finished": _pick(row, "finished_at", "finished"),
                "counts": {k: counts.get(k, 0) for k in ("pages", "reports_found", "new_reports", "new_versions",
                                                         "failures")},
                "mode": counts.get("crawl_mode") or counts.get("mode"),
                "new_items": counts.get("new_items"),
                "detail": row.get("detail") or "",
            })
        status["counts"] = history.counts()
        now = scheduler.utcnow()
        interval = scheduler.schedule_interval(config, now)
        per_source = {s: history.source_history(s, limit=config.alerts.median_window * 2)
                      for s in history.known_sources()}
    finally:
        history.close()
    stale = {a.source for a in alert_rules.stale_sources(per_source, now=now, interval=interval,
                                                        config=config.alerts)}
    for source, results in sorted(per_source.items()):
        latest = results[0] if results else None
        if latest is None:
            continue
        if not alert_rules.is_good(latest) or source in stale:
            last_good = next((r for r in results if alert_rules.is_good(r)), None)
            status["failing_sources"].append({
                "source": source, "last_status": latest.status, "last_run": latest.run_id,
                "stale": source in stale,
                "last_good_run": last_good.run_id if last_good else None,
            })
    state = scheduler.StateStore(scheduler.jobs_path(db)) if scheduler.jobs_path(db).exists() else None
    status["alerts"] = state.recent_alerts(limit) if state else []
    return status


def format_status(status: dict[str, Any]) -> str:
    service = status["service"]
    lines = [f"Archive: {status['db']}"
             + (f"  ({', '.join(f'{k} {v}' for k, v in status['counts'].items())})" if status["counts"] else "")]
    if status.get("error"):
        lines.append(f"  {status['error']}")
    pid = service["pid"]
    lines.append(f"Scheduler: {f'running (pid {pid})' if service['running'] else 'not running'}"
                 + (f"; a run is in progress (pid {service['run_in_progress_pid']})"
                    if service["run_in_progress_pid"] else ""))
    lines.append("Last runs:")
    if not status["runs"]:
        lines.append("  (none)")
    for run in status["runs"]:
        c = run["counts"]
        lines.append(f"  #{run['id']:<4} {run['status'] or '?':<11} {run['started'] or '-':<25} "
                     f"{run['trigger'] or '-':<24} {run.get('mode') or '-':<9} pages {c['pages']}, "
                     f"reports {c['reports_found']}, new {c['new_reports']}, versions {c['new_versions']}, "
                     + (f"new items {run['new_items']}, " if run.get("new_items") is not None else "")
                     + f"failures {c['failures']}"
                     + (f"  — {run['detail']}" if run["detail"] else ""))
    lines.append(f"Next runs ({status['timezone']}):")
    for job in status["next_runs"]:
        lines.append(f"  {job['job']:<20} {job['next_run'] or '-'}  ({job['mode']})")
    lines.append("Failing sources:")
    if not status["failing_sources"]:
        lines.append("  (none)")
    for src in status["failing_sources"]:
        good = src["last_good_run"]
        lines.append(f"  {src['source']}: last run #{src['last_run']} {src['last_status']}"
                     f"{'; STALE' if src['stale'] else ''}; last good run "
                     f"{f'#{good}' if good else 'never'}")
    if status.get("alerts"):
        lines.append("Recent alerts:")
        for alert in status["alerts"]:
            lines.append(f"  {alert['created_at']} [{alert['rule']}] {alert['message']}")
    return "\n".join(lines)


@click.command("status")
@db_option
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--limit", default=10, show_default=True, help="How many recent runs.")
def status(db: str, config_path: str | None, as_json: bool, limit: int) -> None:
    """Show the last runs, the next runs, archive counts and failing sources.

    Example:

        ogi status --db ogi.db
    """
    config = _config(config_path)
    data = build_status(db, config, limit=limit)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(format_status(data))


COMMANDS: list[click.Command] = [schedule, run_now, status]
