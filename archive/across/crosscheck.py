"""Cross-year checks of one body's consecutive reports (table ``cross_checks``).

Y1 carry-over: table 三 ``上年结转`` of year N+1 = ``结转下年度`` of year N, per applicant column (both post-2019
formats print both rows, so a 2020 → 2021 pair is checked on the same keys). Y2 stock-flow of the gov2021 table 二
(规范性文件 and 规章): 现行有效 N+1 = 现行有效 N + 本年制发 N+1 − 本年废止 N+1; a gov2019 year has no 现行有效件数
(对外公开总数量 is another measure), so the pair is ``unknown``. A missing year makes the pair ``unknown``.
Y3 (review/litigation 尚未审结) is not checked: see docs/data.md, "Across reports".
"""

from __future__ import annotations

from typing import Any

from archive import schema
from archive.across.load import Snapshot, is_num, t3_value

CROSS_RULES: dict[str, str] = {
    "Y1": "t3.carried_in.<col> of year N+1 = t3.carried_out.<col> of year N (per applicant column)",
    "Y2": "t2.<row>.in_force of N+1 = in_force of N + issued of N+1 - repealed of N+1 (gov2021 both years)",
}
_POST2019 = ("gov2021", "gov2019")


def _row(report_id: int, prev_id: int | None, rule: str, scope: str, status: str, lhs: Any, rhs: Any,
         detail: str, ctx: dict[str, Any]) -> dict[str, Any]:
    return {"report_id": report_id, "prev_report_id": prev_id, "rule": rule, "scope": scope, "status": status,
            "lhs": lhs, "rhs": rhs, "detail": detail, **ctx}


def series_index(body_reports: list[dict[str, Any]]) -> dict[tuple[str, str], dict[int, int]]:
    """Given body_reports rows, return (body_id, series) → {year: report_id} over the non-duplicate reports."""
    out: dict[tuple[str, str], dict[int, int]] = {}
    for br in body_reports:
        if br["body_id"] and br["duplicate_of"] is None:
            out.setdefault((br["body_id"], br["series"]), {})[br["year"]] = br["report_id"]
    return out


def cross_checks(snap: Snapshot, index: dict[tuple[str, str], dict[int, int]]) -> list[dict[str, Any]]:
    """Given the snapshot and the series index, return the ``cross_checks`` rows of every report: Y1 for each
    report with a post-2019 table 三, Y2 for each report with a gov2021 table 二."""
    rows: list[dict[str, Any]] = []
    for (bid, series), years in index.items():
        for year, rid in sorted(years.items()):
            prev = years.get(year - 1)
            ctx = {"body_id": bid, "series": series, "year": year}
            rows.extend(_y1(snap, rid, prev, year, ctx))
            rows.extend(_y2(snap, rid, prev, year, ctx))
    return rows


def _y1(snap: Snapshot, rid: int, prev: int | None, year: int, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rep = snap.reports[rid]
    if rep["t3_format"] not in _POST2019:
        return []
    if prev is None:
        return [_row(rid, None, "Y1", "all", "unknown", None, None, f"no report of {year - 1} in the archive", ctx)]
    pfmt = snap.reports[prev]["t3_format"]
    if pfmt not in _POST2019:
        return [_row(rid, prev, "Y1", "all", "unknown", None, None,
                     f"{year - 1} table 三 format is {pfmt}: no 结转下年度 per applicant column", ctx)]
    out = []
    for col in schema.T3_COLS:
        lhs = t3_value(snap, rid, "t3.carried_in", col)
        rhs = t3_value(snap, prev, "t3.carried_out", col)
        if not (is_num(lhs) and is_num(rhs)):
            status, detail = "unknown", "a cell is unreadable or missing"
        elif lhs == rhs:
            status, detail = "ok", ""
        else:
            status, detail = "fail", f"上年结转 {lhs} (in {year}) ≠ 结转下年度 {rhs} (in {year - 1})"
        out.append(_row(rid, prev, "Y1", col, status, lhs, rhs, detail, ctx))
    return out


def _t2(snap: Snapshot, rid: int, row: str, col: str) -> Any:
    vals = snap.t2.get(rid, {}).get(row)
    return None if vals is None else vals[("issued", "repealed", "in_force").index(col)]


def _y2(snap: Snapshot, rid: int, prev: int | None, year: int, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rep = snap.reports[rid]
    if rep["t2_format"] != "gov2021":
        return []
    out = []
    for row in ("t2.normative_doc", "t2.regulation"):
        if prev is None:
            out.append(_row(rid, None, "Y2", row, "unknown", None, None, f"no report of {year - 1} in the archive", ctx))
            continue
        pfmt = snap.reports[prev]["t2_format"]
        if pfmt != "gov2021":
            out.append(_row(rid, prev, "Y2", row, "unknown", None, None,
                            f"{year - 1} table 二 format is {pfmt}: no 现行有效件数", ctx))
            continue
        now, issued, repealed = (_t2(snap, rid, row, c) for c in ("in_force", "issued", "repealed"))
        before = _t2(snap, prev, row, "in_force")
        if not all(is_num(v) for v in (now, issued, repealed, before)):
            out.append(_row(rid, prev, "Y2", row, "unknown", now, None, "a cell is unreadable or missing", ctx))
            continue
        rhs = before + issued - repealed
        ok = now == rhs
        detail = "" if ok else f"现行有效 {now} ≠ {before} + {issued} − {repealed}"
        out.append(_row(rid, prev, "Y2", row, "ok" if ok else "fail", now, rhs, detail, ctx))
    return out
