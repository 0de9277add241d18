"""Small things every archive module shares: the error, the result records, timestamps and JSON columns.

No I/O; imports only the standard library.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any


class ArchiveError(Exception):
    """The archive cannot do what was asked (corrupt or newer database, missing blob, busy writer, bad input)."""


@dataclass(slots=True)
class SaveResult:
    """What :meth:`Archive.save_report` did.

    ``status`` is ``new`` | ``unchanged`` | ``new_version`` for stored reports, ``pre2019`` / ``image_only``
    for reports stored without tables (``change`` then tells new/unchanged/new_version), ``not_report`` for a
    document kept only as a document (``reason`` says why). Only with ``reparse=True``: ``skipped`` (the bytes
    are an older version of a report) and ``conflict`` (the new parse names another existing report); a
    re-parse version has ``reason`` ``re-parse``.
    """

    status: str
    report_id: int | None = None
    version: int | None = None
    sha256: str | None = None
    change: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class ReparseResult:
    """What :meth:`Archive.reparse` did with one stored document.

    ``status``: ``unchanged`` (the parse is identical: nothing changed), ``new_version`` (a re-parse
    version), ``new`` (a document that was not a report now is one), ``not_report`` (still not a report, or
    no longer one: a stored report is then kept), ``skipped`` (an older version of a report: kept as
    stored), ``conflict`` (the new parse names a report that already exists: nothing saved), ``error``.
    """

    sha256: str
    status: str
    report_id: int | None = None
    version: int | None = None
    reason: str | None = None


def now_iso() -> str:
    """Given nothing, return the current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def to_json(obj: Any) -> str | None:
    """Given a JSON-able object (or None), return its compact JSON text (None stays None)."""
    if obj is None:
        return None
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
