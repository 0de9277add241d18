"""Coverage and timeliness (table ``coverage``) and edits after publication (table ``edits``).

Deadlines (spec/formats.md §6–§7): under the 2019 regulation (report years 2019 on) a department publishes by
31 January and a people's government by 31 March of the following year (Art. 49); under the 2007 regulation
(report years up to 2018) every agency by 31 March.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import sqlite3
from typing import Any

from archive.across.load import Snapshot

_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


def deadline(kind: str, year: int) -> dt.date:
    """Given a body kind (government/department) and a report year, return the statutory publication deadline."""
    if year >= 2019 and kind != "government":
        return dt.date(year + 1, 1, 31)
    return dt.date(year + 1, 3, 31)


def parse_date(text: Any) -> dt.date | None:
    """Given a stored date text (YYYY-MM-DD…), return the date, or None when it is absent or not a date."""
    m = _DATE_RE.match(str(text or ""))
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def coverage_rows(
    snap: Snapshot, bodies: list[dict[str, Any]], index: dict[tuple[str, str], dict[int, int]],
    edited: dict[int, int], today: dt.date,
) -> list[dict[str, Any]]:
    """Given the snapshot, all bodies (with expected-only governments), the series index and the edit counts,
    return one ``coverage`` row per body and year, from the body's first year to the archive's last year."""
    years_all = [r["year"] for r in snap.reports.values() if isinstance(r.get("year"), int)]
    if not years_all:
        return []
    last = max(years_all)
    rows: list[dict[str, Any]] = []
    for b in bodies:
        own = index.get((b["body_id"], "self"), {})
        agg = index.get((b["body_id"], "aggregate"), {})
        for year in range(b["first_year"], last + 1):
            rid = own.get(year) or agg.get(year)
            due = deadline(b["kind"], year)
            row = {
                "body_id": b["body_id"], "name": b["name"], "kind": b["kind"], "level": b["level"],
                "province": b["province"], "prefecture": b["prefecture"], "county": b["county"], "year": year,
                "report_id": rid, "published": None, "deadline": due.isoformat(), "days_late": None,
                "edited_after_publication": 0, "edits": 0,
            }
            if rid is None:
                row["status"] = "missing" if today > due else "not_due"
                row["timeliness"] = row["status"]
            else:
                pub_text = snap.reports[rid].get("published")
                pub = parse_date(pub_text)
                row.update(status="found", published=pub_text)
                if pub is None:
                    row["timeliness"] = "unknown_date"
                else:
                    late = (pub - due).days
                    row["timeliness"] = "late" if late > 0 else "on_time"
                    row["days_late"] = max(late, 0)
                row["edits"] = edited.get(rid, 0)
                row["edited_after_publication"] = 1 if row["edits"] else 0
            rows.append(row)
    return rows


def edit_rows(conn: sqlite3.Connection, snap: Snapshot, report_body: dict[int, str]) -> list[dict[str, Any]]:
    """Given the archive connection, return one ``edits`` row per new version of a report that came from the
    same URL with other bytes after the report's publication date (a re-parse of stored bytes is no edit):
    the changed cells (from ``changes``) and a unified diff of the changed sections."""
    cur = conn.execute(  # versions.reparse exists from schema v2 on; the store migrates before this runs
        "SELECT v.report_id, v.id, v.version, v.sha256, v.url, v.saved_at, v.reparse FROM versions v"
        " ORDER BY v.report_id, v.version"
    )
    prev: dict[int, tuple[int, str, str | None]] = {}
    out = []
    for rid, vid, _ver, sha, url, saved_at, is_reparse in cur:
        before = prev.get(rid)
        if not is_reparse:
            prev[rid] = (vid, sha, url)
        if before is None or is_reparse or rid not in snap.reports:
            continue
        pvid, psha, purl = before
        pub = parse_date(snap.reports[rid].get("published"))
        saved = parse_date(saved_at)
        if sha == psha or (url and purl and url != purl) or pub is None or saved is None or saved <= pub:
            continue
        changed = [
            {"key": k, "old": o, "new": n, "old_raw": orw, "new_raw": nrw}
            for k, o, n, orw, nrw in conn.execute(
                "SELECT key, old_value, new_value, old_raw, new_raw FROM changes WHERE to_version_id = ? ORDER BY id",
                (vid,),
            )
        ]
        secs_old = dict(conn.execute("SELECT key, text FROM sections WHERE version_id = ?", (pvid,)).fetchall())
        secs_new = dict(conn.execute("SELECT key, text FROM sections WHERE version_id = ?", (vid,)).fetchall())
        keys = sorted(k for k in set(secs_old) | set(secs_new) if secs_old.get(k) != secs_new.get(k))
        diff: list[str] = []
        for k in keys:
            diff.extend(difflib.unified_diff(
                _lines(secs_old.get(k, "")), _lines(secs_new.get(k, "")),
                fromfile=f"{k}@v{pvid}", tofile=f"{k}@v{vid}", lineterm="", n=0,
            ))
        out.append({
            "report_id": rid, "body_id": report_body.get(rid), "from_version_id": pvid, "to_version_id": vid,
            "url": url, "published": snap.reports[rid].get("published"), "saved_at": saved_at,
            "changed_cells": json.dumps(changed, ensure_ascii=False), "cells_changed": len(changed),
            "changed_sections": ",".join(keys), "diff": "\n".join(diff),
        })
    return out


def _lines(text: str) -> list[str]:
    """Given a section text, return its sentences (split after 。；and at line breaks) for a readable diff."""
    return [s for s in re.split(r"(?<=[。；;])|\n", text or "") if s]
