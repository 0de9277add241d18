"""Across reports: derived tables rebuilt from the archive's current state after every import, crawl and reparse.

    from archive.across import recompute_across
    summary = recompute_across(arc)      # one transaction: drop and rebuild every derived table

Tables (all derived; never a printed value changed): ``bodies``, ``body_names``, ``body_reports``,
``cross_checks``, ``coverage``, ``edits``, ``similarity``, ``rates``, ``rollups``; views ``body_timeline`` and
``yoy_jumps``. The formulas and rules are in docs/data.md, "Across reports".

The package is lazy (PEP 562): the table definitions load without rapidfuzz/datasketch; ``recompute_across``
imports them on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.across.recompute import recompute_across
    from archive.across.tables import DERIVED_TABLES, DERIVED_VIEWS

__all__ = ["DERIVED_TABLES", "DERIVED_VIEWS", "recompute_across"]

_WHERE: dict[str, str] = {
    "recompute_across": "archive.across.recompute",
    "DERIVED_TABLES": "archive.across.tables",
    "DERIVED_VIEWS": "archive.across.tables",
}


def __getattr__(name: str) -> Any:
    """Given a public name of the package, import its module and return it (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'archive.across' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
