"""Crawl modes: the one definition of ``OGI_MODE`` and of which save statuses count as a report found.

* ``full``: walk the list pages; fetch new links; re-check every listed article and attachment conditionally.
* ``light``: walk the list pages; fetch only article/attachment URLs the archive never fetched (known ones
  are not requested at all, see :class:`crawler.middlewares.CrawlModeMiddleware`); count the ``new_items``.
* ``revisions``: walk no list page; re-check the source's known report URLs conditionally (a changed report
  becomes a new version). A source with no known report is walked as in ``full``.

Stdlib only: the scheduler and the CLI import it without loading Scrapy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CRAWL_MODES", "FOUND", "crawl_mode"]

FOUND = ("new", "unchanged", "new_version", "pre2019", "image_only")
CRAWL_MODES = ("full", "light", "revisions")


def crawl_mode(settings: Any) -> str:
    """Given settings (a Scrapy Settings or a dict), return the crawl mode of ``OGI_MODE``; ValueError naming
    the choices when it is not one."""
    mode = str(settings.get("OGI_MODE") or "full").strip().lower()
    if mode not in CRAWL_MODES:
        raise ValueError(f"OGI_MODE must be one of {', '.join(CRAWL_MODES)}, got {mode!r}")
    return mode
