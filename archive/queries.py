"""The read side: parse objects rebuilt from stored versions (and their comparable form), full-text search with a short-query fallback, export of parse objects, the tidy long rows."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator
from typing import Any, Protocol

from archive import schema


class Archive(Protocol):
    """What the read side needs of an open :class:`archive.store.Archive` (typed structurally, so that this
    module does not import the store, which imports it)."""

    @property
    def conn(self) -> sqlite3.Connection: ...

logger = logging.getLogger(__name__)

# FTS5 trigram cannot match queries shorter than 3 characters: those use LIKE on the section text.
SEARCH_SQL = """
SELECT s.id, s.report_id, s.version_id, s.key, r.agency, r.year, r.province, r.title,
       substr(s.text, max(1, instr(s.text, :q) - 30), 80) AS snippet
FROM sections s JOIN reports r ON r.id = s.report_id
WHERE s.is_current = 1 AND (
  (length(:q) >= 3 AND s.id IN (SELECT rowid FROM sections_fts WHERE sections_fts MATCH '"' || replace(:q, '"', '""') || '"'))
  OR (length(:q) BETWEEN 1 AND 2 AND s.text LIKE '%' || :q || '%')
)
ORDER BY r.year DESC, s.report_id, s.key
LIMIT :limit
"""

LONG_COLUMNS = (
    "report_id",
    "version_id",
    "agency",
    "year",
    "province",
    "key",
    "value",
    "raw",
    "flag",
    "path",
    "sha256",
    "url",
)


def _canon_raw(value: Any, raw: Any) -> Any:
    """Raw text stored only when it differs from the plain rendering of an integer value (saves space)."""
    if raw is not None and type(value) is int and raw == str(value):
        return None
    return raw


def main_path(paths: dict[str, Any]) -> Any:
    """Given the cells' reader paths, return the most common one (stored once per version; cells store only paths that differ)."""
    if not paths:
        return None
    return Counter(paths.values()).most_common(1)[0][0]  # ties: the first seen, as max() over a dict


def _plain(obj: Any) -> Any:
    """JSON-shaped copy (tuples become lists, keys sorted) so that a parse compares equal to its stored form."""
    return json.loads(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str))


def comparable_parse(parsed: dict[str, Any]) -> tuple[Any, ...]:
    """What the archive stores of a parse object, in a form that compares equal exactly when two parses
    would be stored the same way (``queries.parse_object`` of a stored version gives back an equal form)."""
    cells: dict[str, Any] = parsed.get("cells") or {}
    flags: dict[str, Any] = parsed.get("flags") or {}
    raws: dict[str, Any] = parsed.get("raw") or {}
    paths: dict[str, Any] = parsed.get("paths") or {}
    cell_path = main_path(paths)
    formats = parsed.get("formats") or {}
    ok = parsed.get("ok")
    scalars = tuple(
        parsed.get(k)
        for k in (
            "source",
            "error",
            "source_kind",
            "title",
            "agency",
            "year",
            "year_source",
            "published",
            "scope",
        )
    )
    return (
        parsed.get("status") or ("report" if ok else "error"),
        None if ok is None else bool(ok),
        scalars,
        (formats.get("t2"), formats.get("t3"), formats.get("t4")),
        bool(parsed.get("mixed_format")),
        {
            k: (v, _canon_raw(v, raws.get(k)), flags.get(k) or "num", paths.get(k) or cell_path)
            for k, v in cells.items()
        },
        [
            (
                c.get("rule") or "",
                c.get("scope") or "",
                c.get("status") or "unknown",
                c.get("lhs"),
                c.get("rhs"),
                c.get("detail") or None,
            )
            for c in parsed.get("checks") or []
        ],
        {k: t or "" for k, t in (parsed.get("sections") or {}).items()},
        _plain(parsed.get("warnings") or []),
        _plain({k: v for k, v in parsed.items() if k not in schema.PARSE_FIELDS and k not in schema.EXPORT_FIELDS}),
        parsed.get("text") or "",
    )


