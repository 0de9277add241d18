"""One report as printed: the context of the ``/-/ogi/<db>/report/<id>`` page (tables 二/三/四 in their printed
shape with each check beside the rows it concerns, the narrative sections, source, raw document, versions).

Given a Datasette database object (async ``execute``), ``report_context`` returns plain dicts for the
``ogi_report.html`` template; labels come from :mod:`archive.schema`, so the page and the parser agree.
"""

from __future__ import annotations

import json
from typing import Any

from archive import schema as S

T3_HEAD = [(c, *S.T3_COL_LABELS[c]) for c in S.T3_COLS]
T4_HEAD = [(c, *S.T4_COL_LABELS[c]) for c in S.T4_COLS]
T3_SUMMARY_ROWS = ("t3.received_new", "t3.carried_in", "t3.outcome.total", "t3.carried_out")  # rows I1 concerns


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in result.rows]


def _mark(checks: list[dict[str, Any]]) -> str:
    """Given checks, return the worst status among them ('' when none)."""
    statuses = {c["status"] for c in checks}
    for s in ("fail", "unknown", "ok"):
        if s in statuses:
            return s
    return ""


def _place_checks(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Given a version's checks, return them keyed by where the page shows them: per t3 row (I3, S3), per t3
    column (I1, I2), per t4 group (I4), per table (I5) and the rest."""
    t3_row: dict[str, list[dict[str, Any]]] = {}
    t3_col: dict[str, dict[str, dict[str, Any]]] = {"I1": {}, "I2": {}}
    t4_row: dict[str, list[dict[str, Any]]] = {}
    table: dict[str, list[dict[str, Any]]] = {}
    narrative: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for c in checks:
        c["rule_text"] = S.CHECK_RULES.get(c["rule"], ("", ""))[1]
        rule, scope = c["rule"], str(c["scope"])
        if rule in t3_col and scope in S.T3_COLS:
            t3_col[rule][scope] = c
        elif rule == "I3":
            t3_row.setdefault(scope, []).append(c)
        elif rule == "I4":
            t4_row.setdefault(scope if scope.startswith("t4.") else f"t4.{scope}", []).append(c)
        elif rule == "I5":
            table.setdefault(scope, []).append(c)
        elif S.rule_kind(rule) == "narrative":
            narrative.append(c)
            row = scope if scope.startswith("t3.") else f"t3.{scope}"
            if row in S.T3_ROW_LABELS:
                t3_row.setdefault(row, []).append(c)
        else:
            other.append(c)
    return {"t3_row": t3_row, "t3_col": t3_col, "t4_row": t4_row, "table": table, "narrative": narrative,
            "other": other}


async def report_context(db: Any, report_id: int, version_id: int | None = None) -> dict[str, Any] | None:
    """Given a Datasette database, a report id and optionally one of its version ids, return the template
    context of the printed page, or None when there is no such report (or version of it)."""
    rep = _rows(await db.execute("SELECT * FROM reports WHERE id = ?", [report_id]))
    if not rep:
        return None
    report = rep[0]
    versions = _rows(await db.execute(
        "SELECT id, version, is_current, sha256, url, saved_at, status, check_status, checks_failed, t2_format,"
        " t3_format, t4_format FROM versions WHERE report_id = ? ORDER BY version", [report_id]))
    vid = version_id or report["current_version_id"] or (versions[-1]["id"] if versions else None)
    version = next((v for v in versions if v["id"] == vid), None)
    if version is None:
        return None
    t3 = _rows(await db.execute("SELECT * FROM t3 WHERE version_id = ? ORDER BY row_no", [vid]))
    t4 = _rows(await db.execute("SELECT * FROM t4 WHERE version_id = ? ORDER BY row_no", [vid]))
    t2 = _rows(await db.execute("SELECT * FROM t2 WHERE version_id = ? ORDER BY row_no", [vid]))
    checks = _rows(await db.execute("SELECT * FROM checks WHERE version_id = ? ORDER BY ord", [vid]))
    sections = {r["key"]: r["text"] for r in _rows(await db.execute(
        "SELECT key, text FROM sections WHERE version_id = ?", [vid]))}
    flags = {r["key"]: r for r in _rows(await db.execute(
        "SELECT k.key, c.raw, c.flag FROM cells c JOIN keys k ON k.id = c.key_id"
        " WHERE c.version_id = ? AND (c.flag IS NOT NULL OR c.raw IS NOT NULL)", [vid]))}
    placed = _place_checks(checks)
    images = _page_images((await db.execute("SELECT extra FROM versions WHERE id = ?", [vid])).first())
    for r in t3:
        r["label_zh"], r["label_en"] = S.T3_ROW_LABELS.get(r["row_key"], (r["row_key"], r["row_key"]))
        r["checks"] = placed["t3_row"].get(r["row_key"], [])
        r["mark"] = _mark(r["checks"])
        r["cells"] = [_cell(flags, f"{r['row_key']}.{c}", r.get(c)) for c in S.T3_COLS]
    for r in t4:
        r["label_zh"], r["label_en"] = S.T4_GROUP_LABELS.get(r["grp"], (r["grp"], r["grp"]))
        r["checks"] = placed["t4_row"].get(r["grp"], [])
        r["mark"] = _mark(r["checks"])
        r["cells"] = [_cell(flags, f"{r['grp']}.{c}", r.get(c)) for c in S.T4_COLS]
    t2_fmt = version["t2_format"] or (t2[0]["format"] if t2 else None)
    t2_cols = [c for c in S.T2_COL_LABELS if any(r.get(c) is not None for r in t2)]
    if t2_fmt in S.T2_FORMAT_ROWS:
        t2_cols = list(dict.fromkeys(c for _, cols in S.T2_FORMAT_ROWS[t2_fmt] for c in cols))
    for r in t2:
        r["label_zh"], r["label_en"] = S.T2_ROW_LABELS.get(r["row_key"], (r["row_key"], r["row_key"]))
        printed = dict(S.T2_FORMAT_ROWS.get(t2_fmt or "", ())).get(r["row_key"], tuple(t2_cols))
        r["cells"] = [_cell(flags, f"{r['row_key']}.{c}", r.get(c)) if c in printed else None for c in t2_cols]
    return {
        "report": report,
        "version": version,
        "versions": versions,
        "is_current": bool(version["is_current"]),
        "t3": [r for r in t3 if not r["row_key"].endswith(".sum") or r["row_key"] in S.T3_FORMAT_ROWS.get(
            r.get("format") or "", ())],
        "t3_head": T3_HEAD,
        "t3_col_checks": [(rule, [placed["t3_col"][rule].get(c) for c in S.T3_COLS])
                          for rule in ("I1", "I2") if placed["t3_col"][rule]],
        "t4": t4,
        "t4_head": T4_HEAD,
        "t2": t2,
        "t2_head": [(c, S.T2_COL_LABELS[c][0], S.T2_COL_LABELS[c][1]) for c in t2_cols],
        "t2_format": t2_fmt,
        "table_checks": placed["table"],
        "narrative_checks": placed["narrative"],
        "other_checks": placed["other"],
        "checks": checks,
        "sections": [(k, *S.SECTION_LABELS[k], sections[k]) for k in S.SECTION_KEYS if sections.get(k)],
        "rules": [(rule, kind, text) for rule, (kind, text) in S.CHECK_RULES.items()],
        "flags": S.FLAGS,
        "images": images,
    }


def _page_images(row: Any) -> list[dict[str, Any]]:
    """Given a version's ``extra`` row, return the images of a picture report page (``images`` of the parse:
    URL, status, sha256 of the archived copy, OCR pages), [] for any other report."""
    try:
        extra = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        return []
    listed = extra.get("images") if isinstance(extra, dict) else None
    return [i for i in listed if isinstance(i, dict) and i.get("url")] if isinstance(listed, list) else []


def _cell(flags: dict[str, dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    """Given the version's flagged cells, a key and its value, return what the page prints for that cell."""
    extra = flags.get(key) or {}
    flag = extra.get("flag")
    return {"key": key, "value": value, "raw": extra.get("raw"), "flag": flag,
            "title": f"{key}" + (f" · {flag}: {S.FLAGS.get(flag, '')}" if flag else "")
            + (f" · printed {extra.get('raw')!r}" if extra.get("raw") is not None else "")}
