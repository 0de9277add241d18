"""The persistent APScheduler 3.x job store: a plain SQLite file, the table layout of SQLAlchemyJobStore.

A port of apscheduler 3.x `jobstores/sqlalchemy.py` onto the stdlib `sqlite3` (no SQLAlchemy dependency). Jobs
are pickled with their textual function reference (`scheduler:run_scheduled`, ...), so those names are part of
the stored data. `list_jobs` reads next run times without unpickling, beside a live service.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

from ogi.service.common import connect, jobs_path
from ogi.service.config import ScheduleConfig


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
        with contextlib.closing(connect(self.path)) as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.tablename} "
                         "(id TEXT PRIMARY KEY, next_run_time REAL, job_state BLOB NOT NULL)")
            conn.execute(f"CREATE INDEX IF NOT EXISTS ix_{self.tablename}_next ON {self.tablename} (next_run_time)")

    def _conn(self) -> contextlib.closing[sqlite3.Connection]:
        """A connection to the state file, closed when the ``with`` block ends."""
        return contextlib.closing(connect(self.path))

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
