"""Completeness, measured: the items a source's list pages gave, reconciled with what the portal declares.

Every list page yields a :class:`~crawler.items.ListingItem` (its column, the declared item count — TRS
``recordCount``, Hanweb ``totalRecord``, gkmlpt ``total``, 共N条, an API total — or the declared page count —
``createPageHTML``, ``countPage``, 共N页, an API ``pageCount`` — and the item URLs it lists). Per column:

* a declared item count and known rows: ``missing = declared - listed``; ``partial`` when > 0, else ``ok``;
* else a declared page count: pages not read make the column ``partial`` (missing items estimated from the rows
  per page read, None when unknown), all read is ``ok``;
* nothing declared: ``unknown`` (never ``ok``).

A source is the worst of its columns; a source with no column at all is ``unknown``. Hub pages are left out:
a page marked as a hub (a 年报汇总 title), or one that declares nothing and whose every row was itself read as a
list or recorded with a reason (a link to a column, a confusable, a dead link), with at least one list among
them. Pure: no Scrapy, no archive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.schema import COMPLETENESS

__all__ = ["ORDER", "Column", "SourceCompleteness", "source_completeness"]

ORDER = COMPLETENESS  # worst last


@dataclass(slots=True)
class Column:
    """What the list pages of one column declared and listed."""

    mechanism: str = ""
    declared: int | None = None
    declared_pages: int | None = None
    pages: int = 0  # pages read that belong to the declared page sequence
    rows: set[str] = field(default_factory=set)
    rows_known: bool = False
    hub: bool = False

    def add(self, listing: Mapping[str, Any]) -> None:
        """Given one ListingItem (or dict), fold it into the column."""
        self.mechanism = self.mechanism or str(listing.get("mechanism") or "")
        if isinstance(listing.get("declared"), int):
            self.declared = max(self.declared or 0, int(listing["declared"]))
        if isinstance(listing.get("declared_pages"), int):
            self.declared_pages = max(self.declared_pages or 0, int(listing["declared_pages"]))
            self.pages += 1
        rows = listing.get("rows")
        if rows is not None:
            self.rows_known = True
            self.rows.update(str(r) for r in rows)
        self.hub = self.hub or bool(listing.get("hub"))

    def result(self) -> tuple[str, int | None]:
        """(state, missing items or None) of the column."""
        if self.declared is not None and self.rows_known:
            missing = max(0, self.declared - len(self.rows))
            return ("partial" if missing else "ok"), missing
        if self.declared_pages is not None:
            unread = max(0, self.declared_pages - self.pages)
            if not unread:
                return "ok", 0
            per_page = math.ceil(len(self.rows) / self.pages) if self.rows_known and self.pages else 0
            return "partial", (unread * per_page) if per_page else None
        return "unknown", None


@dataclass(frozen=True, slots=True)
class SourceCompleteness:
    """A source's reconciliation: declared (None when no column declares items), listed, missing, state."""

    declared: int | None
    listed: int
    missing: int | None
    state: str
    detail: str
    declared_pages: int | None = None  # pages declared by the columns that declare pages but no item count
    pages_read: int | None = None  # of those, the pages read


def _bare(url: str) -> str:
    return url.split("#", 1)[0]


def is_hub(col: Column, lists: set[str], recorded: set[str]) -> bool:
    """True when a column is a hub: marked so, or declaring nothing with every row a list or a recorded URL."""
    if col.hub:
        return True
    if col.declared is not None or col.declared_pages is not None or not col.rows:
        return False
    rows = {_bare(r) for r in col.rows}
    return bool(rows & lists) and rows <= lists | recorded


def source_completeness(columns: Iterable[tuple[str, Column]], *, lists: Iterable[str] = (),
                        recorded: Iterable[str] = ()) -> SourceCompleteness:
    """Given (column URL, Column) pairs of one source, the URLs it read as lists and the URLs recorded with a
    reason (failures, link decisions), return its completeness (the worst column decides)."""
    list_urls = {_bare(u) for u in lists}
    recorded_urls = {_bare(u) for u in recorded}
    declared: int | None = None
    declared_pages: int | None = None
    pages_read: int | None = None
    missing: int | None = 0
    rows: set[str] = set()
    state = None
    notes = []
    for url, col in columns:
        if is_hub(col, list_urls, recorded_urls):
            continue
        col_state, col_missing = col.result()
        rows |= col.rows
        if col.declared is not None:
            declared = (declared or 0) + col.declared
        elif col.declared_pages is not None:
            declared_pages = (declared_pages or 0) + col.declared_pages
            pages_read = (pages_read or 0) + min(col.pages, col.declared_pages)
        if col_missing is None and col_state == "partial":
            missing = None
        elif col_missing and missing is not None:
            missing += col_missing
        state = col_state if state is None else max(state, col_state, key=ORDER.index)
        if col_state == "partial":
            what = (f"{col_missing} of {col.declared} declared items missing" if col.declared is not None
                    else f"{(col.declared_pages or 0) - col.pages} of {col.declared_pages} declared pages not read")
            notes.append(f"{url}: {what}")
        elif col_state == "unknown":
            notes.append(f"{url}: no declared count")
    if state is None:
        return SourceCompleteness(None, 0, None, "unknown", "no list page read")
    return SourceCompleteness(declared, len(rows), missing if state != "unknown" or missing else None, state,
                              "; ".join(notes[:5]) + (f"; … {len(notes) - 5} more" if len(notes) > 5 else ""),
                              declared_pages, pages_read)
