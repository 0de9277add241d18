"""Page caps are settings: each family's list-page cap is read once per spider from its Scrapy settings.

* ``OGI_TRS_MAX_PAGES`` (default 500): TRS static pages declared by the pager script, per column;
* ``OGI_GENERIC_MAX_PAGES`` (default 200): plain list pages (下一页 chains, ``page=N`` up to 共N页), per column;
* ``OGI_GKMLPT_MAX_PAGES`` (default 200): gkmlpt API pages, per category;
* ``OGI_HANWEB_MAX_WINDOWS`` (default 200): Hanweb dataproxy.jsp windows, per column.

Hitting a cap is a ``page-limit`` link decision (the first page not requested), and the pipeline counts it as
a loss: the source is ``partial``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["setting_int"]


def setting_int(spider: Any, name: str, default: int) -> int:
    """Given a spider, a setting name and its default, return the setting as a positive int (the default when
    the spider has no settings yet, or the value is not a positive number)."""
    settings = getattr(spider, "settings", None)
    if settings is None:
        return default
    try:
        value = settings.getint(name, default)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default
