"""The `lost_items` alert rule (issue 10 item 1, "a column lost items"): one alert per source whose completeness
is partial in a finished run, with the numbers in the message; configurable (off, threshold); read from the
archive's run_sources through the scheduler's history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive import open_archive
from ogi.service.alerts import RULES, AlertConfig, SourceResult, lost_item_sources, run_alerts
from ogi.service.config import ConfigError, load_config, parse_config
from ogi.service.history import source_result

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
CFG = AlertConfig()


def res(source: str, **kw: object) -> SourceResult:
    return SourceResult(run_id=7, source=source, status=str(kw.pop("status", "ok")), reports_found=10,
                        finished_at=NOW, **kw)  # type: ignore[arg-type]


def alerts(results: list[SourceResult], config: AlertConfig = CFG, status: str = "ok") -> list:
    return [a for a in run_alerts(run_id=7, status=status, detail="", results=results, history={}, config=config)
            if a.rule == "lost_items"]


def test_partial_source_alerts_with_its_numbers() -> None:
    got = alerts([res("col-a", completeness="partial", declared=40, listed=17, archived=17, missing=23,
                      rejected={"not-report": 2}),
                  res("col-b", completeness="ok", declared=5, listed=5, archived=5, missing=0)])
    assert [a.source for a in got] == ["col-a"]
    a = got[0]
    assert a.run_id == 7 and a.key == "lost_items:col-a:7"
    for part in ("declared 40", "listed 17", "archived 17", "missing 23", "not-report 2", "partial"):
        assert part in a.message, a.message
    assert a.details["missing"] == 23 and a.details["declared"] == 40


@pytest.mark.parametrize("status", ["ok", "partial", "suspect", "empty"])
def test_fires_whatever_the_run_status(status: str) -> None:
    assert len(alerts([res("c", completeness="partial", missing=1)], status=status)) == 1


@pytest.mark.parametrize(
    ("kw", "fires"),
    [
        ({"completeness": "unknown", "declared": None, "listed": 9}, False),  # nothing declared: not a loss
        ({"completeness": "ok", "declared": 9, "listed": 9, "missing": 0}, False),
        ({"completeness": "partial"}, True),  # a partial source without counts still fires
        ({"completeness": None, "declared": 12, "listed": 10}, True),  # older rows: the numbers decide
        ({"completeness": None, "missing": 2}, True),
        ({"completeness": None, "declared": 10, "listed": 10, "missing": 0}, False),
        ({"status": "failed", "completeness": "partial", "missing": 3}, False),  # the failed rule's business
    ],
)
def test_which_sources_lost_items(kw: dict, fires: bool) -> None:
    assert bool(lost_item_sources([res("c", **kw)], CFG)) is fires


def test_configurable_off_and_threshold() -> None:
    lost = [res("small", completeness="partial", declared=20, listed=19, missing=1),
            res("big", completeness="partial", declared=20, listed=10, missing=10)]
    assert alerts(lost, AlertConfig(lost_items=False)) == []
    assert [a.source for a in alerts(lost, AlertConfig(lost_items_min_missing=5))] == ["big"]
    assert "lost_items" in RULES


def test_config_file_settings() -> None:
    import yaml

    base = load_config()
    assert base.alerts.lost_items is True and base.alerts.lost_items_min_missing == 1  # on by default
    data = yaml.safe_load(Path(base.path).read_text(encoding="utf-8"))
    cfg = parse_config({**data, "alerts": {**(data.get("alerts") or {}), "lost_items": False,
                                           "lost_items_min_missing": 3}})
    assert (cfg.alerts.lost_items, cfg.alerts.lost_items_min_missing) == (False, 3)


def test_bad_config_values_are_refused() -> None:
    import yaml

    data = yaml.safe_load(Path(load_config().path).read_text(encoding="utf-8"))
    for bad in ({"lost_items": "yes"}, {"lost_items_min_missing": 0}, {"lost_items_min_missing": "x"}):
        with pytest.raises(ConfigError, match="lost_items"):
            parse_config({**data, "alerts": {**(data.get("alerts") or {}), **bad}})
    good = parse_config({**data, "alerts": {**(data.get("alerts") or {}), "lost_items": False}})
    assert good.alerts.lost_items is False


def test_from_the_archive_run_sources(tmp_path: Path) -> None:
    """The numbers the crawl recorded in run_sources reach the rule through the scheduler's history."""
    arc = open_archive(tmp_path / "ogi.db")
    try:
        run = arc.start_run(kind="crawl", trigger="test", sources=["col-a", "col-b"])
        state = arc.record_source_result(run, "col-a", pages=2, reports_found=17, declared=40, listed=17,
                                         followed=17, archived=17, rejected={}, missing=23)
        arc.record_source_result(run, "col-b", pages=1, reports_found=5, declared=5, listed=5, followed=5,
                                 archived=5, rejected={}, missing=0)
        rows = arc.source_results(run)
    finally:
        arc.close()
    assert state == "partial"
    results = [source_result(r) for r in rows]
    got = alerts(results)
    assert [a.source for a in got] == ["col-a"] and "declared 40" in got[0].message and "missing 23" in got[0].message
