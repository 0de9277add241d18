"""Rates and rankings (table ``rates``): 实质公开率 and the 纠错率 of review and litigation, from printed cells.

Formulas (docs/data.md, "Across reports"):
  disclosure             = (t3.outcome.granted.total + t3.outcome.partial.total) / t3.outcome.total.total
  review_correction      = t4.review.corrected / (t4.review.total − t4.review.pending)
  litigation_correction  = Σ corrected / Σ (total − pending) over litigation_direct and litigation_after_review
No rate below MIN_SAMPLE cases in the denominator (value NULL, ``rated`` 0). The percentile (SQL percent_rank,
0 = lowest) is taken among the rated reports of the same year, level, province and series (a region-wide
aggregate is ranked among aggregates, a body's own report among own reports).
"""

from __future__ import annotations

from typing import Any

from archive.across.load import Snapshot, is_num, t3_value, t4_value

MIN_SAMPLE = 30
RATES: dict[str, tuple[str, str]] = {
    "disclosure": ("实质公开率", "(granted + partial) / outcome total, table 三 总计 column"),
    "review_correction": ("行政复议纠错率", "review corrected / (review total − pending)"),
    "litigation_correction": ("行政诉讼纠错率", "litigation corrected / (litigation total − pending), both kinds"),
}


def _parts(snap: Snapshot, rid: int, rate: str) -> tuple[Any, Any]:
    if rate == "disclosure":
        g, p, t = (t3_value(snap, rid, r, "total") for r in
                   ("t3.outcome.granted", "t3.outcome.partial", "t3.outcome.total"))
        return (g + p, t) if all(is_num(v) for v in (g, p, t)) else (None, None)
    groups = ("t4.review",) if rate == "review_correction" else ("t4.litigation_direct", "t4.litigation_after_review")
    num = den = 0
    for grp in groups:
        c, tot, pend = (t4_value(snap, rid, grp, col) for col in ("corrected", "total", "pending"))
        if not all(is_num(v) for v in (c, tot, pend)):
            return None, None
        num += c
        den += tot - pend
    return num, den


def rate_rows(snap: Snapshot, body_of: dict[int, tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    """Given the snapshot and report id → (body row, series) over the non-duplicate reports, return the
    ``rates`` rows     (percentiles filled by :func:`add_percentiles`)."""
    rows: list[dict[str, Any]] = []
    for rid, (body, series) in body_of.items():
        rep = snap.reports[rid]
        for rate, (label, formula) in RATES.items():
            num, den = _parts(snap, rid, rate)
            rated = is_num(den) and den >= MIN_SAMPLE
            reason = None
            if num is None:
                reason = "a cell is unreadable or missing"
            elif not rated:
                reason = f"fewer than {MIN_SAMPLE} cases ({den})"
            rows.append({
                "report_id": rid, "body_id": body["body_id"], "name": body["name"], "year": rep["year"],
                "level": body["level"], "province": body["province"], "series": series, "rate": rate, "label_zh": label,
                "formula": formula, "numerator": num, "denominator": den,
                "value": round(num / den, 6) if rated else None, "rated": 1 if rated else 0,
                "percentile": None, "peers": None, "reason": reason,
            })
    return rows


def add_percentiles(rows: list[dict[str, Any]]) -> None:
    """Given rate rows, fill ``percentile`` (percent_rank: share of peers with a lower value, ties share the
    lowest rank; 0 for a single peer) and ``peers`` among the rated rows of the same year, level, province and series."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        if r["rated"]:
            groups.setdefault((r["year"], r["level"], r["province"], r["series"], r["rate"]), []).append(r)
    for members in groups.values():
        members.sort(key=lambda r: r["value"])
        n = len(members)
        rank = 0
        for i, r in enumerate(members):
            if i and r["value"] != members[i - 1]["value"]:
                rank = i
            r["percentile"] = round(rank / (n - 1), 4) if n > 1 else 0.0
            r["peers"] = n
