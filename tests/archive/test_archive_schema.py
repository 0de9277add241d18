"""The archive's key structure matches the parser's keys, and metadata.yml describes every table and column."""

from __future__ import annotations

import pytest

from archive import schema
from archive.serve import load_metadata
from crawler.parsers import keys


def test_t3_rows_and_columns_match_the_parser_keys():
    assert schema.T3_COLS == keys.T3_COLS
    for fmt, rows in keys.T3_ROWS.items():
        assert set(rows) <= set(schema.T3_ROWS), fmt
    assert set(keys.T3_GROUPS) <= set(schema.T3_ROWS)
    # the physical gov2021 order is kept
    order = list(schema.T3_ROWS)
    assert [r for r in order if r in keys.T3_ROWS["gov2021"]] == list(keys.T3_ROWS["gov2021"])


def test_t4_and_t2_match_the_parser_keys():
    assert tuple(schema.T4_GROUPS) == keys.T4_GROUPS
    assert schema.T4_COLS == keys.T4_COLS
    for fmt, rows in keys.T2_ROWS.items():
        for row, cols in rows:
            assert row in schema.T2_ROWS, (fmt, row)
            assert set(cols) <= set(schema.T2_COLS), (fmt, row)
    assert set(keys.SECTION_KEYS) == set(schema.SECTION_LABELS)


def test_every_parser_key_has_a_label(arc):
    for fmt in ("gov2021", "gov2019"):
        for key in keys.t3_keys(fmt) + keys.t2_keys(fmt) + list(keys.T4_KEYS):
            zh, en, _unit = schema.key_labels(key)
            assert zh != key and en != key, key
            assert key in arc._key_ids, key  # seeded in the keys table


def test_metadata_describes_every_table_and_column(arc):
    meta = load_metadata("ogi")
    tables = meta["databases"]["ogi"]["tables"]
    names = [r[0] for r in arc.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    visible = [n for n in names if not n.startswith(("sections_fts", "sqlite_"))]
    assert set(visible) == set(schema.TABLES) | set(schema.VIEWS)
    for name in visible:
        assert name in tables, f"metadata.yml has no entry for {name}"
        entry = tables[name]
        assert " / " in entry["title"], f"{name}: title should be bilingual"
        assert entry.get("description"), name
        cols = [r[1] for r in arc.conn.execute(f"PRAGMA table_info([{name}])")]
        missing = [c for c in cols if c not in entry.get("columns", {})]
        assert not missing, f"{name}: columns without description: {missing}"
    for key in ("title", "license", "license_url", "source", "source_url"):
        assert meta.get(key), key


@pytest.mark.parametrize(
    "name", ["failing_checks", "totals_by_year_province", "narrative_mismatch", "search"]
)
def test_canned_queries_run(arc, name):
    sql = load_metadata()["databases"]["archive"]["queries"][name]["sql"]
    arc.conn.execute(sql, {"q": "公开"}).fetchall()
