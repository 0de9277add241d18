"""The yearly refresh service: APScheduler 3.x jobs that run `ogi crawl` in a subprocess.

Run it with `python scheduler.py [--db PATH] [--config PATH]` or `ogi schedule`. Files beside the archive:
- `<db>.jobs.sqlite`: the persistent job store (`apscheduler_jobs`) and the service's own state
  (`scheduler_runs`: every run the service started, for resume; `scheduler_alerts`: delivered alerts);
- `<db>.scheduler.lock`: held while a service runs (a second service on the same archive refuses to start);
- `<db>.run.lock`: held during a run (at most one run at a time, also across `ogi run-now`);
- `<db>.runs/run-<id>.log`: each run's crawl output.

A run: take the run lock, create a run row in the archive (`start_run`), execute the crawl command with
`--run-id`, enforce the hard time limit (SIGTERM, then SIGKILL), classify the outcome
(ok / failed / empty / suspect, ogi/service/alerts.py), `finish_run` with the counts, deliver alerts.
SIGTERM (or Ctrl-C) stops the service: a running crawl gets SIGTERM so it can stop cleanly, its run is
recorded `interrupted`, and the next start resumes it under the same run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

from ogi.service import alerts as alert_rules
from ogi.service.alerts import Alert, SourceResult
from ogi.commands.crawl import MODES as CRAWL_MODES
from ogi.service.config import JobConfig, ScheduleConfig, load_config

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent
HEALTH_JOB_ID = "health-check"
RESUME_PREFIX = "resume-"
MAX_ATTEMPTS = 3
POLL_SECONDS = 0.2
CARRIED_COUNTS = ("pages", "new_reports", "new_versions", "failures", "new_items")
CRAWL_COUNTS = ("new_items", "known_items")  # what the crawl alone knows (light mode), copied into the run counts


class SchedulerError(RuntimeError):
    """The service cannot do what was asked (locked, misconfigured, archive unusable)."""


class LockedError(SchedulerError):
    """Another process holds the lock."""


# ---------------------------------------------------------------------------------------------- paths


def jobs_path(db: str | os.PathLike[str]) -> Path:
    """The SQLite job store beside the archive: `<db>.jobs.sqlite`."""
    return Path(f"{os.fspath(db)}.jobs.sqlite")


def service_lock_path(db: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(db)}.scheduler.lock")


def run_lock_path(db: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(db)}.run.lock")


def run_log_path(db: str | os.PathLike[str], run_id: int) -> Path:
    return Path(f"{os.fspath(db)}.runs") / f"run-{run_id}.log"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat(timespec="seconds") if dt else None


def parse_time(value: Any) -> datetime | None:
    """Parse a stored timestamp (ISO text, epoch number or datetime); naive values are UTC."""
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


# ---------------------------------------------------------------------------------------------- locks


class FileLock:
    """An exclusive `flock` on a file; released by the kernel if the process dies (no stale locks)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self, *, blocking: bool = False, stop: threading.Event | None = None) -> None:
        """Take the lock; raise LockedError (naming the holder's pid) when it is held and not blocking."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not blocking or (stop is not None and stop.is_set()):
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                    os.close(fd)
                    raise LockedError(f"{self.what} is held by process {holder} ({self.path})") from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(path: Path) -> int | None:
    """The pid holding a FileLock, or None when nobody holds it."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------- job store


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.row_factory = sqlite3.Row
    return conn


