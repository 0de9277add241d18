"""Shared test helpers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"


def require_binary(name: str) -> str:
    """Path of a Debian binary a test needs. Skips locally when missing; fails under CI (CI installs it)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required in CI (scripts/setup-system.sh installs it)")
    pytest.skip(f"{name} not installed (run scripts/setup-system.sh)")
    raise AssertionError  # unreachable
