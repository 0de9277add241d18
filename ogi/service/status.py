"""What `ogi status` and `ogi schedule --list` show, built from the archive's runs API and the service's files."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ogi.service import alerts as alert_rules
from ogi.service.common import (
    SchedulerError,
    format_delay,
    jobs_path,
    run_lock_path,
    service_lock_path,
    utcnow,
)
from ogi.service.config import ScheduleConfig
from ogi.service.history import all_source_histories, close_quietly, json_dict, open_history
from ogi.service.jobstore import list_jobs
from ogi.service.locks import lock_holder
from ogi.service.runner import schedule_interval
from ogi.service.state import StateStore

if TYPE_CHECKING:  # the archive (sqlite-utils) loads when a command opens one, not at `ogi` start-up
    from archive import Archive

logger = logging.getLogger(__name__)

RUN_COUNTS = ("pages", "reports_found", "new_reports", "new_versions", "failures")
COMPLETENESS_SHOWN = ("declared", "listed", "archived", "missing")  # per source, from Archive.completeness()


def _fmt_time(dt: datetime | None, config: ScheduleConfig) -> str:
    return dt.astimezone(config.tz).strftime("%Y-%m-%d %H:%M %a") if dt else "-"


def format_job_list(db: str, config: ScheduleConfig) -> str:
    """Given the archive and the config, return the table `ogi schedule --list` prints."""
    rows = list_jobs(db, config)
    lines = [f"Jobs for {db} (timezone {config.timezone}; job store {jobs_path(db)})",
             f"{'JOB':<20} {'NEXT RUN':<23} {'MODE':<10} SCHEDULE"]
    for row in rows:
        mark = "" if row.stored else " *"
        lines.append(f"{row.id:<20} {_fmt_time(row.next_run, config) + mark:<23} {row.mode:<10} {row.schedule}")
    if any(not r.stored for r in rows):
        lines.append("* computed from the config: the service has not stored this job yet")
    holder = lock_holder(service_lock_path(db))
    lines.append(f"Service: {f'running (pid {holder})' if holder else 'not running'}")
    return "\n".join(lines)


def run_summary(row: dict[str, Any]) -> dict[str, Any]:
    """Given a row of the archive's `runs()`, return the run as `ogi status` shows it."""
    counts = json_dict(row.get("counts"))
    return {
        "id": row.get("id"), "status": row.get("status"), "trigger": row.get("trigger"),
        "started": row.get("started_at"), "finished": row.get("finished_at"),
        "counts": {k: counts.get(k, 0) for k in RUN_COUNTS},
        "mode": counts.get("crawl_mode") or counts.get("mode"),
        "new_items": counts.get("new_items"),
        "detail": row.get("detail") or "",
    }


def failing_sources(per_source: dict[str, list[alert_rules.SourceResult]], stale: set[str]) -> list[dict[str, Any]]:
    """Given each source's results (newest first) and the stale ones, return those whose last result is not good."""
    out: list[dict[str, Any]] = []
    for source, results in sorted(per_source.items()):
        latest = results[0] if results else None
        if latest is None:
            continue
        if not alert_rules.is_good(latest) or source in stale:
            last_good = next((r for r in results if alert_rules.is_good(r)), None)
            out.append({
                "source": source, "last_status": latest.status, "last_run": latest.run_id,
                "stale": source in stale,
                "last_good_run": last_good.run_id if last_good else None,
            })
    return out


def completeness(arc: Archive) -> dict[str, Any] | None:
    """Given the archive, return the completeness of its last run with per-source results (declared / listed /
    archived / missing and ok|partial|unknown per source), or None when the archive does not record it."""
    try:
        data = arc.completeness()
    except Exception as e:  # a status must show, whatever one part of it does
        logger.warning("Could not read the completeness of the last run: %s", e)
        return None
    if data.get("run_id") is None:
        return None
    sources = [{"source": str(src.get("source") or ""), **{k: src.get(k) for k in COMPLETENESS_SHOWN},
                "completeness": str(src.get("completeness") or "unknown")}
               for src in data.get("sources") or []]
    return {"run_id": data.get("run_id"), "status": str(data.get("status") or "unknown"), "sources": sources}


def integrity(arc: Archive) -> dict[str, Any]:
    """Given the archive, return its own integrity check (`ok`, `problems`, ...), or one that says it has none."""
    check = getattr(arc, "integrity", None)
    if not callable(check):
        return {"ok": None, "problems": [], "available": False}
    try:
        result = dict(check())
    except Exception as e:  # the check itself failed: that is a problem to report, not a traceback
        return {"ok": False, "problems": [f"the integrity check failed: {e}"], "available": True}
    result["ok"] = bool(result.get("ok"))
    result["problems"] = [str(p) for p in result.get("problems") or []]
    result["available"] = True
    return result


