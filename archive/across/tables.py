"""DDL of the across-report tables (derived data: dropped and rebuilt by ``recompute_across``, never migrated)."""

from __future__ import annotations

import sqlite3
from typing import Any

# table -> ((column, SQL type or ''), ...); cell-like values (lhs, rhs, printed, summed...) have no type so
# SQLite keeps ints as ints and floats as floats
DERIVED_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "bodies": (
        ("body_id", "TEXT PRIMARY KEY"), ("name", "TEXT NOT NULL"), ("kind", "TEXT"), ("level", "TEXT"),
        ("province", "TEXT"), ("prefecture", "TEXT"), ("county", "TEXT"), ("region_code", "TEXT"),
        ("first_year", "INTEGER"), ("last_year", "INTEGER"), ("reports", "INTEGER"), ("expected_only", "INTEGER"),
    ),
    "body_names": (
        ("body_id", "TEXT"), ("name", "TEXT"), ("normalised", "TEXT"), ("canonical", "TEXT"), ("rule", "TEXT"),
        ("note", "TEXT"), ("reports", "INTEGER"), ("years", "TEXT"),
    ),
    "body_reports": (
        ("report_id", "INTEGER PRIMARY KEY"), ("body_id", "TEXT"), ("year", "INTEGER"), ("series", "TEXT"),
        ("name_rule", "TEXT"), ("duplicate_of", "INTEGER"), ("reason", "TEXT"), ("series_note", "TEXT"),
    ),
    "cross_checks": (
        ("report_id", "INTEGER NOT NULL"), ("prev_report_id", "INTEGER"), ("rule", "TEXT NOT NULL"),
        ("scope", "TEXT NOT NULL"), ("status", "TEXT NOT NULL CHECK (status IN ('ok', 'fail', 'unknown'))"),
        ("lhs", ""), ("rhs", ""), ("detail", "TEXT"), ("body_id", "TEXT"), ("series", "TEXT"), ("year", "INTEGER"),
    ),
    "coverage": (
        ("body_id", "TEXT NOT NULL"), ("name", "TEXT"), ("kind", "TEXT"), ("level", "TEXT"), ("province", "TEXT"),
        ("prefecture", "TEXT"), ("county", "TEXT"), ("year", "INTEGER NOT NULL"), ("status", "TEXT"),
        ("report_id", "INTEGER"), ("published", "TEXT"), ("deadline", "TEXT"), ("timeliness", "TEXT"),
        ("days_late", "INTEGER"), ("edited_after_publication", "INTEGER"), ("edits", "INTEGER"),
    ),
    "edits": (
        ("report_id", "INTEGER"), ("body_id", "TEXT"), ("from_version_id", "INTEGER"), ("to_version_id", "INTEGER"),
        ("url", "TEXT"), ("published", "TEXT"), ("saved_at", "TEXT"), ("changed_cells", "TEXT"),
        ("cells_changed", "INTEGER"), ("changed_sections", "TEXT"), ("diff", "TEXT"),
    ),
    "similarity": (
        ("report_id", "INTEGER NOT NULL"), ("other_report_id", "INTEGER"), ("relation", "TEXT"), ("section", "TEXT"),
        ("score", "REAL"), ("template_score", "REAL"), ("length", "INTEGER"), ("other_length", "INTEGER"),
        ("longest_passage", "INTEGER"), ("passages", "TEXT"), ("flag", "TEXT"),
    ),
    "rates": (
        ("report_id", "INTEGER NOT NULL"), ("body_id", "TEXT"), ("name", "TEXT"), ("year", "INTEGER"),
        ("level", "TEXT"), ("province", "TEXT"), ("series", "TEXT"), ("rate", "TEXT NOT NULL"), ("label_zh", "TEXT"),
        ("formula", "TEXT"), ("numerator", ""), ("denominator", ""), ("value", "REAL"), ("rated", "INTEGER"),
        ("percentile", "REAL"), ("peers", "INTEGER"), ("reason", "TEXT"),
    ),
    "rollups": (
        ("report_id", "INTEGER NOT NULL"), ("body_id", "TEXT"), ("name", "TEXT"), ("year", "INTEGER"),
        ("key", "TEXT NOT NULL"), ("printed", ""), ("summed", ""), ("members_found", "INTEGER"),
        ("members_known", "INTEGER"), ("coverage_share", "REAL"), ("status", "TEXT NOT NULL"), ("detail", "TEXT"),
    ),
}
_INDEXES: tuple[str, ...] = (
    "CREATE INDEX body_reports_body ON body_reports(body_id, year)",
    "CREATE INDEX cross_checks_report ON cross_checks(report_id)",
    "CREATE INDEX cross_checks_status ON cross_checks(status, rule)",
    "CREATE INDEX coverage_body ON coverage(body_id, year)",
    "CREATE INDEX coverage_province ON coverage(province, year, timeliness)",
    "CREATE INDEX similarity_report ON similarity(report_id)",
    "CREATE INDEX similarity_flag ON similarity(flag, relation)",
    "CREATE INDEX rates_rate ON rates(rate, year, level, province)",
    "CREATE INDEX rollups_report ON rollups(report_id)",
)
_VIEWS: dict[str, str] = {
    # one row per body and year: found or missing, on time or late, the headline numbers as printed
    "body_timeline": """
        SELECT c.body_id, c.name, c.year, c.status, c.timeliness, c.days_late, c.published, c.deadline,
               c.edited_after_publication, r.id AS report_id, r.scope, r.t3_format, r.received_new,
               r.outcome_total, r.carried_out, r.review_total, r.litigation_total, r.check_status,
               (SELECT count(*) FROM cross_checks x WHERE x.report_id = r.id AND x.status = 'fail') AS cross_fail
        FROM coverage c LEFT JOIN reports r ON r.id = c.report_id""",
    # year-over-year change of the headline numbers of one body's series (self scope)
    "yoy_jumps": """
        SELECT b.body_id, bo.name, bo.province, b.year, r.id AS report_id, p.id AS prev_report_id,
               p.received_new AS prev_received_new, r.received_new,
               r.received_new - p.received_new AS delta_received_new,
               CASE WHEN p.received_new > 0 THEN round(1.0 * r.received_new / p.received_new, 3) END AS ratio_received_new,
               p.review_total AS prev_review_total, r.review_total,
               p.litigation_total AS prev_litigation_total, r.litigation_total
        FROM body_reports b
        JOIN body_reports pb ON pb.body_id = b.body_id AND pb.series = b.series AND pb.year = b.year - 1
             AND pb.duplicate_of IS NULL
        JOIN reports r ON r.id = b.report_id JOIN reports p ON p.id = pb.report_id
        JOIN bodies bo ON bo.body_id = b.body_id
        WHERE b.duplicate_of IS NULL AND b.series = 'self'""",
}
DERIVED_VIEWS: tuple[str, ...] = tuple(_VIEWS)


def create_sql() -> list[str]:
    """Given the definitions above, return the statements that drop and recreate every derived table and view."""
    out = [f"DROP VIEW IF EXISTS {v}" for v in _VIEWS]
    for table, cols in DERIVED_TABLES.items():
        out.append(f"DROP TABLE IF EXISTS {table}")
        out.append(f"CREATE TABLE {table} (" + ", ".join(f"{c} {t}".strip() for c, t in cols) + ")")
    out.extend(_INDEXES)
    out.extend(f"CREATE VIEW {v} AS {sql}" for v, sql in _VIEWS.items())
    return out


def insert_rows(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Given a derived table and its rows (dicts with at least its columns), insert them in one executemany."""
    cols = [c for c, _ in DERIVED_TABLES[table]]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    conn.executemany(sql, ([r.get(c) for c in cols] for r in rows))
