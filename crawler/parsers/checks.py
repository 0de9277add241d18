"""The identity checks of spec/formats.md §5 over keyed cells. Exact integer arithmetic; never corrects.

I1  received_new + carried_in = outcome.total + carried_out        (per applicant column)
I2  outcome.total = Σ outcome leaves                               (per applicant column)
I3  row total = Σ six applicant columns                            (per row; unknown when the total was derived)
I4  total = upheld + corrected + other + pending                   (per table 四 group)
I5  table 三/四 counts are ≥ 0                                      (per table)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crawler.parsers import keys as K
from crawler.parsers.model import CellValue, Check


def _sum(cells: Mapping[str, CellValue], ks: Sequence[str]) -> int | float | None:
    total: int | float = 0
    for k in ks:
        c = cells.get(k)
        if c is None or c.value is None:
            return None
        total += c.value
    return total


def _check(rule: str, scope: str, lhs: int | float | None, rhs: int | float | None, *, unknown: bool = False) -> Check:
    if unknown or lhs is None or rhs is None:
        return Check(rule, scope, "unknown", lhs, rhs)
    return Check(rule, scope, "ok" if lhs == rhs else "fail", lhs, rhs)


def table3_checks(cells: Mapping[str, CellValue], fmt: str) -> list[Check]:
    if fmt not in K.T3_ROWS:
        return []
    out: list[Check] = []
    leaves = K.T3_OUTCOME_LEAVES[fmt]
    for c in K.T3_COLS:
        lhs = _sum(cells, [f"t3.received_new.{c}", f"t3.carried_in.{c}"])
        rhs = _sum(cells, [f"t3.outcome.total.{c}", f"t3.carried_out.{c}"])
        out.append(_check("I1", c, lhs, rhs))
    for c in K.T3_COLS:
        lhs = _sum(cells, [f"t3.outcome.total.{c}"])
        rhs = _sum(cells, [f"{r}.{c}" for r in leaves])
        out.append(_check("I2", c, lhs, rhs))
    for r in K.T3_ROWS[fmt]:
        total = cells.get(f"{r}.total")
        lhs = total.value if total is not None else None
        rhs = _sum(cells, [f"{r}.{c}" for c in K.T3_C6])
        derived = total is not None and total.flag == "derived"
        out.append(_check("I3", r, lhs, rhs, unknown=derived))
    return out


def table4_checks(cells: Mapping[str, CellValue]) -> list[Check]:
    out = []
    for g in K.T4_GROUPS:
        lhs = _sum(cells, [f"{g}.total"])
        rhs = _sum(cells, [f"{g}.{c}" for c in K.T4_COLS[:4]])
        out.append(_check("I4", g.removeprefix("t4."), lhs, rhs))
    return out


def sign_checks(cells: Mapping[str, CellValue]) -> list[Check]:
    seen = {"t3": 0, "t4": 0}
    negatives = {"t3": 0, "t4": 0}
    for k, c in cells.items():
        table = k[:2]
        if table in seen and c.flag != "derived":
            seen[table] += 1
            if c.value is not None and c.value < 0:
                negatives[table] += 1
    return [
        Check("I5", t, "fail" if negatives[t] else "ok", negatives[t], 0, "cells below zero")
        for t in ("t3", "t4")
        if seen[t]
    ]
