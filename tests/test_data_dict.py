"""docs/data.md's data dictionary is generated from archive/schema/ (scripts/gen_data_dict.py) and up to
date; the generator writes only between its markers."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

from archive import schema

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("gen_data_dict", ROOT / "scripts" / "gen_data_dict.py")
assert spec and spec.loader
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def _region() -> str:
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    assert text.count(gen.BEGIN) == 1 and text.count(gen.END) == 1
    return text.split(gen.BEGIN, 1)[1].split(gen.END, 1)[0]


def test_data_md_is_up_to_date() -> None:
    assert gen.main(["--check"]) == 0, "run: python scripts/gen_data_dict.py"


def test_every_table_column_rule_flag_and_status_is_defined() -> None:
    region = _region()
    con = sqlite3.connect(":memory:")
    for version in sorted(schema.MIGRATIONS):
        con.executescript(schema.MIGRATIONS[version])
    for table in (*schema.TABLES, *schema.VIEWS):
        assert f"#### `{table}`" in region, table
        for row in con.execute(f"PRAGMA table_info({table})"):
            assert f"| `{row[1]}` |" in region, (table, row[1])
    for rule, (_kind, formula) in schema.CHECK_RULES.items():
        assert f"| `{rule}` |" in region and formula.replace("|", "\\|") in region, rule
    for flag in schema.FLAGS:
        assert f"| `{flag}` |" in region, flag
    for status in (*schema.RUN_STATUSES, *schema.PARSE_STATUSES, *schema.COMPLETENESS, *schema.FORMATS):
        assert f"`{status}`" in region, status
    for row in schema.T3_ALL_ROWS:
        assert f"| `{row}` |" in region, row


def test_generator_leaves_text_outside_the_markers_alone() -> None:
    before = "# Data\n\nintro by hand\n\n"
    after = "\n\n## Across reports\n\nhand-written, with a | pipe\n"
    doc = before + gen.BEGIN + "\nstale\n" + gen.END + after
    out = gen.render(doc)
    assert out.startswith(before + gen.BEGIN) and out.endswith(gen.END + after)
    assert "stale" not in out and gen.render(out) == out
    fresh = gen.render("# Data\n\n## Across reports\n\ntext\n")  # no markers yet: inserted after the title
    assert fresh.startswith("# Data\n\n" + gen.BEGIN) and fresh.endswith("## Across reports\n\ntext\n")
