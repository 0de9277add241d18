"""The SQLite archive (sqlite-utils). Imports nothing from crawler/.

from archive import open_archive, ArchiveError
arc = open_archive("ogi.db")
sha = arc.save_document(data, url=url)
res = arc.save_report(parsed, sha256=sha, url=url)
"""

from __future__ import annotations

from archive.schema import SCHEMA_VERSION
from archive.store import Archive, ArchiveError, ReparseResult, SaveResult, open_archive

__all__ = ["SCHEMA_VERSION", "Archive", "ArchiveError", "ReparseResult", "SaveResult", "open_archive"]
