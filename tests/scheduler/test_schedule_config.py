"""The one config file: defaults, validation, and next-run calculations with a controlled clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

import scheduler
from ogi.service.config import DEFAULT_CONFIG, ConfigError, load_config, parse_config

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def next_fire(job_id: str, now: datetime) -> datetime | None:
    config = load_config()
    return config.job(job_id).trigger(config.tz).get_next_fire_time(None, now)


def test_bundled_config_defaults():
    config = load_config()
    assert config.timezone == "Asia/Shanghai"
    assert [j.id for j in config.jobs] == ["full-february", "full-april", "weekly-season", "monthly-revisions"]
    assert config.misfire_grace_hours >= 1  # hours, never APScheduler's default of 1 second
    assert {j.mode for j in config.jobs} <= set(config.modes)
    assert config.job("full-february").misfire_grace_hours == 168


@pytest.mark.parametrize(
    ("job", "now", "expected"),
    [
        # full refresh in early February, after the departments' 31 January deadline
        ("full-february", at(2025, 1, 10), at(2025, 2, 3, 2, 30)),
        ("full-february", at(2025, 2, 3, 2, 30, 1), at(2026, 2, 3, 2, 30)),
        # and again in early April, after the governments' 31 March deadline
        ("full-april", at(2025, 2, 10), at(2025, 4, 3, 2, 30)),
        # weekly light pass: Mondays from mid-January (15 Jan 2025 is a Wednesday) to the end of April
        ("weekly-season", at(2025, 1, 1), at(2025, 1, 20, 3)),
        ("weekly-season", at(2025, 1, 20, 3, 0, 1), at(2025, 1, 27, 3)),
        ("weekly-season", at(2025, 1, 28), at(2025, 2, 3, 3)),
        ("weekly-season", at(2025, 4, 28, 3, 0, 1), at(2026, 1, 19, 3)),  # nothing in May..mid-January
        # monthly revisions pass the rest of the year (May..December and 1 January)
        ("monthly-revisions", at(2025, 2, 1), at(2025, 5, 1, 4)),
        ("monthly-revisions", at(2025, 5, 1, 4, 0, 1), at(2025, 6, 1, 4)),
        ("monthly-revisions", at(2025, 12, 1, 4, 0, 1), at(2026, 1, 1, 4)),
        ("monthly-revisions", at(2026, 1, 1, 4, 0, 1), at(2026, 5, 1, 4)),
    ],
)
def test_next_run_times(job, now, expected):
    assert next_fire(job, now) == expected


def test_fire_times_are_shanghai_wall_clock():
    fire = next_fire("full-february", at(2025, 1, 10))
    assert fire.utcoffset() == timedelta(hours=8)
    assert fire.astimezone(ZoneInfo("UTC")) == datetime(2025, 2, 2, 18, 30, tzinfo=ZoneInfo("UTC"))


def test_a_year_of_runs():
    config = load_config()
    start, end = at(2025, 1, 1), at(2026, 1, 1)
    runs = {j.id: j.fire_times(config.tz, start, end) for j in config.jobs}
    assert len(runs["full-february"]) == 1
    assert len(runs["full-april"]) == 1
    weekly = runs["weekly-season"]
    assert weekly[0] == at(2025, 1, 20, 3)
    assert weekly[-1] == at(2025, 4, 28, 3)
    assert all(t.weekday() == 0 for t in weekly)
    assert len(weekly) == 15
    assert [t.month for t in runs["monthly-revisions"]] == [1, 5, 6, 7, 8, 9, 10, 11, 12]


@pytest.mark.parametrize(
    ("now", "interval"),
    [
        (at(2025, 3, 12), timedelta(days=7)),  # in season: weekly
        (at(2025, 7, 15), timedelta(days=30)),  # June 1 -> July 1
    ],
)
def test_schedule_interval(now, interval):
    assert scheduler.schedule_interval(load_config(), now) == interval


def _data() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone"),
        (lambda d: d.update(misfire_grace_hours=0), "misfire_grace_hours"),
        (lambda d: d.update(misfire_grace_hours="soon"), "misfire_grace_hours"),
        (lambda d: d.update(run_timeout_minutes=-5), "run_timeout_minutes"),
        (lambda d: d.update(jobs={}), "jobs"),
        (lambda d: d["jobs"]["full-april"].update(mode="turbo"), "mode"),
        (lambda d: d["jobs"]["full-april"].update(cron=[{"hour": 25}]), "cron"),
        (lambda d: d["jobs"]["full-april"].update(cron=[{"hours": 2}]), "unknown field"),
        (lambda d: d["jobs"].update({"Bad Id": d["jobs"]["full-april"]}), "Job id"),
        (lambda d: d["alerts"].update(webhook="ftp://x"), "webhook"),
        (lambda d: d["alerts"].update(suspect_ratio=1.5), "suspect_ratio"),
        (lambda d: d.update(crawl_command=[]), "crawl_command"),
        (lambda d: d.update(surprise=1), "unknown setting"),
    ],
)
def test_invalid_config_fails_fast(change, message):
    data = _data()
    change(data)
    with pytest.raises(ConfigError, match=message):
        parse_config(data, path="test.yaml")


def test_unreadable_config(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("jobs: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_config_env_variable(tmp_path, monkeypatch):
    data = _data()
    data["timezone"] = "UTC"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("OGI_SCHEDULE_CONFIG", str(path))
    assert load_config().timezone == "UTC"
