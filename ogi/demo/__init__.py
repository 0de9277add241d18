"""Synthetic annual reports: consistent random reports and renderers into the layouts real portals use.

Used by the parser's property tests, ``ogi demo``, the test portal and the archive benchmark.
"""

from __future__ import annotations

from ogi.demo.render import render
from ogi.demo.synth import (
    LAYOUTS,
    SynthReport,
    compare,
    from_expected,
    identity_checks,
    printed_keys,
    random_report,
    rebalance,
    to_parsed_json,
)

__all__ = [
    "LAYOUTS",
    "SynthReport",
    "compare",
    "from_expected",
    "identity_checks",
    "printed_keys",
    "random_report",
    "rebalance",
    "render",
    "to_parsed_json",
]
