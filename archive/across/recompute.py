"""``recompute_across``: read the archive's current state, compute every across-report table, write them all in
one transaction (drop and rebuild: derived data, never a migration)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

from archive.across.bodies import assign_bodies, expected_governments, load_aliases
from archive.across.coverage import coverage_rows, edit_rows
from archive.across.crosscheck import cross_checks, series_index
from archive.across.load import load_snapshot
from archive.across.rates import add_percentiles, rate_rows
from archive.across.rollups import rollup_rows
from archive.across.similarity import normalised_sections, prev_year_rows, same_year_rows
from archive.across.tables import create_sql, insert_rows
from archive.common import ArchiveError

logger = logging.getLogger(__name__)

def recompute_across(
    arc: Any, *, aliases: str | Path | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """Given an open :class:`archive.store.Archive`, rebuild every across-report table in one write transaction
    and return a summary: rows per table, cross-check statuses, findings counts and the seconds taken.

    ``aliases`` is the alias file (default ``archive/aliases.yaml``); ``today`` decides which deadlines have
    passed (default: the current date).
    """
    try:
        return _recompute(arc, aliases, today)
    except sqlite3.Error as exc:
        raise ArchiveError(f"{arc.path}: across-report tables not recomputed: {exc}") from exc


def _recompute(arc: Any, aliases: str | Path | None, today: dt.date | None) -> dict[str, Any]:
    t0 = time.monotonic()
    conn = arc.conn
    snap = load_snapshot(conn)
    alias = load_aliases(aliases)
    bodies, body_reports, names = assign_bodies(list(snap.reports.values()), alias)
    all_bodies = bodies + expected_governments(bodies)
    index = series_index(body_reports)
    report_body = {br["report_id"]: br["body_id"] for br in body_reports if br["body_id"]}
    by_id = {b["body_id"]: b for b in all_bodies}
    checks = cross_checks(snap, index)
    edits = edit_rows(conn, snap, report_body)
    edited: dict[int, int] = Counter(e["report_id"] for e in edits)
    coverage = coverage_rows(snap, all_bodies, index, edited, today or dt.date.today())
    norm = normalised_sections(snap)
    snap.sections.clear()  # the normalised texts are all that is compared from here on (memory at 10^5 reports)
    similarity = prev_year_rows(snap, index, norm) + same_year_rows(snap, report_body, norm)
    rates = rate_rows(snap, {rid: (by_id[bid], series) for (bid, series), years in index.items()
                             for rid in years.values()})
    add_percentiles(rates)
    rollups = rollup_rows(snap, all_bodies, index)
    data = {
        "bodies": all_bodies, "body_names": names, "body_reports": body_reports, "cross_checks": checks,
        "coverage": coverage, "edits": edits, "similarity": similarity, "rates": rates, "rollups": rollups,
    }
    t1 = time.monotonic()
    with arc._tx() as wconn:  # the archive's own write transaction (BEGIN IMMEDIATE … COMMIT)
        for stmt in create_sql():
            wconn.execute(stmt)
        for table, rows in data.items():
            insert_rows(wconn, table, rows)
    summary: dict[str, Any] = {
        "rows": {t: len(r) for t, r in data.items()},
        "cross_checks": _count(checks, "status"),
        "coverage": _count(coverage, "timeliness"),
        "similarity": _count(similarity, "flag"),
        "rollups": _count(rollups, "status"),
        "seconds": round(time.monotonic() - t0, 3),
        "write_seconds": round(time.monotonic() - t1, 3),
    }
    logger.info("across reports recomputed: %s", summary)
    return summary


def _count(rows: list[dict[str, Any]], col: str) -> dict[str, int]:
    """Given rows and a column, return value (as text) -> number of rows, in order of first appearance."""
    return dict(Counter(str(r.get(col)) for r in rows))
