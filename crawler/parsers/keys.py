"""The machine keys of the national table formats: a re-export of :mod:`archive.schema`, which owns them."""

from __future__ import annotations

from archive.schema import (
    FORMATS,
    MONEY_KEYS,
    SECTION_KEYS,
    SIGNED_COLS,
    T3_C6,
    T3_COLS,
    T3_GROUPS,
    T3_OTHER_2019,
    T3_OTHER_2021,
    T3_OUTCOME_LEAVES,
    T3_ROWS_HEAD,
    T3_TAIL,
    T4_COLS,
    T4_KEYS,
    t2_keys,
    t3_keys,
)
from archive.schema import T2_FORMAT_ROWS as T2_ROWS
from archive.schema import T3_FORMAT_ROWS as T3_ROWS
from archive.schema import T4_GROUP_KEYS as T4_GROUPS

__all__ = [
    "FORMATS", "MONEY_KEYS", "SECTION_KEYS", "SIGNED_COLS", "T2_ROWS", "T3_C6", "T3_COLS", "T3_GROUPS",
    "T3_OTHER_2019", "T3_OTHER_2021", "T3_OUTCOME_LEAVES", "T3_ROWS", "T3_ROWS_HEAD", "T3_TAIL", "T4_COLS",
    "T4_GROUPS", "T4_KEYS", "t2_keys", "t3_keys",
]  # fmt: skip
