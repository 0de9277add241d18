"""``ogi export --format across``: every across-report table as JSON lines, with its codebook.

Each line is one row of one derived table: ``{"table": name, column: value, ...}``; tables in the order of
:data:`archive.across.tables.DERIVED_TABLES`. The codebook (CSV) names each table and column with the bilingual
descriptions of ``archive/metadata.yml``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Any

import yaml

from archive.across.tables import DERIVED_TABLES

METADATA = Path(__file__).resolve().parent.parent / "metadata.yml"


def write_across_jsonl(arc: Any, out: IO[str], codebook: Path | None = None) -> list[str]:
    """Given an archive and a stream, write every row of the across-report tables as JSON lines and, when
    ``codebook`` is given, the codebook there; return notes (tables never computed, no codebook)."""
    notes = []
    present = {r[0] for r in arc.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, cols in DERIVED_TABLES.items():
        if table not in present:
            notes.append(f"note: table {table} not computed yet (run ogi import or ogi reparse)")
            continue
        names = [c for c, _ in cols]
        for row in arc.conn.execute(f"SELECT {', '.join(names)} FROM {table}"):
            out.write(json.dumps({"table": table, **dict(zip(names, row, strict=True))}, ensure_ascii=False) + "\n")
    if codebook is None:
        notes.append("note: no codebook written (give --codebook PATH or -o FILE)")
    else:
        codebook.write_text(codebook_csv(), encoding="utf-8")
    return notes


def codebook_csv() -> str:
    """Given the table definitions and metadata.yml, return the codebook CSV: name (table or table.column),
    kind (table / column), sql_type, title and description (bilingual, where metadata.yml has them)."""
    meta: dict[str, Any] = {}
    try:
        meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]["tables"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        meta = {}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["name", "kind", "sql_type", "title", "description"])
    for table, cols in DERIVED_TABLES.items():
        tmeta = meta.get(table) or {}
        writer.writerow([table, "table", "", tmeta.get("title", ""), tmeta.get("description", "")])
        described = tmeta.get("columns") or {}
        for col, sql_type in cols:
            writer.writerow([f"{table}.{col}", "column", sql_type.split(" ")[0], "", described.get(col, "")])
    return buf.getvalue()
