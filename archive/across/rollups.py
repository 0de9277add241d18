"""Roll-ups (table ``rollups``): a region-wide (``scope = aggregate``) report against the sum of the self-scope
reports of the bodies in its region found for the same year, per key, printed and summed side by side.

Members are the self-scope reports (departments, lower governments, townships) whose body's region code lies in
the aggregate's region (same 2/4/6-digit prefix as its code's depth). Known members are every body of the region
the archive has seen in any year, plus expected-only governments. The check is ``unknown`` while the coverage
share (found / known) is below 1, and ``unknown`` for a region the archive could not resolve.
"""

from __future__ import annotations

from typing import Any

from archive.across.load import Snapshot, is_num, t3_value, t4_value

ROLLUP_KEYS: tuple[str, ...] = (
    "t3.received_new.total", "t3.carried_in.total", "t3.outcome.granted.total", "t3.outcome.partial.total",
    "t3.outcome.total.total", "t3.carried_out.total", "t4.review.total", "t4.litigation_direct.total",
    "t4.litigation_after_review.total",
)


def region_prefix(code: str | None) -> str | None:
    """Given a 6-digit region code, return the prefix its region covers (province 2, prefecture 4, county 6)."""
    if not code or len(code) != 6:
        return None
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def value(snap: Snapshot, rid: int, key: str) -> Any:
    """Given a report and a rollup key, return its stored value (None when unknown or absent)."""
    if key.startswith("t3."):
        row, col = key.rsplit(".", 1)
        return t3_value(snap, rid, row, col)
    grp, col = key.rsplit(".", 1)
    return t4_value(snap, rid, grp, col)


def rollup_rows(
    snap: Snapshot, bodies: list[dict[str, Any]], index: dict[tuple[str, str], dict[int, int]]
) -> list[dict[str, Any]]:
    """Given the snapshot, all bodies and the series index, return the ``rollups`` rows of every aggregate."""
    by_id = {b["body_id"]: b for b in bodies}
    self_series = {bid: years for (bid, series), years in index.items() if series == "self"}
    in_region: dict[str, list[dict[str, Any]]] = {}
    for b in bodies:
        code = b.get("region_code") or ""
        if len(code) == 6 and (b["body_id"] in self_series or b["expected_only"]):
            for p in {code[:2], code[:4], code}:
                in_region.setdefault(p, []).append(b)
    rows: list[dict[str, Any]] = []
    for (bid, series), years in index.items():
        if series != "aggregate":
            continue
        body = by_id[bid]
        prefix = region_prefix(body.get("region_code"))
        known = [b for b in in_region.get(prefix or "", []) if b["body_id"] != bid or bid in self_series]
        for year, rid in sorted(years.items()):
            ctx = {"report_id": rid, "body_id": bid, "name": body["name"], "year": year}
            if prefix is None:
                rows.extend({**ctx, "key": k, "printed": value(snap, rid, k), "summed": None, "members_found": 0,
                             "members_known": 0, "coverage_share": None, "status": "unknown",
                             "detail": "region of the aggregate not resolved"} for k in ROLLUP_KEYS)
                continue
            members = [self_series[b["body_id"]][year] for b in known
                       if year in self_series.get(b["body_id"], {})]
            share = round(len(members) / len(known), 4) if known else None
            for k in ROLLUP_KEYS:
                printed = value(snap, rid, k)
                vals = [value(snap, m, k) for m in members]
                summed = sum(vals) if members and all(is_num(v) for v in vals) else None
                if not members:
                    status, detail = "unknown", "no member report found"
                elif share is None or share < 1:
                    status, detail = "unknown", f"coverage incomplete: {len(members)} of {len(known)} bodies"
                elif not is_num(printed) or summed is None:
                    status, detail = "unknown", "a cell is unreadable or missing"
                elif printed == summed:
                    status, detail = "ok", ""
                else:
                    status, detail = "fail", f"printed {printed} ≠ sum of {len(members)} reports {summed}"
                rows.append({**ctx, "key": k, "printed": printed, "summed": summed, "members_found": len(members),
                             "members_known": len(known), "coverage_share": share, "status": status,
                             "detail": detail})
    return rows
