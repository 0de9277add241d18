"""The scheduler's configuration: one YAML file (`ogi/service/schedule.yaml` by default), read and validated here.

Settings:
- `timezone`: the zone every cron field is read in (default Asia/Shanghai).
- `misfire_grace_hours`: how late a missed run may be caught up on start (per job overridable).
- `run_timeout_minutes`, `stop_grace_seconds`: the hard time limit of a run and how long a stopping crawl gets.
- `crawl_command`: the subprocess a run executes (null = this Python's `ogi crawl`).
- `modes`: extra crawl arguments per job mode; `jobs`: id -> mode, cron entries, sources.
- `alerts`: suspect/stale thresholds and the optional delivery command or webhook.

Invalid configuration fails fast with `ConfigError` naming the setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

DEFAULT_CONFIG = Path(__file__).with_name("schedule.yaml")
CONFIG_ENV = "OGI_SCHEDULE_CONFIG"
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
JOB_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


class ConfigError(ValueError):
    """The schedule configuration is invalid."""


@dataclass(frozen=True)
class JobConfig:
    """One scheduled job: a stable id, the crawl mode, when it fires and which sources it covers."""

    id: str
    mode: str
    cron: tuple[dict[str, Any], ...]
    description: str = ""
    sources: tuple[str, ...] = ()
    misfire_grace_hours: float = 72.0

    def trigger(self, tz: ZoneInfo) -> BaseTrigger:
        """Return the APScheduler trigger (a CronTrigger, or an OrTrigger of several)."""
        triggers = [CronTrigger(timezone=tz, **entry) for entry in self.cron]
        return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)

    def fire_times(self, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
        """Return every fire time in [start, end)."""
        trigger = self.trigger(tz)
        times: list[datetime] = []
        previous = None
        current = trigger.get_next_fire_time(None, start)
        while current is not None and current < end:
            times.append(current)
            previous = current
            current = trigger.get_next_fire_time(previous, current + timedelta(seconds=1))
        return times


@dataclass(frozen=True)
class AlertConfig:
    """Thresholds of the alert rules and where alerts go besides the log."""

    suspect_ratio: float = 0.5
    median_window: int = 5
    suspect_min_median: float = 3.0
    stale_factor: float = 2.0
    command: tuple[str, ...] | None = None
    webhook: str | None = None
    timeout_seconds: float = 30.0
    lost_items: bool = True  # the lost_items rule (a column lost items); false turns it off
    lost_items_min_missing: int = 1  # fire when at least this many items are missing (when the number is known)


@dataclass(frozen=True)
class ScheduleConfig:
    """The whole scheduler configuration."""

    timezone: str = "Asia/Shanghai"
    misfire_grace_hours: float = 72.0
    run_timeout_minutes: float = 360.0
    stop_grace_seconds: float = 60.0
    crawl_command: tuple[str, ...] | None = None
    modes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    jobs: tuple[JobConfig, ...] = ()
    alerts: AlertConfig = field(default_factory=AlertConfig)
    path: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def job(self, job_id: str) -> JobConfig:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise ConfigError(f"Unknown job: {job_id!r} (configured: {', '.join(j.id for j in self.jobs)})")


def config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the config file to use: the argument, then $OGI_SCHEDULE_CONFIG, then the bundled default."""
    if path:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: str | os.PathLike[str] | None = None) -> ScheduleConfig:
    """Read and validate the configuration file; raise ConfigError with a clear message."""
    p = config_path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"Cannot read schedule config {p}: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = " ".join(str(getattr(e, "problem", None) or e).split())
        raise ConfigError(f"Schedule config {p} is not valid YAML: {what}{where}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"Schedule config {p} is not UTF-8 text (is it a YAML file?): {e.reason} at byte {e.start}") from e
    return parse_config(data, path=str(p))


def _number(data: dict[str, Any], key: str, default: float, *, where: str, minimum: float = 0.0) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}{key} must be a number, got {value!r}")
    if value <= minimum:
        raise ConfigError(f"{where}{key} ({value!r}) must be higher than {minimum:g}")
    return float(value)


def _flag(data: dict[str, Any], key: str, default: bool, *, where: str) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}{key} must be true or false, got {value!r}")
    return value


def _command(value: Any, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key} must be null or a non-empty list of strings, got {value!r}")
    return tuple(value)