def build_status(db: str, config: ScheduleConfig, *, limit: int = 10, check: bool = False) -> dict[str, Any]:
    """Given the archive and the config, return everything `ogi status` shows, as one JSON-able object
    (`check`: with the archive's integrity check)."""
    status: dict[str, Any] = {"db": db, "timezone": config.timezone}
    holder = lock_holder(service_lock_path(db))
    status["service"] = {"running": bool(holder), "pid": holder,
                         "run_in_progress_pid": lock_holder(run_lock_path(db))}
    status["next_runs"] = [{"job": r.id, "mode": r.mode, "next_run": r.next_run.isoformat() if r.next_run else None,
                            "stored": r.stored} for r in list_jobs(db, config)]
    status["runs"], status["counts"], status["failing_sources"] = [], {}, []
    if not os.path.exists(db):
        status["error"] = f"no archive at {db} yet"
        return status
    try:
        arc = open_history(db, readonly=True)  # a read command: never creates or migrates the file
    except SchedulerError as e:
        status["error"] = str(e)
        return status
    try:
        status["runs"] = [run_summary(dict(row)) for row in arc.runs(limit=limit)]
        status["counts"] = {k: int(v) for k, v in arc.counts().items()}
        now = utcnow()
        interval = schedule_interval(config, now)
        per_source = all_source_histories(arc, limit=config.alerts.median_window * 2)
        status["completeness"] = completeness(arc)
        if check:
            status["integrity"] = integrity(arc)
    finally:
        close_quietly(arc)
    stale = {a.source for a in alert_rules.stale_sources(per_source, now=now, interval=interval,
                                                        config=config.alerts) if a.source}
    status["failing_sources"] = failing_sources(per_source, stale)
    state = StateStore(jobs_path(db)) if jobs_path(db).exists() else None
    status["alerts"] = state.recent_alerts(limit) if state else []
    status["missed"] = state.recent_missed(limit) if state else []
    return status


def _run_line(run: dict[str, Any]) -> str:
    c = run["counts"]
    return (f"  #{run['id']:<4} {run['status'] or '?':<11} {run['started'] or '-':<25} "
            f"{run['trigger'] or '-':<24} {run.get('mode') or '-':<9} pages {c['pages']}, "
            f"reports {c['reports_found']}, new {c['new_reports']}, versions {c['new_versions']}, "
            + (f"new items {run['new_items']}, " if run.get("new_items") is not None else "")
            + f"failures {c['failures']}"
            + (f"  — {run['detail']}" if run["detail"] else ""))


def format_status(status: dict[str, Any]) -> str:
    """Given `build_status`'s object, return the text `ogi status` prints."""
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
    lines.extend(_run_line(run) for run in status["runs"])
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
    lines.extend(_completeness_lines(status.get("completeness")))
    if status.get("missed"):
        lines.append("Missed runs (later than their misfire grace; the next run did the work):")
        for miss in status["missed"]:
            lines.append(f"  {miss['job_id']:<20} due {miss['scheduled_at']}, {format_delay(miss['late_seconds'])} "
                         f"late (grace {format_delay(miss['grace_seconds'] or 0)})")
    if "integrity" in status:
        lines.extend(_integrity_lines(status["integrity"]))
    if status.get("alerts"):
        lines.append("Recent alerts:")
        for alert in status["alerts"]:
            lines.append(f"  {alert['created_at']} [{alert['rule']}] {alert['message']}")
    return "\n".join(lines)


def _completeness_lines(comp: dict[str, Any] | None) -> list[str]:
    if not comp:
        return []
    lines = [f"Completeness of run #{comp['run_id']}: {comp['status']}"]
    for src in comp["sources"]:
        shown = ", ".join(f"{k} {'?' if src.get(k) is None else src[k]}" for k in COMPLETENESS_SHOWN)
        lines.append(f"  {src['source']}: {shown} — {src['completeness']}")
    return lines


def _integrity_lines(result: dict[str, Any]) -> list[str]:
    if not result.get("available"):
        return ["Integrity: this archive has no integrity check"]
    if result["ok"]:
        return ["Integrity: ok"]
    return [f"Integrity: {len(result['problems'])} problem(s)"] + [f"  {p}" for p in result["problems"]]
