"""The service's own state in `<db>.jobs.sqlite`: the runs it started (to resume them) and the alerts it sent.

`scheduler_runs` is the service's view of a run (job, mode, sources, attempts, the crawl's pid, what an interrupted
attempt counted); the archive's `runs` row is the run itself. `scheduler_alerts` keeps each delivered alert's key,
so a restart never delivers one twice.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ogi.service.alerts import Alert
from ogi.service.common import connect, iso, utcnow

# columns added to scheduler_runs since its first version: the crawl's start time (with `pid`, its identity),
# the process that started the run (a run whose runner is dead and whose crawl lives is an orphan), and when
# the current attempt started
ADDED_RUN_COLUMNS = (("pid_start", "INTEGER"), ("runner_pid", "INTEGER"), ("runner_start", "INTEGER"),
                     ("attempt_at", "TEXT"))


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
                CREATE TABLE IF NOT EXISTS scheduler_missed (
                    job_id TEXT NOT NULL, scheduled_at TEXT NOT NULL, noticed_at TEXT NOT NULL,
                    late_seconds REAL NOT NULL, grace_seconds REAL, PRIMARY KEY (job_id, scheduled_at));
            """)
            have = {r["name"] for r in conn.execute("PRAGMA table_info(scheduler_runs)")}
            for column, kind in ADDED_RUN_COLUMNS:
                if column not in have:  # a state file from before the column existed
                    conn.execute(f"ALTER TABLE scheduler_runs ADD COLUMN {column} {kind}")

    def _conn(self) -> contextlib.closing[sqlite3.Connection]:
        """A connection to the state file, closed when the ``with`` block ends."""
        return contextlib.closing(connect(self.path))

    def run_started(self, run_id: int, *, job_id: str, mode: str, sources: Sequence[str], trigger: str,
                    runner_pid: int | None = None, runner_start: int | None = None) -> None:
        """Given a run (new, or resumed: one more attempt) and the process running it, record it running."""
        now = iso(utcnow())
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO scheduler_runs (run_id, job_id, mode, sources, trigger, state, started_at, runner_pid, "
                "runner_start, attempt_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?) ON CONFLICT(run_id) DO "
                "UPDATE SET state = 'running', attempts = attempts + 1, finished_at = NULL, exit_code = NULL, "
                "status = NULL, detail = NULL, pid = NULL, pid_start = NULL, runner_pid = excluded.runner_pid, "
                "runner_start = excluded.runner_start, attempt_at = excluded.attempt_at",
                (run_id, job_id, mode, json.dumps(list(sources)), trigger, now, runner_pid, runner_start, now))

    def carry(self, run_id: int, counts: dict[str, Any]) -> None:
        """Keep an interrupted attempt's counts, so the resumed run's totals include them."""
        with self._conn() as conn:
            conn.execute("UPDATE scheduler_runs SET carried = ? WHERE run_id = ?", (json.dumps(counts), run_id))

    def carried(self, run_id: int) -> dict[str, Any]:
        row = self.get(run_id)
        return json.loads(row["carried"]) if row and row.get("carried") else {}

    def run_pid(self, run_id: int, pid: int | None, start: int | None = None) -> None:
        """Given a run and its crawl's pid (= its process group) and start time, record them."""
        with self._conn() as conn:
            conn.execute("UPDATE scheduler_runs SET pid = ?, pid_start = ? WHERE run_id = ?", (pid, start, run_id))

    def missed(self, job_id: str, *, scheduled_at: str, late_seconds: float, grace_seconds: float | None) -> None:
        """Given a job's fire time that came later than its misfire grace, record it (once per fire time)."""
        with self._conn() as conn:
            conn.execute("INSERT OR IGNORE INTO scheduler_missed (job_id, scheduled_at, noticed_at, late_seconds, "
                         "grace_seconds) VALUES (?, ?, ?, ?, ?)",
                         (job_id, scheduled_at, iso(utcnow()), late_seconds, grace_seconds))

    def recent_missed(self, limit: int = 10) -> list[dict[str, Any]]:
        """Given a limit, return the latest recorded missed fire times, newest first."""
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM scheduler_missed ORDER BY scheduled_at DESC LIMIT ?",
                                (limit,)).fetchall()
        return [dict(r) for r in rows]

    def run_finished(self, run_id: int, *, state: str, status: str, exit_code: int | None, detail: str) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE scheduler_runs SET state = ?, status = ?, exit_code = ?, detail = ?, "
                         "finished_at = ?, pid = NULL WHERE run_id = ?",
                         (state, status, exit_code, detail, iso(utcnow()), run_id))

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
                         (alert.key, alert.rule, alert.source, alert.run_id, alert.message, iso(utcnow()),
                          ",".join(channels)))

    def recent_alerts(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM scheduler_alerts ORDER BY created_at DESC, rowid DESC LIMIT ?",
                                (limit,)).fetchall()
        return [dict(r) for r in rows]
