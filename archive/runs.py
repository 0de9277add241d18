"""The run history: runs, their per-source results and failures (low volume, one short transaction each).

These are the only calls the scheduler and the crawl pipeline use to read and write runs; nothing outside
the archive needs to know the table names.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from archive.common import ArchiveError, now_iso, to_json
from archive.schema import RUN_STATUSES

# the tables `counts()` reports, in this order
COUNTED_TABLES: tuple[str, ...] = (
    "documents",
    "fetches",
    "reports",
    "versions",
    "cells",
    "checks",
    "sections",
    "changes",
)


def _run_dict(row: sqlite3.Row | tuple[Any, ...], cols: list[str]) -> dict[str, Any]:
    """Given a ``runs`` row and its column names, return it as a dict with ``sources``/``counts`` decoded."""
    d = dict(zip(cols, row, strict=True))
    for k in ("sources", "counts"):
        if d.get(k):
            d[k] = json.loads(d[k])
    return d


def _rows(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Given an executed cursor, return its rows as dicts."""
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


class RunsMixin:
    """Runs, per-source results and failures of :class:`archive.store.Archive`."""

    if TYPE_CHECKING:
        _conn: sqlite3.Connection

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # --- writes ------------------------------------------------------------------------------------
    def start_run(
        self, *, kind: str = "crawl", trigger: str = "manual", sources: list[str] | None = None
    ) -> int:
        """Given the kind, trigger and sources of a run, record it as running and return its id."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO runs(kind, trigger, sources, status, started_at) VALUES (?,?,?,?,?)",
                (kind, trigger, to_json(sources), "running", now_iso()),
            )
            return int(cur.lastrowid or 0)

    def record_source_result(
        self,
        run_id: int,
        source: str,
        *,
        pages: int = 0,
        reports_found: int = 0,
        new_reports: int = 0,
        new_versions: int = 0,
        failures: int = 0,
        status: str = "ok",
        detail: str = "",
    ) -> None:
        """Given a run and a source, record (or replace) that source's result in the run."""
        self._require_run(run_id)
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO run_sources(run_id, source, pages, reports_found, new_reports, new_versions,"
                " failures, status, detail, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (run_id, source, pages, reports_found, new_reports, new_versions, failures, status, detail,
                 now_iso()),
            )  # fmt: skip

    def record_failure(
        self, run_id: int | None, url: str, reason: str, *, detail: str = "", source: str | None = None
    ) -> None:
        """Given a URL that could not be archived and why, record the failure (in a run, or outside any)."""
        if run_id is not None:
            self._require_run(run_id)
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO failures(run_id, url, source, reason, detail, at) VALUES (?,?,?,?,?,?)",
                (run_id, url, source, reason, detail, now_iso()),
            )

    def finish_run(
        self, run_id: int, *, status: str, counts: dict[str, Any] | None = None, detail: str = ""
    ) -> None:
        """Given a run and its final status, counts and detail, record its end."""
        self._check_status(status)
        self._require_run(run_id)
        with self._tx() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, counts = ?, detail = ? WHERE id = ?",
                (status, now_iso(), to_json(counts), detail, run_id),
            )

    def set_run_status(self, run_id: int, status: str, detail: str | None = None) -> None:
        """Given a run, set its status (and its detail when given); counts and times stay as they are."""
        self._check_status(status)
        self._require_run(run_id)
        with self._tx() as conn:
            if detail is None:
                conn.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))
            else:
                conn.execute("UPDATE runs SET status = ?, detail = ? WHERE id = ?", (status, detail, run_id))

    def claim_run(self, run_id: int, detail: str) -> None:
        """Given a run to resume and who claims it (``detail``, e.g. an owner tag), mark it running again.

        The previous end (``finished_at``) is cleared, since the run is no longer finished; its counts stay
        until the resumed run records new ones.
        """
        self._require_run(run_id)
        with self._tx() as conn:
            conn.execute(
                "UPDATE runs SET status = 'running', finished_at = NULL, detail = ? WHERE id = ?", (detail, run_id)
            )

    # --- reads -------------------------------------------------------------------------------------
    def run(self, run_id: int) -> dict[str, Any] | None:
        """Given a run id, return its ``runs`` row (``sources`` and ``counts`` decoded), or None."""
        cur = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,))
        row = cur.fetchone()
        return None if row is None else _run_dict(row, [c[0] for c in cur.description])

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """Given a limit, return the newest runs first (``sources`` and ``counts`` decoded)."""
        cur = self._conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        cols = [c[0] for c in cur.description]
        return [_run_dict(r, cols) for r in cur.fetchall()]

    def source_results(self, run_id: int) -> list[dict[str, Any]]:
        """Given a run id, return the per-source rows it recorded (``run_sources``), by source."""
        return _rows(self._conn.execute("SELECT * FROM run_sources WHERE run_id = ? ORDER BY source", (run_id,)))

    def failure_counts(self, run_id: int) -> dict[str, int]:
        """Given a run id, return its failures as reason -> count, the most frequent first."""
        cur = self._conn.execute(
            "SELECT reason, count(*) AS n FROM failures WHERE run_id = ? GROUP BY reason ORDER BY n DESC, reason",
            (run_id,),
        )
        return {str(reason): int(n) for reason, n in cur.fetchall()}

    def known_sources(self) -> list[str]:
        """Given nothing, return every source that has a recorded result in some run, sorted."""
        cur = self._conn.execute("SELECT DISTINCT source FROM run_sources ORDER BY source")
        return [str(r[0]) for r in cur.fetchall()]

    def source_history(self, source: str, limit: int = 10) -> list[dict[str, Any]]:
        """Given a source, return its per-run results joined with their run, newest run first."""
        return _rows(
            self._conn.execute(
                "SELECT rs.*, r.kind, r.trigger, r.started_at, r.finished_at, r.status AS run_status"
                " FROM run_sources rs JOIN runs r ON r.id = rs.run_id WHERE rs.source = ?"
                " ORDER BY rs.run_id DESC LIMIT ?",
                (source, limit),
            )
        )

    def counts(self) -> dict[str, int]:
        """Given nothing, return the row counts of the archive's main tables."""
        return {t: int(self._conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED_TABLES}

    # --- helpers -----------------------------------------------------------------------------------
    def _require_run(self, run_id: int) -> None:
        if self._conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise ArchiveError(f"no run {run_id}")

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in RUN_STATUSES:
            raise ArchiveError(f"unknown run status {status!r} (one of {', '.join(RUN_STATUSES)})")


__all__ = ["COUNTED_TABLES", "RunsMixin"]
