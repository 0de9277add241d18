"""Alert rules over run histories, and their delivery (log, optional command, optional webhook).

The rules are pure functions of fabricated-or-real histories:
- `failed`: a run ended failed (crawl exited non-zero, timed out, or every source failed);
- `empty`: a run completed but found no report anywhere;
- `suspect`: a source found far fewer reports than its recent median (`suspect_sources`);
- `stale`: a source has had no good run for `stale_factor` × its schedule interval (`stale_sources`);
- `lost_items`: a column lost items — a source whose completeness is `partial` in a finished run (found fewer
  items than the portal declares, or some listed item ended neither archived nor recorded), with the numbers
  (`lost_item_sources`; off with `alerts.lost_items: false`, threshold `alerts.lost_items_min_missing`).

Delivery never raises: a broken command or webhook is logged and the service goes on.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from ogi.service.config import AlertConfig

logger = logging.getLogger(__name__)

GOOD_STATUSES = frozenset({"ok", "partial"})  # partial: some list pages failed, reports were found
# a run's final statuses, least severe first; "partial" (some listed item neither archived nor recorded) is taken
# over from the crawl when the archive knows it, and is never reported as ok
SEVERITY = {"ok": 0, "partial": 1, "suspect": 2, "empty": 3, "failed": 4}
RULES = ("failed", "empty", "suspect", "stale", "lost_items")


def is_good(result: SourceResult) -> bool:
    """A good run of a source: it completed and found at least one report."""
    return result.status in GOOD_STATUSES and result.reports_found > 0


@dataclass(frozen=True)
class Alert:
    """One alert: which rule fired, a human message, and what it is about."""

    rule: str
    message: str
    source: str | None = None
    run_id: int | None = None
    severity: str = "warning"
    details: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A stable identity, so the same condition is delivered once."""
        anchor = self.details.get("since_run_id", self.run_id)
        return f"{self.rule}:{self.source or '*'}:{anchor if anchor is not None else '-'}"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["key"] = self.key
        return data


@dataclass(frozen=True)
class SourceResult:
    """One source's outcome in one run (what the rules need of the run history)."""

    run_id: int
    source: str
    status: str
    reports_found: int = 0
    pages: int = 0
    failures: int = 0
    finished_at: datetime | None = None
    # completeness of the source's columns in the run (archive run_sources, issue 10): ok | partial | unknown,
    # None when the archive did not measure it (older runs)
    completeness: str | None = None
    declared: int | None = None
    listed: int | None = None
    archived: int | None = None
    missing: int | None = None
    rejected: dict[str, int] = field(default_factory=dict)


def median_found(history: Iterable[SourceResult], *, window: int) -> float | None:
    """Median reports_found over the last `window` good results (history newest first), or None."""
    good = [r.reports_found for r in history if is_good(r)][:window]
    return float(statistics.median(good)) if good else None


def suspect_sources(
    results: Sequence[SourceResult],
    history: Mapping[str, Sequence[SourceResult]],
    config: AlertConfig,
) -> list[tuple[str, int, float]]:
    """Sources of this run that found fewer than suspect_ratio × their recent median: (source, found, median).

    `history[source]` holds the source's earlier results, newest first, excluding this run. A source the
    crawl itself marked suspect (nothing found where earlier runs found reports) is included too.
    """
    suspects: list[tuple[str, int, float]] = []
    for result in results:
        if result.status == "failed":
            continue
        median = median_found(history.get(result.source, ()), window=config.median_window)
        if result.status == "suspect":
            suspects.append((result.source, result.reports_found, median or 0.0))
            continue
        if median is None or median < config.suspect_min_median:
            continue
        if result.reports_found < config.suspect_ratio * median:
            suspects.append((result.source, result.reports_found, median))
    return suspects


def lost_item_sources(results: Sequence[SourceResult], config: AlertConfig) -> list[SourceResult]:
    """Given one run's source results, return those that lost items: completeness ``partial`` (or, where the
    run did not record completeness, fewer listed than declared or a positive missing count), with at least
    ``lost_items_min_missing`` missing when the number is known. Failed sources are left to the other rules."""
    if not config.lost_items:
        return []
    lost = []
    for r in results:
        if r.status == "failed":
            continue
        short = (r.declared - r.listed) if r.declared is not None and r.listed is not None else None
        partial = r.completeness == "partial" or (
            r.completeness is None and ((r.missing or 0) > 0 or (short is not None and short > 0)))
        if not partial:
            continue
        known = [n for n in (r.missing, short) if n is not None]
        if known and max(known) < config.lost_items_min_missing:
            continue
        lost.append(r)
    return lost


def _lost_text(r: SourceResult) -> str:
    parts = [f"{name} {value}" for name, value in (("declared", r.declared), ("listed", r.listed),
                                                   ("archived", r.archived), ("missing", r.missing))
             if value is not None]
    if r.rejected:
        parts.append("rejected " + ", ".join(f"{k} {v}" for k, v in sorted(r.rejected.items())))
    return ", ".join(parts) or "no counts recorded"


