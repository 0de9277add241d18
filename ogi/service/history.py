"""The run history, through the archive's runs API only (`archive/runs.py`); no table names, no SQL here.

Given an open :class:`archive.Archive`, these helpers turn its run rows into what the alert rules read
(:class:`ogi.service.alerts.SourceResult`).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from ogi.service.alerts import SourceResult
from ogi.service.common import SchedulerError, parse_time

if TYPE_CHECKING:  # the archive (sqlite-utils) loads when a command opens one, not at `ogi` start-up
    from archive import Archive


def open_history(db: str | os.PathLike[str], *, readonly: bool = False) -> Archive:
    """Given the archive path, return the open archive (``readonly``: never created, migrated or written);
    SchedulerError naming the path when it is unusable."""
    from archive import open_archive  # loaded on first use: not at `ogi` start-up

    try:
        return open_archive(os.fspath(db), readonly=readonly)
    except Exception as e:
        raise SchedulerError(f"Cannot open the archive {db}: {e}") from e


def close_quietly(arc: Archive) -> None:
    """Given an open archive, close it (a close that fails is not the run's problem)."""
    try:
        arc.close()
    except Exception:  # pragma: no cover - closing a sqlite connection hardly fails
        pass


def as_int(value: Any) -> int:
    """Given a count as stored (int, text, None), return it as an int (0 when it is not one)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def json_dict(value: Any) -> dict[str, Any]:
    """Given a JSON object column (a run's counts), return it as a dict; {} for anything else."""
    if isinstance(value, dict):
        return value
    try:
        data = json.loads(value) if isinstance(value, str | bytes) else None
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def source_result(row: dict[str, Any]) -> SourceResult:
    """Given a row of `source_results` or `source_history`, return it as a SourceResult.

    Its time is the run's end (`finished_at`, in `source_history`), else when the source was recorded
    (`recorded_at`), else the run's start (`started_at`).
    """
    finished = (parse_time(row.get("finished_at")) or parse_time(row.get("recorded_at"))
                or parse_time(row.get("started_at")))
    return SourceResult(
        run_id=as_int(row.get("run_id")),
        source=str(row.get("source") or ""),
        status=str(row.get("status") or "ok"),
        reports_found=as_int(row.get("reports_found")),
        pages=as_int(row.get("pages")),
        failures=as_int(row.get("failures")),
        finished_at=finished,
        completeness=row.get("completeness") or None,
        declared=_opt_int(row.get("declared")),
        listed=_opt_int(row.get("listed")),
        archived=_opt_int(row.get("archived")),
        missing=_opt_int(row.get("missing")),
        rejected={str(k): as_int(v) for k, v in json_dict(row.get("rejected")).items()},
    )


def _opt_int(value: Any) -> int | None:
    """Given a count as stored, return it as an int, or None when it was not recorded."""
    return None if value is None or value == "" else as_int(value)


def source_history(arc: Archive, source: str, *, limit: int, before_run: int | None = None) -> list[SourceResult]:
    """Given a source, return its results newest first, at most `limit` (runs from `before_run` on left out)."""
    rows = [source_result(dict(r)) for r in arc.source_history(source, limit=limit + 5)]
    if before_run is not None:
        rows = [r for r in rows if r.run_id < before_run]
    rows.sort(key=lambda r: r.run_id, reverse=True)
    return rows[:limit]


def all_source_histories(arc: Archive, *, limit: int) -> dict[str, list[SourceResult]]:
    """Given the archive, return every known source's results (newest first, at most `limit` each)."""
    return {s: source_history(arc, s, limit=limit) for s in arc.known_sources()}
