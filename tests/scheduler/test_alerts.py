"""Alert rules on fabricated run histories, and delivery to the log, a command and a webhook."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ogi.service.alerts import (
    Alert,
    AlertConfig,
    SourceResult,
    classify_run,
    deliver,
    run_alerts,
    stale_sources,
    suspect_sources,
)

CFG = AlertConfig(suspect_ratio=0.5, median_window=5, suspect_min_median=3, stale_factor=2)
NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)


def hist(source: str, founds: list[int], *, status: str = "ok", start_run: int = 100, days: int = 7) -> list[SourceResult]:
    """Results newest first: founds[0] is the latest run."""
    return [SourceResult(run_id=start_run - i, source=source, status=status, reports_found=n,
                         finished_at=NOW - timedelta(days=days * (i + 1))) for i, n in enumerate(founds)]


def res(source: str, found: int, status: str = "ok", run_id: int = 101) -> SourceResult:
    return SourceResult(run_id=run_id, source=source, status=status, reports_found=found, finished_at=NOW)


@pytest.mark.parametrize(
    ("exit_code", "timed_out", "results", "history", "status"),
    [
        (0, False, [res("a", 10)], {"a": hist("a", [10, 11, 9])}, "ok"),
        (1, False, [res("a", 10)], {}, "failed"),
        (0, True, [res("a", 10)], {}, "failed"),
        (0, False, [res("a", 0, "failed"), res("b", 0, "failed")], {}, "failed"),
        (0, False, [res("a", 0), res("b", 0)], {}, "empty"),
        (0, False, [], {}, "empty"),
        (0, False, [res("a", 2), res("b", 10)], {"a": hist("a", [10, 12, 9, 11]), "b": hist("b", [10])}, "suspect"),
        # not suspect: at half the median exactly, or a median too small to judge, or no history yet
        (0, False, [res("a", 5)], {"a": hist("a", [10, 10, 10])}, "ok"),
        (0, False, [res("a", 1)], {"a": hist("a", [2, 2, 2])}, "ok"),
        (0, False, [res("a", 1)], {}, "ok"),
    ],
)
def test_classify_run(exit_code, timed_out, results, history, status):
    got, detail = classify_run(exit_code=exit_code, timed_out=timed_out, results=results, history=history, config=CFG)
    assert got == status
    assert (detail == "") == (status == "ok")


def test_suspect_uses_median_of_recent_good_runs_only():
    # the failed and empty runs do not drag the median down; only the last 5 good runs count
    history = {"a": [*hist("a", [0, 0], status="failed"), *hist("a", [20, 20, 20, 20, 20, 1, 1, 1], start_run=98)]}
    assert suspect_sources([res("a", 9)], history, CFG) == [("a", 9, 20.0)]
    assert suspect_sources([res("a", 10)], history, CFG) == []


def test_run_alerts():
    failed = run_alerts(run_id=7, status="failed", detail="the crawl exited with status 2", results=[],
                        history={}, config=CFG)
    assert [a.rule for a in failed] == ["failed"]
    assert "status 2" in failed[0].message
    empty = run_alerts(run_id=8, status="empty", detail="", results=[res("a", 0)], history={}, config=CFG)
    assert [a.rule for a in empty] == ["empty"]
    suspect = run_alerts(run_id=9, status="suspect", detail="", results=[res("a", 1), res("b", 9)],
                         history={"a": hist("a", [10, 10]), "b": hist("b", [9, 9])}, config=CFG)
    assert [(a.rule, a.source) for a in suspect] == [("suspect", "a")]
    assert suspect[0].details == {"found": 1, "median": 10.0}
    assert run_alerts(run_id=10, status="ok", detail="", results=[res("a", 10)], history={"a": hist("a", [10])},
                      config=CFG) == []


def test_stale_sources():
    week = timedelta(days=7)
    history = {
        "fresh": hist("fresh", [10], days=7),  # last good run 7 days ago: fine with a weekly interval
        "old": hist("old", [10], days=20),  # 20 days > 2 x 7
        "broken": [*hist("broken", [0, 0], status="failed", days=3), *hist("broken", [5], start_run=98, days=30)],
        "never": hist("never", [0, 0, 0], status="failed", days=10),  # first attempt 30 days ago, never good
        "new": hist("new", [0], status="failed", days=1),  # one failure yesterday: too early to say
        "unknown": [],
    }
    alerts = stale_sources(history, now=NOW, interval=week, config=CFG)
    assert sorted(a.source for a in alerts) == ["broken", "never", "old"]
    assert all(a.rule == "stale" for a in alerts)
    by = {a.source: a for a in alerts}
    assert "no good run since" in by["old"].message
    assert "7 days" in by["old"].message
    assert by["never"].details["since_run_id"] is None
    # a month-long interval makes the 20-day-old run fine
    assert [a.source for a in stale_sources(history, now=NOW, interval=timedelta(days=30), config=CFG)] == []


def test_alert_key_is_stable_per_condition():
    a1 = Alert("stale", "x", source="s", details={"since_run_id": 4})
    a2 = Alert("stale", "y", source="s", details={"since_run_id": 4})
    assert a1.key == a2.key == "stale:s:4"
    assert Alert("failed", "x", run_id=3).key == "failed:*:3"


def test_deliver_to_log_and_command(tmp_path, caplog):
    out = tmp_path / "alert.json"
    script = tmp_path / "hook.py"
    script.write_text("import sys, os, pathlib\n"
                      f"pathlib.Path({str(out)!r}).write_text(sys.stdin.read() + '\\n' + os.environ['OGI_ALERT_RULE'])\n")
    config = AlertConfig(command=(sys.executable, str(script)))
    with caplog.at_level(logging.WARNING, logger="ogi.service.alerts"):
        channels = deliver(Alert("empty", "run 3 found no report", run_id=3), config)
    assert channels == ["log", "command"]
    assert "ALERT [empty] run 3 found no report" in caplog.text
    body, rule = out.read_text().rsplit("\n", 1)
    assert rule == "empty"
    assert json.loads(body) | {} == {"rule": "empty", "message": "run 3 found no report", "source": None,
                                     "run_id": 3, "severity": "warning", "details": {}, "key": "empty:*:3"}


def test_broken_delivery_never_raises(tmp_path, caplog):
    config = AlertConfig(command=(str(tmp_path / "no-such-program"),), webhook="http://127.0.0.1:9/hook",
                         timeout_seconds=2)
    with caplog.at_level(logging.ERROR, logger="ogi.service.alerts"):
        assert deliver(Alert("failed", "boom"), config) == ["log"]
    assert "Alert command" in caplog.text
    assert "Alert webhook" in caplog.text
    failing = AlertConfig(command=(sys.executable, "-c", "import sys; sys.exit(3)"))
    assert deliver(Alert("failed", "boom"), failing) == ["log"]


def test_deliver_to_webhook():
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        channels = deliver(Alert("suspect", "source a found 1", source="a", run_id=5), AlertConfig(webhook=url))
    finally:
        server.shutdown()
        server.server_close()
    assert channels == ["log", "webhook"]
    assert received[0]["rule"] == "suspect"
    assert received[0]["source"] == "a"
    assert received[0]["key"] == "suspect:a:5"
