"""The checks of spec/formats.md §5 over keyed cells. Exact integer arithmetic; never corrects.

I1  received_new + carried_in = outcome.total + carried_out        (per applicant column)
I2  outcome.total = Σ outcome leaves                               (per applicant column)
I3  row total = Σ six applicant columns                            (per row; unknown when the total was derived)
I4  total = upheld + corrected + other + pending                   (per table 四 group)
I5  table 三/四 counts are ≥ 0                                      (per table)
S3  figures stated in the narrative = the table's cells            (per stated figure; soft)

The I1/I2 sides are computed by :func:`i1_sides` / :func:`i2_sides` over any value lookup, so the digit-run
resolver (:mod:`crawler.parsers.resolve`) tries its candidate readings against the very same formulas.

:data:`CHECKERS` lists the checkers in the order their results are reported; :func:`run_checks` runs them all
(the readers call only that). A new rule is a checker appended here plus its entry (kind, formula) in
``archive.schema.CHECK_RULES``; a test asserts that the two lists name the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from crawler.parsers import keys as K
from crawler.parsers.model import CellValue, Check

Number = int | float
Lookup = Callable[[str], Number | None]  # key → value, None when missing or unreadable

MAX_FIGURE_DIGITS = 15  # a stated count longer than this is a glued digit string, not a figure
NARRATIVE_FALLBACK_CHARS = 6000  # without sections, S3 reads this much of the text's start
NARRATIVE_SECTIONS = ("s1.overview", "s2.proactive", "s3.requests", "s4.review_litigation")  # S3 reads 一–四
_COUNT = r"\s*(\d+)\s*[件条]"  # a stated count: `58 件`, `0条`
_T3_FIGURES: tuple[tuple[str, re.Pattern[str], tuple[tuple[str, ...], ...]], ...] = (
    ("received_new.total", re.compile(r"新收[^。；;，,]{0,16}?申请" + _COUNT), (("t3.received_new.total",),)),
    (
        "received.total",
        re.compile(r"(?:共|全年|累计)?(?:收到|受理)[^。；;，,\d]{0,16}?申请" + _COUNT),
        (("t3.received_new.total",), ("t3.received_new.total", "t3.carried_in.total")),
    ),
    ("carried_in.total", re.compile(r"上年(?:度)?结转" + _COUNT + r"|(\d+)\s*[件条]为上年结转"), (("t3.carried_in.total",),)),
    ("outcome.total.total", re.compile(r"办结[^。；;，,\d]{0,12}?" + _COUNT), (("t3.outcome.total.total",),)),
    (
        "carried_out.total",
        re.compile(r"(\d+)\s*[件条]\s*(?:结转下|转下|转入下)|结转(?:至)?下(?:一)?年(?:度)?(?:继续办理)?" + _COUNT),
        (("t3.carried_out.total",),),
    ),
)
# table 二: only this year's figures for the whole agency (`本年度制发规范性文件 12 件`), never a department's
_T2_FIGURES: tuple[tuple[str, re.Pattern[str], tuple[tuple[str, ...], ...]], ...] = (
    (
        "normative_doc.issued",
        re.compile(r"本年(?:度)?(?:共)?(?:制发|新制作|印发)(?:行政)?规范性文件" + _COUNT),
        (("t2.normative_doc.issued",), ("t2.normative_doc.made_new",)),
    ),
    (
        "normative_doc.in_force",
        re.compile(r"现行有效(?:的)?(?:行政)?规范性文件(?:共)?" + _COUNT),
        (("t2.normative_doc.in_force",),),
    ),
)
NARRATIVE_RULES = ((("申请", "办结", "结转"), _T3_FIGURES), (("规范性文件",), _T2_FIGURES))
_SENTENCE_RE = re.compile(r"[。\n]")


def lookup(cells: Mapping[str, CellValue]) -> Lookup:
    """Given keyed cells, return a key → value lookup (None for a missing key or an unknown cell)."""

    def get(key: str) -> Number | None:
        c = cells.get(key)
        return None if c is None else c.value

    return get


def sum_of(get: Lookup, ks: Iterable[str]) -> Number | None:
    """Given a lookup and keys, return the sum of their values, or None if any is missing."""
    total: Number = 0
    for k in ks:
        v = get(k)
        if v is None:
            return None
        total += v
    return total


def i1_sides(get: Lookup, col: str) -> tuple[Number | None, Number | None]:
    """Given a lookup and a table 三 column, return I1's (received_new + carried_in, outcome.total + carried_out)."""
    lhs = sum_of(get, [f"t3.received_new.{col}", f"t3.carried_in.{col}"])
    rhs = sum_of(get, [f"t3.outcome.total.{col}", f"t3.carried_out.{col}"])
    return lhs, rhs


def i2_sides(get: Lookup, col: str, fmt: str) -> tuple[Number | None, Number | None]:
    """Given a lookup, a table 三 column and the format, return I2's (outcome.total, Σ outcome leaves)."""
    return get(f"t3.outcome.total.{col}"), sum_of(get, [f"{r}.{col}" for r in K.T3_OUTCOME_LEAVES[fmt]])


def t3_balances(get: Lookup, fmt: str) -> bool:
    """Given a lookup and the format, return whether I1 and I2 hold, every side known, in every column."""
    for c in K.T3_COLS:
        for lhs, rhs in (i1_sides(get, c), i2_sides(get, c, fmt)):
            if lhs is None or rhs is None or lhs != rhs:
                return False
    return True


