"""A run's totals over its attempts: what the crawl recorded now, plus what earlier attempts carried, counted once.

A run stopped and resumed under the same id has several attempts. Each attempt's crawl records (or replaces)
one `run_sources` row per source it crawled; a source the resumed attempt did not reach keeps the row of an
earlier attempt. The carry kept when an attempt ends unfinished is therefore a snapshot: the totals so far, the
per-source rows they were summed from, and the run counts written then. At the end, a row still equal to its
snapshot (same recorded_at and values) is already in the carried totals and is not added again; neither are
run counts the crawl did not rewrite.
"""

from __future__ import annotations

import json
from typing import Any

from ogi.service.alerts import SourceResult
from ogi.service.history import as_int, json_dict

CARRIED_COUNTS = ("pages", "new_reports", "new_versions", "failures", "new_items")
CRAWL_COUNTS = ("new_items", "known_items")  # what the crawl alone knows (light mode), copied into the run counts
ROW_COUNTS = ("pages", "new_reports", "new_versions", "failures")  # summed over run_sources rows
ROW_KEYS = ("recorded_at", "status", *ROW_COUNTS)


def _row_key(row: dict[str, Any]) -> dict[str, Any]:
    """Given a run_sources row, return the part that identifies this record of it."""
    return {k: row.get(k) for k in ROW_KEYS}


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def split_carry(carried: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Given a stored carry, return (totals, per-source row snapshots, run counts written); a carry stored
    before snapshots existed is all totals."""
    if "totals" not in carried:
        return carried, {}, None
    return dict(carried.get("totals") or {}), dict(carried.get("sources") or {}), carried.get("run_counts")


def run_totals(rows: list[dict[str, Any]], results: list[SourceResult], *, failures_by_reason: dict[str, int],
               crawl_counts: dict[str, Any], carried: dict[str, Any], exit_code: int | None, job: str,
               mode: str) -> dict[str, Any]:
    """Given a run's source rows (and their results), failures, the crawl's run counts and the carry, return the
    run's counts: each attempt's work counted once."""
    totals, snapshots, written = split_carry(carried)
    fresh = [r for r in rows if not _same(_row_key(r), snapshots.get(str(r.get("source"))))]
    counts: dict[str, Any] = {
        "pages": sum(as_int(r.get("pages")) for r in fresh),
        "reports_found": sum(r.reports_found for r in results),
        "new_reports": sum(as_int(r.get("new_reports")) for r in fresh),
        "new_versions": sum(as_int(r.get("new_versions")) for r in fresh),
        "failures": sum(as_int(r.get("failures")) for r in fresh),
        "failures_by_reason": failures_by_reason,
        "sources": {r.source: r.status for r in results},
        "exit_code": exit_code,
        "job": job,
        "mode": mode,
    }
    crawl_rewrote = written is None or not _same(json_dict(crawl_counts), written)
    counts.update({k: as_int(crawl_counts[k]) for k in CRAWL_COUNTS
                   if k in crawl_counts and (crawl_rewrote or k not in CARRIED_COUNTS)})
    if crawl_counts.get("mode") and crawl_rewrote:
        counts["crawl_mode"] = str(crawl_counts["mode"])  # the crawl's own --mode (the job's mode is "mode")
    elif written and written.get("crawl_mode"):
        counts["crawl_mode"] = written["crawl_mode"]
    for key in CARRIED_COUNTS:
        if key in counts or key in totals:
            counts[key] = as_int(counts.get(key)) + as_int(totals.get(key))
    return counts


def carry_snapshot(counts: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Given an unfinished attempt's run counts (as written to the run) and its source rows, return the carry."""
    return {
        "totals": {k: counts[k] for k in CARRIED_COUNTS if k in counts},
        "sources": {str(r.get("source")): _row_key(r) for r in rows},
        "run_counts": json.loads(json.dumps(counts, default=str)),
    }
