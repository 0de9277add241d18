"""Read the current state of the archive that the across-report tables are derived from (one snapshot)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from archive import schema

_REPORT_COLS = (
    "id", "agency", "year", "scope", "province", "prefecture", "county", "region_code", "published",
    "t2_format", "t3_format", "t4_format", "parse_status", "current_version_id", "url", "versions",
)
T3_VALUE_COLS = schema.T3_COLS
T4_VALUE_COLS = schema.T4_COLS
T2_VALUE_COLS = ("issued", "repealed", "in_force")


@dataclass
class Snapshot:
    """Given an archive connection, the current reports with their table values and section texts.

    ``t3[report_id][row_key]`` is the tuple of the 7 applicant columns (None where unknown), ``t4`` the 5
    columns per group, ``t2`` (gov2021 columns issued/repealed/in_force) per row, ``sections[report_id][key]``.
    """

    reports: dict[int, dict[str, Any]] = field(default_factory=dict)
    t3: dict[int, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    t4: dict[int, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    t2: dict[int, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    sections: dict[int, dict[str, str]] = field(default_factory=dict)


def load_snapshot(conn: sqlite3.Connection) -> Snapshot:
    """Given the archive connection, return the :class:`Snapshot` of the current versions of all reports
    stored as reports (parse_status in REPORT_STATUSES)."""
    snap = Snapshot()
    marks = ",".join("?" * len(schema.REPORT_STATUSES))
    cur = conn.execute(
        f"SELECT {', '.join(_REPORT_COLS)} FROM reports WHERE parse_status IN ({marks})", schema.REPORT_STATUSES
    )
    for row in cur:
        snap.reports[row[0]] = dict(zip(_REPORT_COLS, row, strict=True))
    t3cols = ", ".join(T3_VALUE_COLS)
    for rid, rk, *vals in conn.execute(f"SELECT report_id, row_key, {t3cols} FROM t3 WHERE is_current = 1"):
        snap.t3.setdefault(rid, {})[rk] = tuple(vals)
    t4cols = ", ".join(T4_VALUE_COLS)
    for rid, grp, *vals in conn.execute(f"SELECT report_id, grp, {t4cols} FROM t4 WHERE is_current = 1"):
        snap.t4.setdefault(rid, {})[grp] = tuple(vals)
    t2cols = ", ".join(T2_VALUE_COLS)
    for rid, rk, *vals in conn.execute(
        f"SELECT report_id, row_key, {t2cols} FROM t2 WHERE is_current = 1 AND row_key IN"
        " ('t2.normative_doc', 't2.regulation')"
    ):
        snap.t2.setdefault(rid, {})[rk] = tuple(vals)
    for rid, key, text in conn.execute("SELECT report_id, key, text FROM sections WHERE is_current = 1"):
        snap.sections.setdefault(rid, {})[key] = text
    return snap


def t3_value(snap: Snapshot, report_id: int, row_key: str, col: str) -> Any:
    """Given a report and a table 三 row and column, return the stored value (None when absent or unknown)."""
    row = snap.t3.get(report_id, {}).get(row_key)
    return None if row is None else row[T3_VALUE_COLS.index(col)]


def t4_value(snap: Snapshot, report_id: int, grp: str, col: str) -> Any:
    """Given a report and a table 四 group and column, return the stored value (None when absent)."""
    row = snap.t4.get(report_id, {}).get(grp)
    return None if row is None else row[T4_VALUE_COLS.index(col)]


def is_num(v: Any) -> bool:
    """Given a stored cell value, return True when it is a number (not None, not a bool)."""
    return isinstance(v, int | float) and not isinstance(v, bool)
