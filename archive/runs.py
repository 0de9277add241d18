"""The run history: runs, their per-source results and failures (low volume, one short transaction each).

These are the only calls the scheduler and the crawl pipeline use to read and write runs; nothing outside
the archive needs to know the table names.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from archive.common import ArchiveError, now_iso, to_json
from archive.schema import COMPLETENESS, RUN_STATUSES

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


def completeness_status(declared: int | None, listed: int | None, missing: int | None,
                        declared_pages: int | None = None, pages_read: int | None = None) -> str:
    """Given what a portal declares (an item count, else a page count), what its list pages gave and what was
    lost, return the completeness: ``partial`` when any was lost (``missing`` > 0), fewer items were found than
    declared, or fewer pages read than declared; ``ok`` when the declared count was met; ``unknown`` when the
    portal declares no count at all."""
    if missing:
        return "partial"
    if declared is not None and listed is not None:
        return "partial" if listed < declared else "ok"
    if declared_pages is not None and pages_read is not None:
        return "partial" if pages_read < declared_pages else "ok"
    return "unknown"


def _worst_completeness(a: str, b: str) -> str:
    """Given two completeness states, return the worse (``partial`` > ``unknown`` > ``ok``)."""
    return max(a, b, key=COMPLETENESS.index)


def _reason_counts(rejected: Mapping[str, int] | None) -> dict[str, int] | None:
    """Given reason -> count (or None), return it with int counts, the most frequent first (None stays None)."""
    if rejected is None:
        return None
    counts = {str(k): int(v) for k, v in rejected.items()}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _decode_rejected(row: dict[str, Any]) -> dict[str, Any]:
    """Given a ``run_sources`` row, return it with ``rejected`` decoded from JSON."""
    if isinstance(row.get("rejected"), str):
        row["rejected"] = json.loads(row["rejected"])
    return row


def _where(**conds: Any) -> tuple[str, tuple[Any, ...]]:
    """Given column=value conditions (None: no condition), return a WHERE clause and its arguments."""
    used = {k: v for k, v in conds.items() if v is not None}
    if not used:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k in used), tuple(used.values())

# the completeness columns of run_sources (issue 10), as record_source_result takes and completeness() returns
COMPLETENESS_FIELDS: tuple[str, ...] = ("declared", "listed", "followed", "archived", "rejected", "missing")


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
        declared: int | None = None,
        listed: int | None = None,
        followed: int | None = None,
        archived: int | None = None,
        rejected: Mapping[str, int] | None = None,
        missing: int | None = None,
        completeness: str | None = None,
        declared_pages: int | None = None,
        pages_read: int | None = None,
    ) -> str:
        """Given a run and a source, record (or replace) that source's result in the run; return its
        completeness (``ok`` | ``partial`` | ``unknown``).

        The completeness arguments are all optional (callers that know none of them store NULLs and get
        ``unknown``): ``declared`` the item count the portal itself declares, ``listed`` the items found on
        its list pages, ``followed`` the items requested, ``archived`` the items stored, ``rejected`` the
        items decided against as reason -> count, ``missing`` the items that ended neither archived nor
        recorded with a reason, ``declared_pages`` / ``pages_read`` the page count a portal declares instead of
        an item count (共N页, ``countPage``) and the pages of it read. See :func:`completeness_status`; a
        ``completeness`` given by the caller
        can only make the result worse, never better.
        """
        self._require_run(run_id)
        rejected_counts = _reason_counts(rejected)
        state = completeness_status(declared, listed, missing, declared_pages, pages_read)
        if completeness is not None:
            if completeness not in COMPLETENESS:
                raise ArchiveError(
                    f"unknown completeness {completeness!r} (one of {', '.join(COMPLETENESS)})"
                )
            state = _worst_completeness(state, completeness)
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO run_sources(run_id, source, pages, reports_found, new_reports, new_versions,"
                " failures, status, detail, recorded_at, declared, listed, followed, archived, rejected, missing,"
                " completeness, declared_pages, pages_read) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, source, pages, reports_found, new_reports, new_versions, failures, status, detail,
                 now_iso(), declared, listed, followed, archived, to_json(rejected_counts), missing, state,
                 declared_pages, pages_read),
            )  # fmt: skip
        return state

    def record_link_decision(
        self,
        run_id: int | None,
        source: str,
        url: str,
        reason: str,
        *,
        title: str | None = None,
        list_url: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Given a candidate link the crawl decided not to follow and why, store it in ``link_decisions``
        (once per run, source, URL and reason: a repeat is ignored)."""
        self.record_link_decisions(
            run_id, source, [{"url": url, "reason": reason, "title": title, "list_url": list_url, "detail": detail}]
        )

    def record_link_decisions(
        self, run_id: int | None, source: str, decisions: Iterable[Mapping[str, Any]]
    ) -> int:
        """Given many link decisions of one run and source (mappings with ``url`` and ``reason``, optionally
        ``title``, ``list_url``, ``detail``), store them in one transaction; return how many were new."""
        if run_id is not None:
            self._require_run(run_id)
        now = now_iso()
        rows = []
        for d in decisions:
            url, reason = d.get("url"), d.get("reason")
            if not url or not reason:
                raise ArchiveError(f"a link decision needs a url and a reason, got {dict(d)!r}")
            rows.append((run_id, source, d.get("list_url"), str(url), d.get("title"), str(reason),
                         d.get("detail"), now))  # fmt: skip
        if not rows:
            return 0
        with self._tx() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO link_decisions(run_id, source, list_url, url, title, reason, detail,"
                " recorded_at) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
            return conn.total_changes - before

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
        cur = self._conn.execute("SELECT * FROM run_sources WHERE run_id = ? ORDER BY source", (run_id,))
        return [_decode_rejected(r) for r in _rows(cur)]

    def failure_counts(self, run_id: int) -> dict[str, int]:
        """Given a run id, return its failures as reason -> count, the most frequent first."""
        cur = self._conn.execute(
            "SELECT reason, count(*) AS n FROM failures WHERE run_id = ? GROUP BY reason ORDER BY n DESC, reason",
            (run_id,),
        )
        return {str(reason): int(n) for reason, n in cur.fetchall()}

    def failures(self, run_id: int) -> list[dict[str, Any]]:
        """Given a run id, return its recorded failures (``failures`` rows), in the order they were recorded."""
        return _rows(self._conn.execute("SELECT * FROM failures WHERE run_id = ? ORDER BY id", (run_id,)))

    def known_sources(self) -> list[str]:
        """Given nothing, return every source that has a recorded result in some run, sorted."""
        cur = self._conn.execute("SELECT DISTINCT source FROM run_sources ORDER BY source")
        return [str(r[0]) for r in cur.fetchall()]

    def source_history(self, source: str, limit: int = 10) -> list[dict[str, Any]]:
        """Given a source, return its per-run results joined with their run, newest run first."""
        return [_decode_rejected(r) for r in _rows(
            self._conn.execute(
                "SELECT rs.*, r.kind, r.trigger, r.started_at, r.finished_at, r.status AS run_status"
                " FROM run_sources rs JOIN runs r ON r.id = rs.run_id WHERE rs.source = ?"
                " ORDER BY rs.run_id DESC LIMIT ?",
                (source, limit),
            )
        )]  # fmt: skip

    def link_decisions(
        self, run_id: int | None = None, *, source: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Given a run (default: any) and optionally a source, return its stored link decisions, oldest first."""
        where, args = _where(run_id=run_id, source=source)
        cur = self._conn.execute(f"SELECT * FROM link_decisions{where} ORDER BY id LIMIT ?", (*args, limit))
        return _rows(cur)

    def completeness(self, run_id: int | None = None) -> dict[str, Any]:
        """Given a run (default: the newest run with per-source results), return its completeness:
        ``run_id``, ``status`` (the worst of its sources: ``partial`` > ``unknown`` > ``ok``; ``unknown``
        when it has none), and ``sources``: per source ``declared``, ``listed``, ``followed``, ``archived``,
        ``rejected`` (reason -> count), ``missing``, ``completeness``, and ``link_decisions`` (reason -> count
        of the links stored in ``link_decisions``)."""
        if run_id is None:
            row = self._conn.execute("SELECT max(run_id) FROM run_sources").fetchone()
            run_id = row[0] if row else None
        out: dict[str, Any] = {"run_id": run_id, "status": "unknown", "sources": []}
        if run_id is None:
            return out
        decided: dict[str, dict[str, int]] = {}
        for src, reason, n in self._conn.execute(
            "SELECT source, reason, count(*) FROM link_decisions WHERE run_id = ? GROUP BY source, reason"
            " ORDER BY source, count(*) DESC, reason",
            (run_id,),
        ):
            decided.setdefault(src, {})[reason] = n
        states = []
        for r in self.source_results(run_id):
            state = r.get("completeness") or "unknown"
            states.append(state)
            out["sources"].append({
                "source": r["source"], **{k: r.get(k) for k in COMPLETENESS_FIELDS}, "completeness": state,
                "link_decisions": decided.get(r["source"], {}),
            })  # fmt: skip
        if states:
            out["status"] = max(states, key=COMPLETENESS.index)
        return out

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


__all__ = ["COMPLETENESS_FIELDS", "COUNTED_TABLES", "RunsMixin", "completeness_status"]