class SQLiteJobStore(BaseJobStore):
    """APScheduler 3.x job store in a plain SQLite file (the same table layout as SQLAlchemyJobStore)."""

    def __init__(self, path: str | os.PathLike[str], tablename: str = "apscheduler_jobs") -> None:
        super().__init__()
        self.path = Path(path)
        self.tablename = tablename
        self.pickle_protocol = pickle.HIGHEST_PROTOCOL
        self._ensure()

    def _ensure(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(_connect(self.path)) as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.tablename} "
                         "(id TEXT PRIMARY KEY, next_run_time REAL, job_state BLOB NOT NULL)")
            conn.execute(f"CREATE INDEX IF NOT EXISTS ix_{self.tablename}_next ON {self.tablename} (next_run_time)")

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = _connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def lookup_job(self, job_id: str) -> Job | None:
        with self._conn() as conn:
            row = conn.execute(f"SELECT job_state FROM {self.tablename} WHERE id = ?", (job_id,)).fetchone()
        return self._reconstitute_job(row[0]) if row else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return self._get_jobs("WHERE next_run_time <= ?", (datetime_to_utc_timestamp(now),))

    def get_next_run_time(self) -> datetime | None:
        with self._conn() as conn:
            row = conn.execute(f"SELECT next_run_time FROM {self.tablename} WHERE next_run_time IS NOT NULL "
                               "ORDER BY next_run_time LIMIT 1").fetchone()
        return utc_timestamp_to_datetime(row[0]) if row else None

    def get_all_jobs(self) -> list[Job]:
        jobs = self._get_jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        state = pickle.dumps(job.__getstate__(), self.pickle_protocol)
        with self._conn() as conn:
            try:
                conn.execute(f"INSERT INTO {self.tablename} (id, next_run_time, job_state) VALUES (?, ?, ?)",
                             (job.id, datetime_to_utc_timestamp(job.next_run_time), state))
            except sqlite3.IntegrityError:
                raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        state = pickle.dumps(job.__getstate__(), self.pickle_protocol)
        with self._conn() as conn:
            cur = conn.execute(f"UPDATE {self.tablename} SET next_run_time = ?, job_state = ? WHERE id = ?",
                               (datetime_to_utc_timestamp(job.next_run_time), state, job.id))
        if cur.rowcount == 0:
            raise JobLookupError(job.id)

    def remove_job(self, job_id: str) -> None:
        with self._conn() as conn:
            cur = conn.execute(f"DELETE FROM {self.tablename} WHERE id = ?", (job_id,))
        if cur.rowcount == 0:
            raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        with self._conn() as conn:
            conn.execute(f"DELETE FROM {self.tablename}")

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state = pickle.loads(job_state)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _get_jobs(self, where: str = "", params: tuple[Any, ...] = ()) -> list[Job]:
        jobs: list[Job] = []
        failed: list[str] = []
        with self._conn() as conn:
            rows = conn.execute(f"SELECT id, job_state FROM {self.tablename} {where} "
                                "ORDER BY next_run_time IS NULL, next_run_time", params).fetchall()
            for row in rows:
                try:
                    jobs.append(self._reconstitute_job(row["job_state"]))
                except Exception:
                    self._logger.exception("Unable to restore job %r; removing it", row["id"])
                    failed.append(row["id"])
            for job_id in failed:
                conn.execute(f"DELETE FROM {self.tablename} WHERE id = ?", (job_id,))
        return jobs

    def stored_next_run_times(self) -> dict[str, datetime | None]:
        """job id -> next run time, read without unpickling (for `ogi schedule --list` beside a live service)."""
        with self._conn() as conn:
            rows = conn.execute(f"SELECT id, next_run_time FROM {self.tablename}").fetchall()
        return {r["id"]: utc_timestamp_to_datetime(r["next_run_time"]) for r in rows}

    def __repr__(self) -> str:
        return f"<SQLiteJobStore ({self.path})>"


# ---------------------------------------------------------------------------------------------- state