def classify_run(
    *,
    exit_code: int | None,
    timed_out: bool,
    results: Sequence[SourceResult],
    history: Mapping[str, Sequence[SourceResult]],
    config: AlertConfig,
) -> tuple[str, str]:
    """Return (status, detail) of a finished run: 'failed' | 'empty' | 'suspect' | 'ok'."""
    if timed_out:
        return "failed", "timeout: the crawl exceeded the run time limit"
    if exit_code not in (0, None):
        return "failed", f"the crawl exited with status {exit_code}"
    if results and all(r.status == "failed" for r in results):
        return "failed", "every source failed"
    if sum(r.reports_found for r in results) == 0:
        return "empty", "no report found in any source"
    suspects = suspect_sources(results, history, config)
    if suspects:
        text = ", ".join(f"{s} found {n} (median {m:g})" for s, n, m in suspects)
        return "suspect", f"far fewer reports than usual: {text}"
    return "ok", ""


def worst(*statuses: str) -> str:
    """The most severe of some run statuses (failed > empty > suspect > partial > ok)."""
    return max(statuses, key=lambda s: SEVERITY.get(s, 0))


def run_alerts(
    *,
    run_id: int,
    status: str,
    detail: str,
    results: Sequence[SourceResult],
    history: Mapping[str, Sequence[SourceResult]],
    config: AlertConfig,
) -> list[Alert]:
    """Alerts for one finished run: failed, empty, one suspect alert per suspect source, and one lost_items
    alert per source that lost items (whatever the run's status: a run can be ok overall and lose a column)."""
    alerts: list[Alert] = []
    if status == "failed":
        alerts.append(Alert("failed", f"run {run_id} failed: {detail or 'no detail'}", run_id=run_id,
                            severity="error", details={"detail": detail}))
    elif status == "empty":
        alerts.append(Alert("empty", f"run {run_id} found no report in any source", run_id=run_id,
                            details={"sources": [r.source for r in results]}))
    if status in ("suspect", "ok", "empty"):
        for source, found, median in suspect_sources(results, history, config):
            alerts.append(Alert(
                "suspect",
                f"run {run_id}: source {source} found {found} reports, far fewer than its recent median {median:g}",
                source=source, run_id=run_id, details={"found": found, "median": median},
            ))
    for r in lost_item_sources(results, config):
        alerts.append(Alert(
            "lost_items",
            f"run {run_id}: source {r.source} lost items (completeness {r.completeness or 'partial'}: "
            f"{_lost_text(r)})",
            source=r.source, run_id=run_id,
            details={"completeness": r.completeness, "declared": r.declared, "listed": r.listed,
                     "archived": r.archived, "missing": r.missing, "rejected": dict(r.rejected)},
        ))
    return alerts


def stale_sources(
    history: Mapping[str, Sequence[SourceResult]],
    *,
    now: datetime,
    interval: timedelta,
    config: AlertConfig,
) -> list[Alert]:
    """Sources whose last good run is older than stale_factor × interval (history newest first).

    A source that never had a good run is stale once its oldest recorded attempt is that old; a source
    with no recorded attempt is not judged.
    """
    limit = interval * config.stale_factor
    alerts: list[Alert] = []
    for source, results in sorted(history.items()):
        if not results:
            continue
        good = [r for r in results if is_good(r) and r.finished_at is not None]
        if good:
            last = good[0]
            assert last.finished_at is not None
            if now - last.finished_at <= limit:
                continue
            since, anchor = last.finished_at, last.run_id
            text = f"no good run since {since:%Y-%m-%d %H:%M} (run {anchor})"
        else:
            dated = [r for r in results if r.finished_at is not None]
            if not dated or now - min(r.finished_at for r in dated if r.finished_at) <= limit:
                continue
            since, anchor = None, None
            text = f"no good run in {len(results)} recorded attempt(s)"
        alerts.append(Alert(
            "stale",
            f"source {source}: {text}; expected one every {_human(interval)}",
            source=source,
            details={"since_run_id": anchor, "since": since.isoformat() if since else None,
                     "interval_hours": round(interval.total_seconds() / 3600, 1)},
        ))
    return alerts


def _human(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{delta.total_seconds() / 3600:g} hours"


def deliver(alert: Alert, config: AlertConfig) -> list[str]:
    """Send one alert to the log and to the configured command/webhook; return the channels that worked."""
    logger.warning("ALERT [%s] %s", alert.rule, alert.message)
    done = ["log"]
    payload = json.dumps(alert.to_json(), ensure_ascii=False, default=str).encode("utf-8")
    if config.command:
        env = {**os.environ, "OGI_ALERT_RULE": alert.rule, "OGI_ALERT_MESSAGE": alert.message,
               "OGI_ALERT_SOURCE": alert.source or ""}
        try:
            proc = subprocess.run(list(config.command), input=payload, env=env, capture_output=True,
                                  timeout=config.timeout_seconds, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            logger.error("Alert command %s failed: %s", config.command[0], e)
        else:
            if proc.returncode == 0:
                done.append("command")
            else:
                logger.error("Alert command %s exited with %d: %s", config.command[0], proc.returncode,
                             proc.stderr.decode("utf-8", "replace").strip()[:500])
    if config.webhook:
        request = urllib.request.Request(config.webhook, data=payload, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "User-Agent": "ogi-archive-scheduler"})
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_seconds) as response:
                response.read(1024)
            done.append("webhook")
        except (OSError, urllib.error.URLError, ValueError) as e:
            logger.error("Alert webhook %s failed: %s", config.webhook, e)
    return done
