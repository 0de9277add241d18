"""Fixtures for the scheduler tests: an archive path, a config whose crawl is a fake script, a plan writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# tests/ is on sys.path (rootdir conftest), and its empty tests/archive, tests/crawler dirs would shadow the
# real packages as namespace packages: put the project root first.
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

from ogi.service.config import ScheduleConfig, load_config, replace_config  # noqa: E402

FAKE_CRAWL = HERE / "fake_crawl.py"


def need(condition: bool, reason: str) -> None:
    """Skip when something the test needs is missing, but fail under CI (which installs everything)."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "archive.db")


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write the fake crawl's plan and point $FAKE_CRAWL_PLAN at it; returns the plan path."""
    path = tmp_path / "plan.json"

    def write(**data: Any) -> Path:
        path.write_text(json.dumps(data))
        monkeypatch.setenv("FAKE_CRAWL_PLAN", str(path))
        return path

    return write


@pytest.fixture
def config() -> ScheduleConfig:
    """The bundled config with the fake crawl as its command and short limits."""
    return replace_config(
        load_config(),
        crawl_command=(sys.executable, str(FAKE_CRAWL), "--db", "{db}", "--run-id", "{run_id}",
                       "--trigger", "{trigger}"),
        run_timeout_minutes=1.0,
        stop_grace_seconds=5.0,
    )


def start_service(db: str, config: Path, log: Path) -> subprocess.Popen:
    """`python scheduler.py` in the background, its log appended to `log`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(ROOT / "scheduler.py"), "--db", db, "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"), env=env, cwd=ROOT)


def stop_service(proc: subprocess.Popen, timeout: float) -> int:
    """SIGTERM the service and wait at most `timeout` seconds for its exit status (killed and raised after)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
