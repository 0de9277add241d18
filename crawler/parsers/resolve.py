"""Digit-run resolution and derivation (spec/formats.md §5, §9): given keyed cells, return them completed.

* :func:`resolve_pending` — table 三 rows whose digit run has several readings: the one joint choice that makes
  I1 and I2 hold in every column (the identities of :mod:`crawler.parsers.checks`), or nothing.
* :func:`derive` — blank totals beside non-zero parts become their sum (flag `derived`); the group sums
  (`withheld.sum`, …) are added as derived cells.
"""

from __future__ import annotations

import itertools
import math

from crawler.parsers import keys as K
from crawler.parsers.checks import Number, t3_balances
from crawler.parsers.model import CellValue

MAX_COMBINATIONS = 5000  # readings of ambiguous digit runs tried together against I1/I2


def resolve_pending(cells: dict[str, CellValue], pending: dict[str, list[tuple[int, ...]]], fmt: str) -> list[str]:
    """Given the cells, the rows with several digit-run readings and the format, fill in each row's reading when
    every combination that makes I1 and I2 hold in every column reads that row the same way (one combination,
    or several that differ only in other rows). Return the row keys resolved."""
    if not pending or fmt not in K.T3_ROWS:
        return []
    rows = list(pending)
    if math.prod(len(pending[r]) for r in rows) > MAX_COMBINATIONS:
        return []  # too many readings to check them all: unknown rather than a partial search
    good = []
    for combo in itertools.product(*(pending[r] for r in rows)):
        trial = {f"{r}.{c}": v for r, cand in zip(rows, combo, strict=True) for c, v in zip(K.T3_COLS, cand, strict=True)}

        def val(k: str, trial: dict[str, int] = trial) -> Number | None:
            if k in trial:
                return trial[k]
            cell = cells.get(k)
            return None if cell is None else cell.value

        if t3_balances(val, fmt):
            good.append(combo)
    resolved = []
    for i, r in enumerate(rows):
        readings = {combo[i] for combo in good}
        if len(readings) != 1:
            continue  # no combination holds, or those that hold read this row differently
        (cand,) = readings
        for c, v in zip(K.T3_COLS, cand, strict=True):
            cell = cells[f"{r}.{c}"]
            cells[f"{r}.{c}"] = CellValue(v, cell.raw, "inferred", cell.path)
        resolved.append(r)
    return resolved


def derive(cells: dict[str, CellValue], fmt: str) -> None:
    """Given the cells and table 三's format, derive in place: blank totals with non-zero parts become their sum
    (flag `derived`); a blank total beside an unknown part is unknown (its sum is not known, and 0 is a guess);
    group sums are added as derived (unknown when a member is)."""
    if fmt not in K.T3_ROWS:
        return
    for r in K.T3_ROWS[fmt]:
        total = cells.get(f"{r}.total")
        parts = [cells.get(f"{r}.{c}") for c in K.T3_C6]
        if total is None or total.flag != "blank":
            continue
        if any(p is None or p.value is None for p in parts):
            cells[f"{r}.total"] = CellValue(None, total.raw, "unknown", total.path)
            continue
        s = sum(p.value for p in parts)  # type: ignore[union-attr,misc]
        if s:
            cells[f"{r}.total"] = CellValue(s, total.raw, "derived", "derived")
    for group, members in K.T3_GROUPS.items():
        if group == "t3.outcome.other.sum" and fmt == "gov2019":
            continue
        for c in K.T3_COLS:
            vals = [cells.get(f"{m}.{c}") for m in members]
            if any(v is None for v in vals):
                continue
            known = [v.value for v in vals]  # type: ignore[union-attr]
            value = None if None in known else sum(known)  # type: ignore[arg-type]
            cells[f"{group}.{c}"] = CellValue(value, "", "derived" if value is not None else "unknown", "derived")
