"""Datasette over an archive: metadata (bilingual), default facets, canned queries; read-only, WAL-friendly.

The database is opened in Datasette's normal (mutable, ``mode=ro``) mode, never ``immutable``: a crawl may be
writing to it while people read (WAL lets both happen).
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path
from typing import Any

from archive.datasette_plugin import TEMPLATE_DB, template
from archive.store import ArchiveError, open_archive

logger = logging.getLogger(__name__)

# Datasette settings for a large, possibly public archive: no suggested facets (they scan big tables), a facet
# budget, a SQL time limit and a row cap; one value's size and SQLite's heap are capped by the plugin
# (archive.datasette_plugin.prepare_connection). Whole-DB download is the plugin's (a consistent snapshot of a
# database that may be written meanwhile), off unless `ogi serve --allow-download`.
SETTINGS: dict[str, Any] = {
    "suggest_facets": False,
    "facet_time_limit_ms": 1000,
    "sql_time_limit_ms": 2000,
    "max_returned_rows": 1000,
    "num_sql_threads": 3,
    "default_page_size": 50,
    "allow_download": False,
    "truncate_cells_html": 300,
}

SERVE_HEAP_LIMIT_MB = 512  # `ogi serve`'s process: SQLite allocations beyond this fail (SQLITE_NOMEM), not the host


def database_name(db_path: str | Path) -> str:
    """Given a database file, return the name Datasette gives it (its stem)."""
    return Path(db_path).stem


def load_metadata(db_name: str = TEMPLATE_DB) -> dict[str, Any]:
    """Given a database name, return metadata.yml with its database entry renamed to ``db_name`` (the served
    metadata itself comes from the plugin, for any archive database; this is the file as a dict)."""
    meta = copy.deepcopy(template())
    dbs = meta.get("databases", {})
    if TEMPLATE_DB in dbs and db_name != TEMPLATE_DB:
        dbs[db_name] = dbs.pop(TEMPLATE_DB)
    return meta


def _register_plugin() -> None:
    from datasette.plugins import pm

    from archive import datasette_plugin

    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name=datasette_plugin.PLUGIN)


def make_datasette(
    db_path: str | Path,
    *,
    settings: dict[str, Any] | None = None,
    allow_download: bool = False,
    debug_pages: bool = False,
    heap_limit_mb: int = 0,
) -> Any:
    """Given an archive path, return a configured :class:`datasette.app.Datasette` (archive migrated first).
    ``allow_download``: serve the whole database at ``/-/ogi/<db>/download``; ``debug_pages``: keep
    ``/-/databases``, ``/-/threads``, ``/-/actor`` … (they show absolute paths); ``heap_limit_mb``: SQLite's
    process-wide heap limit (0 = none; :func:`serve` sets :data:`SERVE_HEAP_LIMIT_MB` in its own process)."""
    from datasette.app import Datasette

    from archive.datasette_plugin import PLUGIN

    path = Path(db_path)
    if not path.exists():
        raise ArchiveError(f"{path}: no such archive (run `ogi import` or `ogi crawl` first)")
    open_archive(path, readonly=True).close()  # validates; never creates, migrates or changes the file
    # a crawl may write while people read: mode=ro (WAL), unless the file or its folder cannot be written
    # (a read-only copy or mount), where mode=ro cannot open the WAL index and nobody can be writing
    immutable = not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK))
    _register_plugin()
    merged = {**SETTINGS, **(settings or {})}
    metadata = {"plugins": {PLUGIN: {"allow_download": allow_download, "debug_pages": debug_pages,
                                     "heap_limit_mb": heap_limit_mb}}}
    if immutable:
        return Datasette([], immutables=[str(path)], metadata=metadata, settings=merged)
    return Datasette([str(path)], metadata=metadata, settings=merged)


def serve(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    allow_download: bool = False,
    debug_pages: bool = False,
) -> None:
    """Given an archive, run Datasette on ``host:port`` until interrupted."""
    import uvicorn

    ds = make_datasette(db_path, allow_download=allow_download, debug_pages=debug_pages,
                        heap_limit_mb=SERVE_HEAP_LIMIT_MB)
    logger.info("serving %s on http://%s:%d/", db_path, host, port)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