class StateStore:
    """The service's own tables in `<db>.jobs.sqlite`: the runs it started (for resume) and sent alerts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript("""
                CREATE TABLE IF NOT EXISTS scheduler_runs (
                    run_id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, mode TEXT NOT NULL, sources TEXT NOT NULL,
                    trigger TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
                    pid INTEGER, started_at TEXT NOT NULL, finished_at TEXT, exit_code INTEGER,
                    status TEXT, detail TEXT, carried TEXT);
                CREATE TABLE IF NOT EXISTS scheduler_alerts (
                    key TEXT PRIMARY KEY, rule TEXT NOT NULL, source TEXT, run_id INTEGER, message TEXT NOT NULL,
                    created_at TEXT NOT NULL, channels TEXT NOT NULL);
            """)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = _connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def run_started(self, run_id: int, *, job_id: str, mode: str, sources: Sequence[str], trigger: str) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO scheduler_runs (run_id, job_id, mode, sources, trigger, state, started_at) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?) ON CONFLICT(run_id) DO UPDATE SET state = 'running', "
                "attempts = attempts + 1, finished_at = NULL, exit_code = NULL, status = NULL, detail = NULL",
                (run_id, job_id, mode, json.dumps(list(sources)), trigger, _iso(utcnow())))

    def carry(self, run_id: int, counts: dict[str, Any]) -> None:
        """Keep an interrupted attempt's counts, so the resumed run's totals include them."""
        with self._conn() as conn:
            conn.execute("UPDATE scheduler_runs SET carried = ? WHERE run_id = ?", (json.dumps(counts), run_id))

    def carried(self, run_id: int) -> dict[str, Any]:
        row = self.get(run_id)
        return json.loads(row["carried"]) if row and row.get("carried") else {}

    def run_pid(self, run_id: int, pid: int | None) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE scheduler_runs SET pid = ? WHERE run_id = ?", (pid, run_id))

    def run_finished(self, run_id: int, *, state: str, status: str, exit_code: int | None, detail: str) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE scheduler_runs SET state = ?, status = ?, exit_code = ?, detail = ?, "
                         "finished_at = ?, pid = NULL WHERE run_id = ?",
                         (state, status, exit_code, detail, _iso(utcnow()), run_id))

    def pending(self) -> list[dict[str, Any]]:
        """Runs to resume: interrupted by a stop, or left 'running' by a crash (call with the run lock held)."""
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM scheduler_runs WHERE state IN ('interrupted', 'running') "
                                "ORDER BY run_id").fetchall()
        return [dict(r) for r in rows]

    def get(self, run_id: int) -> dict[str, Any] | None:
        with self._conn() as conn:
            row = conn.execute("SELECT * FROM scheduler_runs WHERE run_id = ?", (run_id,)).fetchone()
        return dict(row) if row else None

    def recent(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM scheduler_runs ORDER BY run_id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    def alert_seen(self, key: str) -> bool:
        with self._conn() as conn:
            return conn.execute("SELECT 1 FROM scheduler_alerts WHERE key = ?", (key,)).fetchone() is not None

    def alert_sent(self, alert: Alert, channels: Sequence[str]) -> None:
        with self._conn() as conn:
            conn.execute("INSERT OR REPLACE INTO scheduler_alerts (key, rule, source, run_id, message, created_at, "
                         "channels) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (alert.key, alert.rule, alert.source, alert.run_id, alert.message, _iso(utcnow()),
                          ",".join(channels)))

    def recent_alerts(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM scheduler_alerts ORDER BY created_at DESC, rowid DESC LIMIT ?",
                                (limit,)).fetchall()
        return [dict(r) for r in rows]


# ---------------------------------------------------------------------------------------------- history


def _find_table(db: Any, columns: set[str]) -> str | None:
    """The first table of a sqlite_utils Database that has all `columns` (the archive owns the names)."""
    for table in db.tables:
        if table.name.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")):
            continue
        if columns <= set(table.columns_dict):
            return table.name
    return None


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _json_dict(value: Any) -> dict[str, Any]:
    """A JSON object column (the run's counts) as a dict; {} for anything else."""
    if isinstance(value, dict):
        return value
    try:
        data = json.loads(value) if isinstance(value, str | bytes) else None
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _source_result(row: dict[str, Any]) -> SourceResult:
    finished = None
    for key in ("finished_at", "finished", "ended_at", "recorded_at", "run_finished_at", "started_at", "started"):
        finished = parse_time(row.get(key))
        if finished:
            break
    return SourceResult(
        run_id=_int(row.get("run_id")),
        source=str(row.get("source") or ""),
        status=str(row.get("status") or "ok"),
        reports_found=_int(row.get("reports_found")),
        pages=_int(row.get("pages")),
        failures=_int(row.get("failures")),
        finished_at=finished,
    )


class RunHistory:
    """The run history in the archive, through its API (`start_run`, `finish_run`, `source_history`, …)."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        try:
            from archive import open_archive
        except ImportError as e:  # pragma: no cover - the archive package ships with the project
            raise SchedulerError(f"The archive package is not available: {e}") from e
        try:
            self.arc = open_archive(os.fspath(db_path))
        except Exception as e:
            raise SchedulerError(f"Cannot open the archive {db_path}: {e}") from e

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.arc.close()

    def start_run(self, *, trigger: str, sources: Sequence[str]) -> int:
        return int(self.arc.start_run(kind="crawl", trigger=trigger, sources=list(sources) or None))

    def finish_run(self, run_id: int, *, status: str, counts: dict[str, Any], detail: str) -> None:
        self.arc.finish_run(run_id, status=status, counts=counts, detail=detail)

    def set_running(self, run_id: int) -> None:
        """Mark a resumed run running again (the archive API has no call for it; update its runs table)."""
        table = _find_table(self.arc.db, {"id", "status", "trigger"})
        if table:
            self.arc.db[table].update(run_id, {"status": "running"})

    def run(self, run_id: int) -> dict[str, Any] | None:
        """The archive's run row (status and detail as the crawl left them)."""
        table = _find_table(self.arc.db, {"id", "status", "trigger"})
        if table is None:
            return None
        rows = list(self.arc.db.query(f"SELECT * FROM [{table}] WHERE id = ?", [run_id]))
        return rows[0] if rows else None

    def source_rows(self, run_id: int) -> list[dict[str, Any]]:
        """The per-source result rows the crawl recorded for a run (`record_source_result`)."""
        getter = getattr(self.arc, "source_results", None)
        if callable(getter):
            return [dict(r) for r in getter(run_id)]
        table = _find_table(self.arc.db, {"run_id", "source", "reports_found"})
        if table is None:
            return []
        return [dict(r) for r in self.arc.db.query(f"SELECT * FROM [{table}] WHERE run_id = ?", [run_id])]

    def failures_by_reason(self, run_id: int) -> dict[str, int]:
        table = _find_table(self.arc.db, {"run_id", "url", "reason"})
        if table is None:
            return {}
        rows = self.arc.db.query(f"SELECT reason, count(*) AS n FROM [{table}] WHERE run_id = ? GROUP BY reason "
                                 "ORDER BY n DESC", [run_id])
        return {str(r["reason"]): int(r["n"]) for r in rows}

    def source_history(self, source: str, *, limit: int, before_run: int | None = None) -> list[SourceResult]:
        """The source's results, newest first (excluding `before_run` and later)."""
        rows = [_source_result(dict(r)) for r in self.arc.source_history(source, limit=limit + 5)]
        if before_run is not None:
            rows = [r for r in rows if r.run_id < before_run]
        rows.sort(key=lambda r: r.run_id, reverse=True)
        return rows[:limit]

    def known_sources(self) -> list[str]:
        table = _find_table(self.arc.db, {"run_id", "source", "reports_found"})
        if table is None:
            return []
        return [r["source"] for r in self.arc.db.query(f"SELECT DISTINCT source FROM [{table}] ORDER BY source")]

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        return [dict(r) for r in self.arc.runs(limit=limit)]

    def counts(self) -> dict[str, int]:
        """Row counts of the archive's main tables."""
        counter = getattr(self.arc, "counts", None)
        if callable(counter):
            return {k: int(v) for k, v in counter().items()}
        out: dict[str, int] = {}
        names = set(self.arc.db.table_names())
        for name in ("documents", "reports", "report_versions", "versions", "runs", "failures", "fetch_failures"):
            if name in names:
                out[name] = self.arc.db[name].count
        return out


# ---------------------------------------------------------------------------------------------- runner


def default_crawl_command() -> list[str]:
    """This Python's `ogi crawl` (works without the console script being on PATH)."""
    return [sys.executable, "-c", "import sys; from ogi.cli import main; sys.argv[0] = 'ogi'; main()",
            "crawl", "--db", "{db}", "--run-id", "{run_id}", "--trigger", "{trigger}"]


@dataclass
class RunRequest:
    """What to run: the job it belongs to, its mode, and the sources (empty = all)."""

    job_id: str
    mode: str = "full"
    sources: tuple[str, ...] = ()
    trigger: str = ""

    def __post_init__(self) -> None:
        if not self.trigger:
            self.trigger = f"schedule:{self.job_id}"


@dataclass
class RunOutcome:
    """How a run ended."""

    run_id: int
    status: str
    detail: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    counts: dict[str, Any] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    seconds: float = 0.0


class Runner:
    """Executes runs: one at a time per archive, each crawl in a subprocess with a hard time limit."""

    def __init__(self, db: str | os.PathLike[str], config: ScheduleConfig, *,
                 stop: threading.Event | None = None,
                 history_factory: Callable[[str], RunHistory] | None = None) -> None:
        self.db = os.fspath(db)
        self.config = config
        self.stop = stop or threading.Event()
        self.history_factory = history_factory or RunHistory
        self.state = StateStore(jobs_path(self.db))
        self.run_lock = FileLock(run_lock_path(self.db), "the run lock")
        self._stop_sent_at: datetime | None = None

    # -- command line

    def command(self, request: RunRequest, run_id: int) -> list[str]:
        template = list(self.config.crawl_command or default_crawl_command())
        values = {"python": sys.executable, "db": self.db, "run_id": str(run_id), "trigger": request.trigger,
                  "mode": request.mode}
        argv = [part.format(**values) for part in template]
        extra = list(self.config.modes.get(request.mode, ()))
        if (self.config.crawl_command is None and request.mode in CRAWL_MODES
                and not any(a == "--mode" or a.startswith("--mode=") for a in extra)):
            extra = ["--mode", request.mode, *extra]  # a config written before `ogi crawl --mode` existed
        argv += extra
        for source in request.sources:
            argv += ["--source", source]
        return argv

    # -- public

    def run(self, request: RunRequest, *, wait_for_lock: bool = True, resume_run_id: int | None = None) -> RunOutcome:
        """Run one crawl through the full path; never raises for a crawl that goes wrong."""
        try:
            self.run_lock.acquire(blocking=wait_for_lock, stop=self.stop)
        except LockedError as e:
            raise SchedulerError(f"Another run is in progress: {e}") from e
        try:
            return self._run_locked(request, resume_run_id=resume_run_id)
        except Exception as e:  # an archive or state error: a failed run, never a traceback for the user
            logger.exception("Run of %s failed unexpectedly", request.job_id)
            return RunOutcome(run_id=resume_run_id or 0, status="failed", detail=f"scheduler error: {e}")
        finally:
            self.run_lock.release()

    def resume_pending(self) -> list[RunOutcome]:
        """Resume every run a stop or crash left unfinished, under its own run id."""
        outcomes: list[RunOutcome] = []
        try:
            self.run_lock.acquire(blocking=True, stop=self.stop)
        except LockedError:
            return outcomes
        try:
            for row in self.state.pending():
                if self.stop.is_set():
                    break
                request = RunRequest(job_id=row["job_id"], mode=row["mode"],
                                     sources=tuple(json.loads(row["sources"])), trigger=row["trigger"])
                if row["attempts"] >= MAX_ATTEMPTS:
                    logger.error("Run %d was interrupted %d times; giving up on it", row["run_id"], row["attempts"])
                    outcomes.append(self._give_up(row))
                    continue
                logger.info("Resuming run %d (%s, attempt %d)", row["run_id"], row["job_id"], row["attempts"] + 1)
                outcomes.append(self._run_locked(request, resume_run_id=row["run_id"]))
        finally:
            self.run_lock.release()
        return outcomes

    # -- internals

    def _give_up(self, row: dict[str, Any]) -> RunOutcome:
        run_id = int(row["run_id"])
        detail = f"interrupted {row['attempts']} times; not resumed again"
        self.state.run_finished(run_id, state="done", status="failed", exit_code=None, detail=detail)
        outcome = RunOutcome(run_id=run_id, status="failed", detail=detail)
        with contextlib.suppress(SchedulerError):
            history = self.history_factory(self.db)
            try:
                history.finish_run(run_id, status="failed", counts={}, detail=detail)
            finally:
                history.close()
        self._alert(outcome.alerts, Alert("failed", f"run {run_id} failed: {detail}", run_id=run_id,
                                          severity="error"))
        return outcome

    def _run_locked(self, request: RunRequest, *, resume_run_id: int | None) -> RunOutcome:
        started = time.monotonic()
        try:
            history = self.history_factory(self.db)
        except SchedulerError as e:
            logger.error("Run of %s not started: %s", request.job_id, e)
            outcome = RunOutcome(run_id=resume_run_id or 0, status="failed", detail=str(e))
            self._alert(outcome.alerts, Alert("failed", f"run of {request.job_id} could not start: {e}",
                                              run_id=resume_run_id, severity="error"))
            return outcome
        try:
            if resume_run_id is None:
                run_id = history.start_run(trigger=request.trigger, sources=request.sources)
            else:
                run_id = resume_run_id
                history.set_running(run_id)
            self.state.run_started(run_id, job_id=request.job_id, mode=request.mode, sources=request.sources,
                                   trigger=request.trigger)
            logger.info("Run %d started (%s, mode %s, sources %s)", run_id, request.trigger, request.mode,
                        ", ".join(request.sources) or "all")
            exit_code, timed_out, interrupted = self._execute(request, run_id)
            outcome = self._finish(history, request, run_id, exit_code, timed_out, interrupted)
        finally:
            history.close()
        outcome.seconds = round(time.monotonic() - started, 3)
        logger.info("Run %d ended: %s in %.1fs %s", run_id, outcome.status, outcome.seconds, outcome.detail)
        return outcome

    def _execute(self, request: RunRequest, run_id: int) -> tuple[int | None, bool, bool]:
        """Run the crawl subprocess; return (exit code, timed out, interrupted by a stop)."""
        argv = self.command(request, run_id)
        self._stop_sent_at = None
        log_path = run_log_path(self.db, run_id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        env.setdefault("PYTHONUNBUFFERED", "1")
        deadline = time.monotonic() + self.config.run_timeout_minutes * 60
        with open(log_path, "ab") as log:
            log.write(f"--- {_iso(utcnow())} run {run_id}: {' '.join(argv)}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, start_new_session=True)
            except OSError as e:
                log.write(f"cannot start the crawl: {e}\n".encode())
                logger.error("Run %d: cannot start %s: %s", run_id, argv[0], e)
                return 127, False, False
            self.state.run_pid(run_id, proc.pid)
            timed_out = interrupted = False
            while True:
                try:
                    code = proc.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if self.stop.is_set():
                    self._stop_sent_at = utcnow()
                    logger.warning("Run %d: stopping the crawl (pid %d) so it can resume later", run_id, proc.pid)
                    interrupted = True
                    code = self._terminate(proc)
                    break
                if time.monotonic() > deadline:
                    logger.error("Run %d: the crawl exceeded %g minutes; stopping it", run_id,
                                 self.config.run_timeout_minutes)
                    timed_out = True
                    code = self._terminate(proc)
                    break
            log.write(f"--- {_iso(utcnow())} exit {code}{' (timeout)' if timed_out else ''}"
                      f"{' (stopped)' if interrupted else ''}\n".encode())
        return code, timed_out, interrupted

    def _terminate(self, proc: subprocess.Popen[bytes]) -> int | None:
        """SIGTERM the crawl's process group (Scrapy stops cleanly), SIGKILL after the grace period."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            return proc.wait(timeout=self.config.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            logger.warning("The crawl (pid %d) did not stop in %gs; killing it", proc.pid,
                           self.config.stop_grace_seconds)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait()

    def _finish(self, history: RunHistory, request: RunRequest, run_id: int, exit_code: int | None,
                timed_out: bool, interrupted: bool) -> RunOutcome:
        rows = history.source_rows(run_id)
        results = [_source_result(r) for r in rows]
        counts: dict[str, Any] = {
            "pages": sum(r.pages for r in results),
            "reports_found": sum(r.reports_found for r in results),
            "new_reports": sum(_int(r.get("new_reports")) for r in rows),
            "new_versions": sum(_int(r.get("new_versions")) for r in rows),
            "failures": sum(r.failures for r in results),
            "failures_by_reason": history.failures_by_reason(run_id),
            "sources": {r.source: r.status for r in results},
            "exit_code": exit_code,
            "job": request.job_id,
            "mode": request.mode,
        }
        crawl_row = history.run(run_id) or {}
        crawl_counts = _json_dict(crawl_row.get("counts"))
        counts.update({k: _int(crawl_counts[k]) for k in CRAWL_COUNTS if k in crawl_counts})
        if crawl_counts.get("mode"):
            counts["crawl_mode"] = str(crawl_counts["mode"])  # the crawl's own --mode (the job's mode is "mode")
        carried = self.state.carried(run_id)
        for key in CARRIED_COUNTS:
            if key in counts or key in carried:
                counts[key] = _int(counts.get(key)) + _int(carried.get(key))
        crawl_status, crawl_detail = str(crawl_row.get("status") or ""), str(crawl_row.get("detail") or "")
        finished_at = parse_time(crawl_row.get("finished_at"))
        if (interrupted and crawl_status in alert_rules.SEVERITY and finished_at is not None
                and self._stop_sent_at is not None and finished_at <= self._stop_sent_at):
            # the crawl had recorded its end before it was asked to stop: the work is complete
            logger.info("Run %d had finished its work (%s) before the stop", run_id, crawl_status)
            interrupted, exit_code = False, 0
        if interrupted:
            detail = "stopped by the service; resumes on the next start"
            history.finish_run(run_id, status="interrupted", counts=counts, detail=detail)
            self.state.carry(run_id, {k: counts[k] for k in CARRIED_COUNTS if k in counts})
            self.state.run_finished(run_id, state="interrupted", status="interrupted", exit_code=exit_code,
                                    detail=detail)
            return RunOutcome(run_id, "interrupted", detail, exit_code, interrupted=True, counts=counts)
        past = {r.source: history.source_history(r.source, limit=self.config.alerts.median_window * 2,
                                                 before_run=run_id) for r in results}
        status, detail = alert_rules.classify_run(exit_code=exit_code, timed_out=timed_out, results=results,
                                                  history=past, config=self.config.alerts)
        if crawl_status == "interrupted" and status != "failed":
            status, detail = "failed", f"the crawl stopped early ({crawl_detail or 'interrupted'})"
        elif crawl_status in alert_rules.SEVERITY and alert_rules.worst(status, crawl_status) != status:
            status, detail = crawl_status, crawl_detail or f"the crawl judged the run {crawl_status}"
        if not detail and crawl_detail:
            detail = crawl_detail
        history.finish_run(run_id, status=status, counts=counts, detail=detail)
        self.state.run_finished(run_id, state="done", status=status, exit_code=exit_code, detail=detail)
        outcome = RunOutcome(run_id, status, detail, exit_code, timed_out=timed_out, counts=counts)
        for alert in alert_rules.run_alerts(run_id=run_id, status=status, detail=detail, results=results,
                                            history=past, config=self.config.alerts):
            self._alert(outcome.alerts, alert)
        return outcome

    def _alert(self, sink: list[Alert], alert: Alert) -> None:
        sink.append(alert)
        if self.state.alert_seen(alert.key):
            logger.info("Alert %s already delivered", alert.key)
            return
        channels = alert_rules.deliver(alert, self.config.alerts)
        self.state.alert_sent(alert, channels)

    def check_stale(self, *, now: datetime | None = None) -> list[Alert]:
        """The `stale` rule over every known source; deliver new alerts."""
        now = now or utcnow()
        interval = schedule_interval(self.config, now)
        try:
            history = self.history_factory(self.db)
        except SchedulerError as e:
            logger.error("Health check: %s", e)
            return []
        try:
            per_source = {s: history.source_history(s, limit=self.config.alerts.median_window * 2)
                          for s in history.known_sources()}
        finally:
            history.close()
        out: list[Alert] = []
        for alert in alert_rules.stale_sources(per_source, now=now, interval=interval, config=self.config.alerts):
            self._alert(out, alert)
        return out


def schedule_interval(config: ScheduleConfig, now: datetime) -> timedelta:
    """The current spacing of runs: the gap between the two latest scheduled fire times before `now`."""
    tz = config.tz
    start = now.astimezone(tz) - timedelta(days=400)
    times = sorted({t for job in config.jobs for t in job.fire_times(tz, start, now.astimezone(tz))})
    if len(times) < 2:
        return timedelta(days=31)
    return times[-1] - times[-2]


# ---------------------------------------------------------------------------------------------- service

_SERVICE: Service | None = None


def run_scheduled(job_id: str) -> None:
    """The function every persisted job calls (by its textual reference `scheduler:run_scheduled`)."""
    service = _SERVICE
    if service is None:
        logger.error("Job %s fired with no service running; ignored", job_id)
        return
    service.run_job(job_id)


def run_resume() -> None:
    service = _SERVICE
    if service is not None:
        service.runner.resume_pending()


def run_health_check() -> None:
    service = _SERVICE
    if service is not None:
        service.runner.check_stale()


class Service:
    """The scheduler service for one archive."""

    def __init__(self, db: str | os.PathLike[str], config: ScheduleConfig | None = None, *,
                 history_factory: Callable[[str], RunHistory] | None = None) -> None:
        self.db = os.fspath(db)
        self.config = config or load_config()
        self.stop = threading.Event()
        self.runner = Runner(self.db, self.config, stop=self.stop, history_factory=history_factory)
        self.lock = FileLock(service_lock_path(self.db), "the scheduler lock")
        self.jobstore = SQLiteJobStore(jobs_path(self.db))
        self.scheduler: BackgroundScheduler | None = None
        self.missed: list[str] = []

    def build_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            jobstores={"memory": MemoryJobStore(), "default": self.jobstore},  # memory first: resumes go first
            executors={"default": ThreadPoolExecutor(1), "checks": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.config.misfire_grace_hours * 3600)},
            timezone=self.config.tz,
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        return scheduler

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.missed.append(event.job_id)
            logger.warning("Job %s missed its run at %s (later than its misfire grace); the next run does the work",
                           event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            logger.error("Job %s raised %r", event.job_id, event.exception)

    def reconcile(self, scheduler: BackgroundScheduler) -> None:
        """Make the stored jobs match the config, keeping next run times (and so missed runs) of unchanged jobs."""
        wanted = {job.id: job for job in self.config.jobs}
        for stored in scheduler.get_jobs(jobstore="default"):
            if stored.id not in wanted and stored.id != HEALTH_JOB_ID:
                logger.info("Removing job %s (no longer configured)", stored.id)
                scheduler.remove_job(stored.id, jobstore="default")
        for job in self.config.jobs:
            self._sync_job(scheduler, job)
        health = CronTrigger(hour=9, minute=0, timezone=self.config.tz)
        existing = scheduler.get_job(HEALTH_JOB_ID, jobstore="default")
        if existing is None or repr(existing.trigger) != repr(health):
            scheduler.add_job("scheduler:run_health_check", health, id=HEALTH_JOB_ID, name="alerts: stale sources",
                              executor="checks", replace_existing=True, jobstore="default")

    def _sync_job(self, scheduler: BackgroundScheduler, job: JobConfig) -> None:
        trigger = job.trigger(self.config.tz)
        grace = int(job.misfire_grace_hours * 3600)
        name = f"{job.mode}: {job.description}" if job.description else job.mode
        stored = scheduler.get_job(job.id, jobstore="default")
        if stored is not None and repr(stored.trigger) == repr(trigger):
            if stored.misfire_grace_time != grace or stored.name != name or tuple(stored.args) != (job.id,):
                scheduler.modify_job(job.id, jobstore="default", misfire_grace_time=grace, name=name,
                                     args=[job.id])
            return
        if stored is not None:
            logger.info("Job %s changed its schedule; next run recomputed", job.id)
        scheduler.add_job("scheduler:run_scheduled", trigger, args=[job.id], id=job.id, name=name,
                          misfire_grace_time=grace, coalesce=True, max_instances=1, replace_existing=True,
                          jobstore="default")

    def start(self) -> BackgroundScheduler:
        """Take the lock, sync the jobs, resume unfinished runs, and start firing (missed runs catch up once)."""
        global _SERVICE
        try:
            self.lock.acquire()
        except LockedError as e:
            raise LockedError(f"Another scheduler is running on {self.db}: {e}") from None
        scheduler = self.build_scheduler()
        try:
            scheduler.start(paused=True)
            self.reconcile(scheduler)
            _SERVICE = self
            if self.runner.state.pending():
                scheduler.add_job("scheduler:run_resume", id=f"{RESUME_PREFIX}pending", jobstore="memory",
                                  replace_existing=True, misfire_grace_time=None)
            scheduler.resume()
        except Exception:
            with contextlib.suppress(Exception):
                scheduler.shutdown(wait=False)
            _SERVICE = None
            self.lock.release()
            raise
        self.scheduler = scheduler
        for job in scheduler.get_jobs(jobstore="default"):
            logger.info("Job %s: next run %s", job.id, job.next_run_time)
        return scheduler

    def run_job(self, job_id: str) -> RunOutcome | None:
        try:
            job = self.config.job(job_id)
        except ValueError as e:
            logger.error("%s", e)
            return None
        if self.stop.is_set():
            return None
        request = RunRequest(job_id=job.id, mode=job.mode, sources=job.sources)
        try:
            return self.runner.run(request, wait_for_lock=True)
        except SchedulerError as e:
            logger.error("Job %s: %s", job_id, e)
            return None

    def shutdown(self) -> None:
        """Stop cleanly: a running crawl is asked to stop (and resumes on the next start)."""
        global _SERVICE
        self.stop.set()
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=True)
            self.scheduler = None
        if _SERVICE is self:
            _SERVICE = None
        self.lock.release()

    def serve_forever(self) -> None:
        """Run in the foreground until SIGTERM / SIGINT."""
        def _stop(signum: int, _frame: object) -> None:
            logger.info("Received %s; stopping", signal.Signals(signum).name)
            self.stop.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            logger.info("Scheduler running on %s (timezone %s); stop with SIGTERM or Ctrl-C", self.db,
                        self.config.timezone)
            while not self.stop.wait(1.0):
                pass
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            logger.info("Scheduler stopped")


# ---------------------------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class JobInfo:
    """One row of `ogi schedule --list`."""

    id: str
    mode: str
    description: str
    next_run: datetime | None
    stored: bool
    schedule: str


def list_jobs(db: str | os.PathLike[str], config: ScheduleConfig, *, now: datetime | None = None) -> list[JobInfo]:
    """Jobs and their next run times: from the job store when the service has stored them, else computed."""
    now = now or datetime.now(config.tz)
    path = jobs_path(db)
    stored: dict[str, datetime | None] = {}
    if path.exists():
        with contextlib.suppress(sqlite3.Error):
            stored = SQLiteJobStore(path).stored_next_run_times()
    rows: list[JobInfo] = []
    for job in config.jobs:
        if job.id in stored:
            next_run, from_store = stored[job.id], True
        else:
            next_run, from_store = job.trigger(config.tz).get_next_fire_time(None, now), False
        if next_run is not None:
            next_run = next_run.astimezone(config.tz)
        schedule = " | ".join(" ".join(f"{k}={v}" for k, v in entry.items()) for entry in job.cron)
        rows.append(JobInfo(job.id, job.mode, job.description, next_run, from_store, schedule))
    rows.sort(key=lambda r: (r.next_run is None, r.next_run or now))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """`python scheduler.py [--db PATH] [--config PATH] [--list]`: the same as `ogi schedule`."""
    from ogi.commands.schedule import schedule

    schedule.main(args=list(argv) if argv is not None else None, prog_name="scheduler.py")


if __name__ == "__main__":
    main()
