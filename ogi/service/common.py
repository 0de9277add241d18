"""What every part of the service shares: its errors, the files beside the archive, timestamps, SQLite.

Files beside the archive `<db>`:
- `<db>.jobs.sqlite`: the job store (`apscheduler_jobs`) and the service's state (`scheduler_runs`, `scheduler_alerts`);
- `<db>.scheduler.lock`: held while a service runs;
- `<db>.run.lock`: held during a run (also across `ogi run-now`);
- `<db>.runs/run-<id>.log`: each run's crawl output.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.2


class SchedulerError(RuntimeError):
    """The service cannot do what was asked (locked, misconfigured, archive unusable)."""


class LockedError(SchedulerError):
    """Another process holds the lock."""


def jobs_path(db: str | os.PathLike[str]) -> Path:
    """Given the archive path, return the SQLite job store beside it: `<db>.jobs.sqlite`."""
    return Path(f"{os.fspath(db)}.jobs.sqlite")


def service_lock_path(db: str | os.PathLike[str]) -> Path:
    """Given the archive path, return the service lock file: `<db>.scheduler.lock`."""
    return Path(f"{os.fspath(db)}.scheduler.lock")


def run_lock_path(db: str | os.PathLike[str]) -> Path:
    """Given the archive path, return the run lock file: `<db>.run.lock`."""
    return Path(f"{os.fspath(db)}.run.lock")


def run_log_path(db: str | os.PathLike[str], run_id: int) -> Path:
    """Given the archive path and a run id, return that run's crawl log: `<db>.runs/run-<id>.log`."""
    return Path(f"{os.fspath(db)}.runs") / f"run-{run_id}.log"


def utcnow() -> datetime:
    """Given nothing, return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """Given a datetime (or None), return it as UTC ISO text to the second (or None)."""
    return dt.astimezone(UTC).isoformat(timespec="seconds") if dt else None


def format_delay(seconds: float) -> str:
    """Given a delay in seconds, return it for a log line: `5h 01m`, `3d 2h`, `42s`."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def parse_time(value: Any) -> datetime | None:
    """Given a stored timestamp (ISO text, epoch number or datetime), return it aware (naive values are UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def connect(path: Path) -> sqlite3.Connection:
    """Given a path of one of the service's own SQLite files, return an autocommit WAL connection (rows by name)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.row_factory = sqlite3.Row
    return conn
