"""Fixtures for the archive tests: a fresh archive, parse-shaped dicts from the real fixtures, a CI-aware skip."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# tests/ is on sys.path (tests/conftest.py has no package), so this directory, tests/archive/, would shadow the
# real `archive` package as a namespace package: put the project root first.
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))
if getattr(sys.modules.get("archive"), "__file__", "x") is None:
    del sys.modules["archive"]

from archive import Archive, open_archive  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "real"
REAL_REPORTS = sorted(
    p for p in REAL.iterdir() if p.suffix in (".txt", ".html") and p.with_suffix(".json").exists()
)


def need_or_skip(condition: bool, reason: str) -> None:
    """Skip when something the test needs is missing, but fail under CI (which installs everything)."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def need() -> Callable[[bool, str], None]:
    """``need(condition, reason)``: skip locally, fail under CI."""
    return need_or_skip


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ogi.db"


@pytest.fixture
def arc(db_path: Path) -> Iterator[Archive]:
    a = open_archive(db_path)
    yield a
    a.close()


def parsed_from_fixture(name: str, **over: Any) -> dict[str, Any]:
    """A parse object (the `ogi parse --json` shape) built from a real fixture's hand-checked cells."""
    exp = json.loads((REAL / f"{name}.json").read_text(encoding="utf-8"))
    cells: dict[str, Any] = dict(exp["expected_cells"])
    fmt = exp.get("format") or "gov2021"
    blanks = set(exp.get("printed_blank_or_dash") or [])
    flags = {k: ("blank" if k in blanks else "num") for k in cells}
    raw = {k: ("" if k in blanks else str(v)) for k, v in cells.items()}
    checks = [
        {"rule": "I1", "scope": "total", "status": "ok", "lhs": 1, "rhs": 1},
        {"rule": "I4", "scope": "t4.review", "status": "unknown", "lhs": None, "rhs": None},
    ]
    out: dict[str, Any] = {
        "source": f"{name}.txt",
        "ok": True,
        "error": None,
        "status": "report" if fmt != "pre2019" else "pre2019",
        "source_kind": "text",
        "title": f"{exp['agency']}{exp['year']}年政府信息公开工作年度报告",
        "agency": exp["agency"],
        "year": exp["year"],
        "year_source": "title",
        "published": f"{exp['year'] + 1}-01-20",
        "scope": "self",
        "formats": {"t2": fmt, "t3": fmt, "t4": fmt},
        "mixed_format": False,
        "cells": cells,
        "flags": flags,
        "raw": raw,
        "paths": {k: "text" for k in cells},
        "checks": checks,
        "sections": {
            "s1.overview": f"{exp['agency']}深入贯彻落实《中华人民共和国政府信息公开条例》，依申请公开工作稳步推进。",
            "s5.problems": "政策解读形式较为单一，基层公开标准化水平有待提升。",
        },
        "warnings": [],
        "text": "全文",
    }
    out.update(over)
    return out


@pytest.fixture
def make_parsed() -> Callable[..., dict[str, Any]]:
    return parsed_from_fixture


@contextlib.contextmanager
def datasette_process(db: Path | str, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A plain ``datasette serve DB ARGS`` process on a free loopback port, as a user starts it: yields (process,
    base URL) once it answers, and stops it after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("datasette")
    proc = subprocess.Popen([str(exe), "serve", str(db), *args, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "datasette did not start"
                time.sleep(0.2)
        yield proc, base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
