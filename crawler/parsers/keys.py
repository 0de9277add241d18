"""The machine keys of the national table formats (spec/formats.md §3–§4): the project's public contract.

Every cell is addressed by a flat key ``row_key.col_key`` such as ``t3.received_new.natural`` or
``t4.review.upheld``. This module only lists keys; it has no logic beyond building those lists.
"""

from __future__ import annotations

# --- table 三: columns -------------------------------------------------------------------------------
T3_COLS: tuple[str, ...] = ("natural", "commercial", "research", "nonprofit", "legal_service", "other_org", "total")
T3_C6: tuple[str, ...] = T3_COLS[:6]

# --- table 三: rows (physical order) --------------------------------------------------------------------
T3_ROWS_HEAD: tuple[str, ...] = (
    "t3.received_new",
    "t3.carried_in",
    "t3.outcome.granted",
    "t3.outcome.partial",
    "t3.outcome.withheld.state_secret",
    "t3.outcome.withheld.law_prohibited",
    "t3.outcome.withheld.security_stability",
    "t3.outcome.withheld.third_party",
    "t3.outcome.withheld.internal_affairs",
    "t3.outcome.withheld.process_info",
    "t3.outcome.withheld.enforcement_file",
    "t3.outcome.withheld.admin_query",
    "t3.outcome.unavailable.not_held",
    "t3.outcome.unavailable.needs_creation",
    "t3.outcome.unavailable.unclear",
    "t3.outcome.not_processed.petition",
    "t3.outcome.not_processed.duplicate",
    "t3.outcome.not_processed.publication",
    "t3.outcome.not_processed.excessive",
    "t3.outcome.not_processed.confirm_reissue",
)
T3_OTHER_2021: tuple[str, ...] = (
    "t3.outcome.other.no_correction",
    "t3.outcome.other.unpaid_fee",
    "t3.outcome.other.misc",
)
T3_OTHER_2019: tuple[str, ...] = ("t3.outcome.other.sum",)
T3_TAIL: tuple[str, ...] = ("t3.outcome.total", "t3.carried_out")

T3_ROWS: dict[str, tuple[str, ...]] = {
    "gov2021": T3_ROWS_HEAD + T3_OTHER_2021 + T3_TAIL,  # 25 rows
    "gov2019": T3_ROWS_HEAD + T3_OTHER_2019 + T3_TAIL,  # 23 rows
}

# Group sums: never printed in gov2021 (derived), `other.sum` printed in gov2019.
T3_GROUPS: dict[str, tuple[str, ...]] = {
    "t3.outcome.withheld.sum": tuple(r for r in T3_ROWS_HEAD if ".withheld." in r),
    "t3.outcome.unavailable.sum": tuple(r for r in T3_ROWS_HEAD if ".unavailable." in r),
    "t3.outcome.not_processed.sum": tuple(r for r in T3_ROWS_HEAD if ".not_processed." in r),
    "t3.outcome.other.sum": T3_OTHER_2021,
}

# The leaves of I2 (outcome rows that add up to t3.outcome.total).
T3_OUTCOME_LEAVES: dict[str, tuple[str, ...]] = {
    fmt: tuple(r for r in rows if r.startswith("t3.outcome.") and r != "t3.outcome.total")
    for fmt, rows in T3_ROWS.items()
}

# --- table 四 -------------------------------------------------------------------------------------------
T4_GROUPS: tuple[str, ...] = ("t4.review", "t4.litigation_direct", "t4.litigation_after_review")
T4_COLS: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
T4_KEYS: tuple[str, ...] = tuple(f"{g}.{c}" for g in T4_GROUPS for c in T4_COLS)

# --- table 二 -------------------------------------------------------------------------------------------
T2_ROWS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "gov2021": (
        ("t2.regulation", ("issued", "repealed", "in_force")),
        ("t2.normative_doc", ("issued", "repealed", "in_force")),
        ("t2.licensing", ("decisions",)),
        ("t2.penalty", ("decisions",)),
        ("t2.coercion", ("decisions",)),
        ("t2.admin_fee", ("amount_wan",)),
    ),
    "gov2019": (
        ("t2.regulation", ("made_new", "published_new", "published_total")),
        ("t2.normative_doc", ("made_new", "published_new", "published_total")),
        ("t2.licensing", ("prev_items", "delta", "decisions")),
        ("t2.other_service", ("prev_items", "delta", "decisions")),
        ("t2.penalty", ("prev_items", "delta", "decisions")),
        ("t2.coercion", ("prev_items", "delta", "decisions")),
        ("t2.admin_fee", ("prev_items", "delta")),
        ("t2.procurement", ("items", "amount")),
    ),
}
MONEY_KEYS: frozenset[str] = frozenset({"t2.admin_fee.amount_wan", "t2.procurement.amount"})
SIGNED_COLS: frozenset[str] = frozenset({"delta"})


def t3_keys(fmt: str) -> list[str]:
    """All printed table 三 cell keys of a format (175 for gov2021, 161 for gov2019)."""
    return [f"{r}.{c}" for r in T3_ROWS[fmt] for c in T3_COLS]


def t2_keys(fmt: str) -> list[str]:
    """All table 二 cell keys of a format (10 for gov2021, 21 for gov2019)."""
    return [f"{r}.{c}" for r, cols in T2_ROWS[fmt] for c in cols]


SECTION_KEYS: tuple[str, ...] = (
    "s1.overview",
    "s2.proactive",
    "s3.requests",
    "s4.review_litigation",
    "s5.problems",
    "s6.other",
)

FORMATS: tuple[str, ...] = ("gov2021", "gov2019", "pre2019", "none")