def _job(job_id: Any, data: Any, *, modes: dict[str, tuple[str, ...]], grace: float, tz: ZoneInfo) -> JobConfig:
    if not isinstance(job_id, str) or not job_id or set(job_id) - JOB_ID_CHARS:
        raise ConfigError(f"Job id {job_id!r} must be lower-case letters, digits, '-' or '_'")
    where = f"jobs.{job_id}."
    if not isinstance(data, dict):
        raise ConfigError(f"jobs.{job_id} must be a mapping")
    unknown = set(data) - {"mode", "cron", "description", "sources", "misfire_grace_hours"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    mode = data.get("mode", "full")
    if mode not in modes:
        raise ConfigError(f"{where}mode {mode!r} is not one of the modes: {', '.join(sorted(modes))}")
    cron = data.get("cron")
    if isinstance(cron, dict):
        cron = [cron]
    if not isinstance(cron, list) or not cron:
        raise ConfigError(f"{where}cron must be a list of cron entries")
    entries: list[dict[str, Any]] = []
    for entry in cron:
        if not isinstance(entry, dict) or not entry:
            raise ConfigError(f"{where}cron entries must be mappings, got {entry!r}")
        bad = set(entry) - set(CRON_FIELDS)
        if bad:
            raise ConfigError(f"{where}cron: unknown field(s) {', '.join(sorted(bad))} (use {', '.join(CRON_FIELDS)})")
        try:
            CronTrigger(timezone=tz, **entry)
        except ValueError as e:
            raise ConfigError(f"{where}cron {entry!r}: {e}") from e
        entries.append(dict(entry))
    sources = data.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
        raise ConfigError(f"{where}sources must be a list of source names")
    description = data.get("description") or ""
    return JobConfig(
        id=job_id,
        mode=mode,
        cron=tuple(entries),
        description=str(description),
        sources=tuple(sources),
        misfire_grace_hours=_number(data, "misfire_grace_hours", grace, where=where),
    )


def parse_config(data: Any, *, path: str = "") -> ScheduleConfig:
    """Validate a loaded YAML mapping and build the ScheduleConfig."""
    if not isinstance(data, dict):
        raise ConfigError(f"Schedule config {path} must be a mapping")
    known = {"timezone", "misfire_grace_hours", "run_timeout_minutes", "stop_grace_seconds", "crawl_command",
             "modes", "jobs", "alerts"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"Schedule config {path}: unknown setting(s) {', '.join(sorted(unknown))}")
    tz_name = data.get("timezone", "Asia/Shanghai")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"timezone {tz_name!r} is not a known IANA time zone") from e
    grace = _number(data, "misfire_grace_hours", 72.0, where="")
    raw_modes = data.get("modes") or {"full": [], "light": [], "revisions": []}
    if not isinstance(raw_modes, dict):
        raise ConfigError("modes must be a mapping of mode name -> list of extra crawl arguments")
    modes: dict[str, tuple[str, ...]] = {}
    for name, args in raw_modes.items():
        args = args or []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ConfigError(f"modes.{name} must be a list of strings")
        modes[str(name)] = tuple(args)
    raw_jobs = data.get("jobs")
    if not isinstance(raw_jobs, dict) or not raw_jobs:
        raise ConfigError("jobs must be a non-empty mapping of job id -> job")
    jobs = tuple(_job(k, v, modes=modes, grace=grace, tz=tz) for k, v in raw_jobs.items())
    raw_alerts = data.get("alerts") or {}
    if not isinstance(raw_alerts, dict):
        raise ConfigError("alerts must be a mapping")
    webhook = raw_alerts.get("webhook")
    if webhook is not None and (not isinstance(webhook, str) or not webhook.startswith(("http://", "https://"))):
        raise ConfigError(f"alerts.webhook must be an http(s) URL, got {webhook!r}")
    ratio = _number(raw_alerts, "suspect_ratio", 0.5, where="alerts.")
    if ratio >= 1:
        raise ConfigError(f"alerts.suspect_ratio ({ratio!r}) must be lower than 1")
    alerts = AlertConfig(
        suspect_ratio=ratio,
        median_window=int(_number(raw_alerts, "median_window", 5, where="alerts.")),
        suspect_min_median=_number(raw_alerts, "suspect_min_median", 3, where="alerts.", minimum=-1),
        stale_factor=_number(raw_alerts, "stale_factor", 2, where="alerts."),
        command=_command(raw_alerts.get("command"), "alerts.command"),
        webhook=webhook,
        timeout_seconds=_number(raw_alerts, "timeout_seconds", 30, where="alerts."),
        lost_items=_flag(raw_alerts, "lost_items", True, where="alerts."),
        lost_items_min_missing=int(_number(raw_alerts, "lost_items_min_missing", 1, where="alerts.")),
    )
    return ScheduleConfig(
        timezone=str(tz_name),
        misfire_grace_hours=grace,
        run_timeout_minutes=_number(data, "run_timeout_minutes", 360, where=""),
        stop_grace_seconds=_number(data, "stop_grace_seconds", 60, where=""),
        crawl_command=_command(data.get("crawl_command"), "crawl_command"),
        modes=modes,
        jobs=jobs,
        alerts=alerts,
        path=path,
    )


def replace_config(config: ScheduleConfig, **changes: Any) -> ScheduleConfig:
    """Return a copy with some settings changed (tests and command-line overrides)."""
    from dataclasses import replace

    return replace(config, **changes)