def _sum(cells: Mapping[str, CellValue], ks: Sequence[str]) -> Number | None:
    return sum_of(lookup(cells), ks)


def _check(rule: str, scope: str, lhs: Number | None, rhs: Number | None, *, unknown: bool = False) -> Check:
    if unknown or lhs is None or rhs is None:
        return Check(rule, scope, "unknown", lhs, rhs)
    return Check(rule, scope, "ok" if lhs == rhs else "fail", lhs, rhs)


def table3_checks(cells: Mapping[str, CellValue], fmt: str) -> list[Check]:
    """Given keyed cells and table 三's format, return I1 and I2 per column and I3 per row."""
    if fmt not in K.T3_ROWS:
        return []
    get = lookup(cells)
    out: list[Check] = [_check("I1", c, *i1_sides(get, c)) for c in K.T3_COLS]
    out += [_check("I2", c, *i2_sides(get, c, fmt)) for c in K.T3_COLS]
    for r in K.T3_ROWS[fmt]:
        total = cells.get(f"{r}.total")
        lhs = total.value if total is not None else None
        rhs = _sum(cells, [f"{r}.{c}" for c in K.T3_C6])
        derived = total is not None and total.flag == "derived"
        out.append(_check("I3", r, lhs, rhs, unknown=derived))
    return out


def table4_checks(cells: Mapping[str, CellValue]) -> list[Check]:
    """Given keyed cells, return I4 per table 四 group."""
    out = []
    for g in K.T4_GROUPS:
        lhs = _sum(cells, [f"{g}.total"])
        rhs = _sum(cells, [f"{g}.{c}" for c in K.T4_COLS[:4]])
        out.append(_check("I4", g.removeprefix("t4."), lhs, rhs))
    return out


def sign_checks(cells: Mapping[str, CellValue]) -> list[Check]:
    """Given keyed cells, return I5 for tables 三 and 四 (the printed cells below zero)."""
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


def narrative_figures(sections: Mapping[str, str], text: str) -> list[tuple[str, int, tuple[tuple[str, ...], ...]]]:
    """Given the sections and the text, return every figure sections 一–四 state about tables 二 and 三, as
    (scope, number, candidate key sets): the number should equal the sum of one of the key sets (the first is
    the primary). Without sections, the text's start is read."""
    sources = [sections[k] for k in NARRATIVE_SECTIONS if sections.get(k)] or [text[:NARRATIVE_FALLBACK_CHARS]]
    out: list[tuple[str, int, tuple[tuple[str, ...], ...]]] = []
    seen: set[tuple[str, int]] = set()
    for source in sources:
        sentences = _SENTENCE_RE.split(source)
        for words, rules in NARRATIVE_RULES:
            if not any(w in source for w in words):
                continue
            flat = "。".join(s for s in sentences if any(w in s for w in words))
            for scope, rx, targets in rules:
                for m in rx.finditer(flat):
                    digits = next(g for g in m.groups() if g)
                    if len(digits) > MAX_FIGURE_DIGITS:  # a digit string, not a count (int() refuses > 4,300)
                        continue
                    number = int(digits)
                    if (scope, number) not in seen:
                        seen.add((scope, number))
                        out.append((scope, number, targets))
    return out


def narrative_checks(sections: Mapping[str, str], text: str, cells: Mapping[str, CellValue]) -> list[Check]:
    """Given the sections, the text and the cells, return S3 for every figure the narrative states.

    A figure matching any of its candidate key sets is `ok`; one that matches none `fail`s against the first;
    one whose keys are not all read is `unknown`.
    """
    get = lookup(cells)
    out = []
    for scope, number, targets in narrative_figures(sections, text):
        present = [keys for keys in targets if all(k in cells for k in keys)] or [targets[0]]
        sums = [sum_of(get, keys) for keys in present]
        primary = sums[0]
        if primary is None:
            out.append(Check("S3", scope, "unknown", number, None))
        elif number in sums:
            out.append(Check("S3", scope, "ok", number, number))
        else:
            out.append(Check("S3", scope, "fail", number, primary))
    return out


@dataclass(frozen=True)
class CheckInput:
    """What the checkers read: the keyed cells, the format whose rows table 三's rules use, whether table 四
    is printed, and the narrative (sections and full text) for S3."""

    cells: Mapping[str, CellValue]
    t3_format: str
    t4_printed: bool
    sections: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


Checker = Callable[[CheckInput], list[Check]]

# rule(s) -> checker, in the order the results are reported (I1, I2, I3 come from one pass over table 三)
CHECKERS: tuple[tuple[tuple[str, ...], Checker], ...] = (
    (("I1", "I2", "I3"), lambda c: table3_checks(c.cells, c.t3_format)),
    (("I4",), lambda c: table4_checks(c.cells) if c.t4_printed else []),
    (("I5",), lambda c: sign_checks(c.cells)),
    (("S3",), lambda c: narrative_checks(c.sections, c.text, c.cells)),
)


def run_checks(inp: CheckInput) -> list[Check]:
    """Given what the checkers read, return every check of every registered rule, in :data:`CHECKERS` order."""
    return [check for _rules, checker in CHECKERS for check in checker(inp)]
