"""The archive's key structure matches the parser's keys, and metadata.yml describes every table and column."""

from __future__ import annotations

import pytest

from archive import schema
from archive.serve import load_metadata
from crawler.parsers import keys


def test_parser_keys_are_the_schema_keys():
    """crawler.parsers.keys re-exports archive.schema: the same objects, under the names the parsers use."""
    assert keys.T3_COLS is schema.T3_COLS and keys.T4_COLS is schema.T4_COLS
    assert keys.T3_ROWS is schema.T3_FORMAT_ROWS and keys.T2_ROWS is schema.T2_FORMAT_ROWS
    assert keys.T4_GROUPS is schema.T4_GROUP_KEYS and keys.T4_KEYS is schema.T4_KEYS
    for name in keys.__all__:
        assert getattr(keys, name) is not None, name
    assert (schema.T3_WIDTH, schema.T4_WIDTH) == (7, 15)


def test_t3_rows_have_labels_in_physical_order():
    for fmt, rows in schema.T3_FORMAT_ROWS.items():
        assert set(rows) <= set(schema.T3_ROW_LABELS), fmt
    assert set(schema.T3_GROUPS) <= set(schema.T3_ROW_LABELS)
    assert list(schema.T3_ROW_LABELS) == list(schema.T3_ALL_ROWS)
    # the physical gov2021 order is kept
    order = list(schema.T3_ROW_LABELS)
    assert [r for r in order if r in schema.T3_FORMAT_ROWS["gov2021"]] == list(schema.T3_FORMAT_ROWS["gov2021"])


def test_t4_and_t2_rows_and_columns_have_labels():
    assert tuple(schema.T4_GROUP_LABELS) == schema.T4_GROUP_KEYS
    assert set(schema.T4_COL_LABELS) == set(schema.T4_COLS)
    for fmt, rows in schema.T2_FORMAT_ROWS.items():
        for row, cols in rows:
            assert row in schema.T2_ROW_LABELS, (fmt, row)
            assert set(cols) <= set(schema.T2_COL_LABELS), (fmt, row)
    assert set(schema.SECTION_KEYS) == set(schema.SECTION_LABELS)


def test_check_rules_registry():
    assert set(schema.CHECK_RULES) == {"I1", "I2", "I3", "I4", "I5", "S3"}
    for rule, (kind, description) in schema.CHECK_RULES.items():
        assert kind in schema.CHECK_KINDS, rule
        assert "=" in description or "≥" in description, (rule, description)  # the formula is stated
    assert schema.rule_kind("S3") == "narrative" and schema.rule_kind("I1") == "identity"
    assert schema.rule_kind("S9") is None


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