def search(arc: Archive, q: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Current sections containing ``q`` (trigram FTS for 3+ characters, LIKE for 1–2 characters)."""
    q = (q or "").strip()
    if not q:
        return []
    cur = arc.conn.execute(SEARCH_SQL, {"q": q, "limit": limit})
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _region(row: dict[str, Any]) -> dict[str, Any] | None:
    if not (row.get("province") or row.get("region_code")):
        return None
    return {
        k: row.get(k if k != "code" else "region_code") for k in ("province", "prefecture", "county", "code")
    }


def parse_object(arc: Archive, version_id: int) -> dict[str, Any]:
    """Rebuild the ``ogi parse --json`` object of one stored version, plus ``url``, ``sha256``, ``region``."""
    conn = arc.conn
    cur = conn.execute(
        "SELECT v.*, r.province, r.prefecture, r.county, r.region_code FROM versions v"
        " JOIN reports r ON r.id = v.report_id WHERE v.id = ?",
        (version_id,),
    )
    cols = [c[0] for c in cur.description]
    row = cur.fetchone()
    if row is None:
        raise KeyError(version_id)
    v = dict(zip(cols, row, strict=True))
    cells: dict[str, Any] = {}
    flags: dict[str, str] = {}
    raws: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for key, value, raw, flag, path in conn.execute(
        "SELECT k.key, c.value, c.raw, c.flag, c.path FROM cells c JOIN keys k ON k.id = c.key_id"
        " WHERE c.version_id = ? ORDER BY c.key_id",
        (version_id,),
    ):
        cells[key] = value
        flags[key] = flag or "num"
        raws[key] = raw if raw is not None or type(value) is not int else str(value)
        paths[key] = path if path is not None else v["cell_path"]
    checks = []
    for rule, scope, status, lhs, rhs, detail in conn.execute(
        "SELECT rule, scope, status, lhs, rhs, detail FROM checks WHERE version_id = ? ORDER BY ord",
        (version_id,),
    ):
        c: dict[str, Any] = {"rule": rule, "scope": scope, "status": status, "lhs": lhs, "rhs": rhs}
        if detail:
            c["detail"] = detail
        checks.append(c)
    sections = dict(
        conn.execute("SELECT key, text FROM sections WHERE version_id = ? ORDER BY id", (version_id,))
    )
    text_row = conn.execute("SELECT text FROM version_texts WHERE version_id = ?", (version_id,)).fetchone()
    out: dict[str, Any] = {
        "source": v["source"],
        "ok": None if v["ok"] is None else bool(v["ok"]),
        "error": v["error"],
        "status": v["status"],
        "source_kind": v["source_kind"],
        "title": v["title"],
        "agency": v["agency"],
        "year": v["year"],
        "year_source": v["year_source"],
        "published": v["published"],
        "scope": v["scope"],
        "formats": {"t2": v["t2_format"], "t3": v["t3_format"], "t4": v["t4_format"]},
        "mixed_format": bool(v["mixed_format"]),
        "cells": cells,
        "flags": flags,
        "raw": raws,
        "paths": paths,
        "checks": checks,
        "sections": sections,
        "warnings": json.loads(v["warnings"]) if v["warnings"] else [],
        "text": text_row[0] if text_row else "",
    }
    if v["extra"]:
        out.update(json.loads(v["extra"]))
    out["url"] = v["url"]
    out["sha256"] = v["sha256"]
    out["region"] = _region(v)
    return out


def current_version_ids(arc: Archive) -> list[int]:
    return [r[0] for r in arc.conn.execute("SELECT current_version_id FROM reports ORDER BY id")]


def iter_export(arc: Archive) -> Iterator[dict[str, Any]]:
    """One parse object per current report, in report id order."""
    for vid in current_version_ids(arc):
        yield parse_object(arc, vid)


def iter_long_rows(arc: Archive, *, current_only: bool = True) -> Iterator[tuple[Any, ...]]:
    """The tidy long rows (see LONG_COLUMNS) of every current report."""
    where = "WHERE is_current = 1" if current_only else ""
    cols = ", ".join(LONG_COLUMNS)
    yield from arc.conn.execute(f"SELECT {cols} FROM cells_long {where} ORDER BY report_id, version_id, key")


def codebook_rows(arc: Archive) -> list[dict[str, Any]]:
    """One row per column of the long CSV, then one per cell key used in the archive."""
    rows: list[dict[str, Any]] = [
        {"name": name, "kind": "column", "label_zh": zh, "label_en": en, "unit": "", "description": desc}
        for name, zh, en, desc in LONG_CODEBOOK
    ]
    for key, tbl, zh, en, unit in arc.conn.execute(
        "SELECT key, tbl, label_zh, label_en, unit FROM keys WHERE id IN (SELECT DISTINCT key_id FROM cells) ORDER BY id"
    ):
        rows.append({"name": key, "kind": f"key:{tbl}", "label_zh": zh, "label_en": en, "unit": unit or "",
                     "description": "cell key (spec/formats.md)"})  # fmt: skip
    for flag, desc in FLAG_CODEBOOK:
        rows.append(
            {"name": flag, "kind": "flag", "label_zh": "", "label_en": flag, "unit": "", "description": desc}
        )
    return rows


LONG_CODEBOOK: tuple[tuple[str, str, str, str], ...] = (
    ("report_id", "报告编号", "report id", "reports.id in the archive"),
    ("version_id", "版本编号", "version id", "versions.id: the stored document version the value comes from"),
    ("agency", "机关", "agency", "publishing agency as printed"),
    ("year", "年度", "year", "report year"),
    ("province", "省级", "province", "inferred from the agency name (empty when unknown)"),
    ("key", "单元格键", "cell key", "machine key row_key.col_key (see the key rows below)"),
    ("value", "数值", "value", "number as read; empty when unreadable (flag unknown)"),
    ("raw", "原文", "printed text", "the cell's printed text, verbatim"),
    ("flag", "标记", "flag", "how the value was read (see the flag rows below)"),
    ("path", "解析路径", "reader path", "parser path that produced the value"),
    ("sha256", "文档哈希", "document sha256", "sha256 of the archived raw document (documents.sha256)"),
    ("url", "来源网址", "source URL", "where the document was fetched"),
)
# the flag rows of the codebook: the contract's own definitions (archive.schema.FLAGS), never a second copy
FLAG_CODEBOOK: tuple[tuple[str, str], ...] = tuple(schema.FLAGS.items())

SECTION_KEYS = tuple(schema.SECTION_LABELS)
