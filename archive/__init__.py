"""The SQLite archive (sqlite-utils). Imports nothing from crawler/.

from archive import open_archive, ArchiveError
arc = open_archive("ogi.db")
sha = arc.save_document(data, url=url)
res = arc.save_report(parsed, sha256=sha, url=url)

The package is lazy (PEP 562): ``import archive.schema`` (the contract, stdlib only) loads neither SQLite
nor sqlite-utils; the names below are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.common import ArchiveError, ReparseResult, SaveResult
    from archive.schema import SCHEMA_VERSION
    from archive.store import Archive, open_archive

__all__ = ["SCHEMA_VERSION", "Archive", "ArchiveError", "ReparseResult", "SaveResult", "open_archive"]

_WHERE: dict[str, str] = {
    "SCHEMA_VERSION": "archive.schema",
    "Archive": "archive.store",
    "open_archive": "archive.store",
    "ArchiveError": "archive.common",
    "SaveResult": "archive.common",
    "ReparseResult": "archive.common",
}


def __getattr__(name: str) -> Any:
    """Given a public name of the package, import its module and return it (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'archive' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
