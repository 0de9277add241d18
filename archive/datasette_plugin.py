"""A small in-process Datasette plugin for `ogi serve`.

- Column descriptions (bilingual, from metadata.yml) fold into a "列说明 / column descriptions" toggle, so a
  table page opens on its data rather than on a screen of descriptions (they also stay as header tooltips).
- Big cell tables are listed without a total count. Datasette counts every table page's rows (``select count(*) …``). For ``cells`` (≈200 rows per report) and
the ``cells_long`` view that joins it, that count alone takes seconds at 10^5 reports, so their pages get
``_nocount=1`` unless the request already says otherwise. Filtering, facets and SQL still work as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from datasette import hookimpl

NOCOUNT_TABLES = frozenset({"cells", "cells_long"})

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _needs_nocount(path: str, query: bytes) -> bool:
    parts = path.strip("/").split("/")
    if len(parts) != 2 or b"_nocount" in query:
        return False
    table = parts[1].rsplit(".", 1)[0] if parts[1].endswith((".json", ".csv")) else parts[1]
    return table in NOCOUNT_TABLES


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http":
                query = scope.get("query_string", b"")
                if _needs_nocount(scope.get("path", ""), query):
                    scope = dict(scope, query_string=(query + b"&" if query else b"") + b"_nocount=1")
            await app(scope, receive, send)

        return wrapped

    return wrap


FOLD_DESCRIPTIONS_JS = """
document.querySelectorAll('dl.column-descriptions').forEach(function (dl) {
  var details = document.createElement('details');
  details.className = 'column-descriptions-toggle';
  var summary = document.createElement('summary');
  summary.textContent = '列说明 / column descriptions (' + dl.querySelectorAll('dt').length + ')';
  dl.parentNode.insertBefore(details, dl);
  details.appendChild(summary);
  details.appendChild(dl);
});
"""


@hookimpl
def extra_body_script(template: str, **_: Any) -> str:
    return FOLD_DESCRIPTIONS_JS if template == "table.html" else ""
