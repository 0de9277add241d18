"""Datasette over an archive: metadata (bilingual), default facets, canned queries; read-only, WAL-friendly.

The database is opened in Datasette's normal (mutable, ``mode=ro``) mode, never ``immutable``: a crawl may be
writing to it while people read (WAL lets both happen).
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from archive.store import ArchiveError, open_archive

logger = logging.getLogger(__name__)

METADATA_PATH = Path(__file__).with_name("metadata.yml")
TEMPLATE_DB = "archive"
# Datasette settings for a large archive: no suggested facets (they scan big tables), a longer facet budget.
SETTINGS: dict[str, Any] = {
    "suggest_facets": False,
    "facet_time_limit_ms": 1000,
    "sql_time_limit_ms": 3000,
    "default_page_size": 50,
    "allow_download": False,
    "truncate_cells_html": 300,
}


@lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    with METADATA_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def database_name(db_path: str | Path) -> str:
    """The name Datasette gives a database file (its stem)."""
    return Path(db_path).stem


def load_metadata(db_name: str = TEMPLATE_DB) -> dict[str, Any]:
    """metadata.yml with its database entry renamed to ``db_name``."""
    meta = copy.deepcopy(_template())
    dbs = meta.get("databases", {})
    if TEMPLATE_DB in dbs and db_name != TEMPLATE_DB:
        dbs[db_name] = dbs.pop(TEMPLATE_DB)
    if "description_html" in meta:
        meta["description_html"] = meta["description_html"].replace("__DB__", db_name)
    return meta


def _register_plugin() -> None:
    from datasette.plugins import pm

    from archive import datasette_plugin

    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="ogi-archive")


def make_datasette(db_path: str | Path, *, settings: dict[str, Any] | None = None) -> Any:
    """A configured :class:`datasette.app.Datasette` for the archive at ``db_path`` (created/migrated first)."""
    from datasette.app import Datasette

    path = Path(db_path)
    if not path.exists():
        raise ArchiveError(f"{path}: no such archive (run `ogi import` or `ogi crawl` first)")
    open_archive(path).close()  # validates, migrates and switches to WAL before anyone reads
    _register_plugin()
    merged = {**SETTINGS, **(settings or {})}
    return Datasette([str(path)], metadata=load_metadata(database_name(path)), settings=merged)


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run Datasette on ``host:port`` until interrupted."""
    import uvicorn

    ds = make_datasette(db_path)
    logger.info("serving %s on http://%s:%d/", db_path, host, port)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
