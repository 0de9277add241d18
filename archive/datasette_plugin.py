"""The archive's Datasette plugin: registered by the ``datasette`` entry point (any ``datasette DB`` once the
project is installed) and by ``ogi serve``.

- Metadata for every database with the archive's schema, whatever its file name: the bilingual titles,
  descriptions, facets and canned queries of ``metadata.yml`` (its ``archive`` entry is a template), check rules
  and cell flags generated from :mod:`archive.schema`, long SQL hidden, a preset chart (datasette-vega).
- Raw documents one click away: ``/-/ogi/doc/<sha256>`` and ``/-/ogi/<db>/doc/<sha256>`` serve the original
  bytes (content type, file name; ``?download=1`` as an attachment), ``/-/ogi/<db>/warc/<fetch id>`` the WARC
  records of a fetch, ``/-/ogi/<db>/report/<id>`` one report as printed; sha256 and report ids link there.
- Exposure: ``SQLITE_LIMIT_LENGTH`` on every connection (one ``randomblob(1e9)`` no longer allocates 1 GB) and,
  when configured (``ogi serve``: 512 MB), SQLite's process heap limit, debug pages (``/-/databases`` shows the absolute path) answer 404 unless asked for, whole-DB
  download (a consistent snapshot) only when asked for.
- Column descriptions fold into a toggle; t2/t3/t4 headers show their Chinese and English labels; ``cells`` and
  ``cells_long`` pages skip the total count (seconds at 10^5 reports).

Plugin options (``plugins: ogi-archive:`` in metadata, or ``-s plugins.ogi-archive.allow_download true``):
``allow_download`` (false), ``debug_pages`` (false), ``max_length_mb`` (16), ``heap_limit_mb`` (0 = none; 512
under ``ogi serve``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import markupsafe
import yaml
from datasette import hookimpl
from datasette.utils.asgi import Response

from archive import rawdocs
from archive import schema as S
from archive.common import ArchiveError

logger = logging.getLogger(__name__)

PLUGIN = "ogi-archive"
METADATA_PATH = Path(__file__).with_name("metadata.yml")
TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_DB = "archive"
NOCOUNT_TABLES = frozenset({"cells", "cells_long"})
DEBUG_PAGES = frozenset({"databases", "threads", "actor", "permissions", "allow-debug", "messages"})
# heap_limit_mb is process-wide (``PRAGMA hard_heap_limit`` can only be lowered afterwards): off by default so an
# in-process Datasette (tests, notebooks) does not limit its host; ``ogi serve``'s own process turns it on.
DEFAULTS: dict[str, Any] = {"allow_download": False, "debug_pages": False, "max_length_mb": 16, "heap_limit_mb": 0}
# columns whose value is a report id (links to the printed page) and columns holding a document sha256
REPORT_ID_COLUMNS = frozenset({"report_id", "prev_report_id", "other_report_id"})
SHA_COLUMNS = frozenset({"sha256"})
# datasette-vega's preset: applications received and outcomes by year (the `requests_by_year` query)
CHART_HASH = ("#g.mark=line&g.x_column=year&g.x_type=ordinal&g.y_column=value&g.y_type=quantitative"
              "&g.color_column=measure")



def chart_hash(chart: dict[str, Any]) -> str:
    """Given a canned query's ``chart`` entry of metadata.yml (mark, x, x_type, y, y_type, color), return the
    datasette-vega preset as a URL fragment (the same form as :data:`CHART_HASH`)."""
    parts = [("mark", chart.get("mark", "line")), ("x_column", chart["x"]), ("x_type", chart.get("x_type", "ordinal")),
             ("y_column", chart["y"]), ("y_type", chart.get("y_type", "quantitative"))]
    if chart.get("color"):
        parts.append(("color_column", chart["color"]))
    return "#" + "&".join(f"g.{k}={quote(str(v))}" for k, v in parts)


ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


# --- configuration and metadata ------------------------------------------------------------------------------


def option(datasette: Any, name: str) -> Any:
    """Given Datasette and an option name, return the plugin option (``DEFAULTS`` when not configured)."""
    conf = datasette.plugin_config(PLUGIN) or {}
    value = conf.get(name, DEFAULTS[name])
    if isinstance(DEFAULTS[name], bool) and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    """metadata.yml as loaded (its ``archive`` database entry is the template for every archive database)."""
    with METADATA_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _rules_text() -> str:
    return "; ".join(f"{rule} ({kind}): {text}" for rule, (kind, text) in S.CHECK_RULES.items())


def _flags_text() -> str:
    return "; ".join(f"{flag}: {text}" for flag, text in S.FLAGS.items())


def database_links(db: str) -> str:
    """Given a database name, return the HTML list of its starting points (no placeholder anywhere)."""
    base = "/" + quote(db)
    readable = "&".join(f"_col={c}" for c in ("agency", "year", "province", "check_status", "received_new",
                                              "outcome_total", "carried_out", "review_total", "litigation_total",
                                              "title"))
    return (
        f'<p>从这里开始 / start here: <a href="{base}/reports?{readable}">报告 / reports</a> ·'
        f' <a href="{base}/t3?is_current=1">表三 / table 三</a> · <a href="{base}/search">全文检索 / search</a> ·'
        f' <a href="{base}/failing_checks">未通过的校验 / failing checks</a> ·'
        f' <a href="{base}/requests_by_year{CHART_HASH}">图表：各年度申请与办理 / chart: requests by year</a>.'
        " 每份报告的印刷版页面：点击报告键 / each report as printed: click its report key.</p>"
        f"<p>校验规则 / check rules: {markupsafe.escape(_rules_text())}</p>"
        f"<p>单元格标记 / cell flags: {markupsafe.escape(_flags_text())}</p>"
    )


@lru_cache(maxsize=32)
def database_metadata(db: str) -> dict[str, Any]:
    """Given a database name, return its metadata: the template entry plus what is generated from the schema."""
    meta = copy.deepcopy(template()["databases"][TEMPLATE_DB])
    meta["description_html"] = (
        f"<p>{markupsafe.escape(meta.pop('description', ''))}</p>" + database_links(db)
    )
    for name, query in (meta.get("queries") or {}).items():
        query.setdefault("hide_sql", True)
        chart = query.pop("chart", None)
        if name == "requests_by_year" or chart:
            link = chart_hash(chart) if chart else CHART_HASH
            label = (chart or {}).get("title") or "图表 / chart"
            query["description_html"] = (
                f"<p>{markupsafe.escape(query.pop('description', ''))}</p>"
                f'<p><a href="/{quote(db)}/{quote(name)}{link}">{markupsafe.escape(label)} (datasette-vega)</a></p>'
            )
    tables = meta.setdefault("tables", {})
    checks = tables.setdefault("checks", {})
    checks["description"] = checks.get("description", "") + " · 规则 / rules: " + _rules_text()
    checks.setdefault("columns", {})["rule"] = "规则 / rule — " + _rules_text()
    checks["columns"]["status"] = "结果 / status: " + ", ".join(S.CHECK_STATUSES)
    for name in ("cells", "cells_long"):
        tables.setdefault(name, {}).setdefault("columns", {})["flag"] = "标记 / flag — " + _flags_text()
    reports = tables.setdefault("reports", {})
    reports.setdefault("columns", {})["check_status"] = (
        "校验结果 / overall check result (" + ", ".join(S.CHECK_STATUSES) + "); rules: " + _rules_text())
    return meta


def archive_names(datasette: Any) -> list[str]:
    """Given Datasette, return the names of its databases that have the archive's schema (found at startup)."""
    return list(getattr(datasette, "_ogi_archives", ()))


def _instance_metadata(datasette: Any) -> dict[str, Any]:
    top = {k: copy.deepcopy(v) for k, v in template().items() if k != "databases"}
    names = archive_names(datasette)
    if names:
        links = "".join(f'<li><a href="/{quote(n)}">{markupsafe.escape(n)}</a></li>' for n in names)
        top["description_html"] = top.get("description_html", "") + f"<ul>{links}</ul>"
    top["databases"] = {n: copy.deepcopy(database_metadata(n)) for n in names}
    return top


@hookimpl
def get_metadata(datasette: Any, key: Any, database: Any, table: Any) -> dict[str, Any]:
    return _instance_metadata(datasette)


@hookimpl
def startup(datasette: Any) -> Callable[[], Awaitable[None]]:
    async def inner() -> None:
        from jinja2 import ChoiceLoader, FileSystemLoader

        found = []
        for name, db in datasette.databases.items():
            if name.startswith("_") or db.is_memory:
                continue
            try:
                if rawdocs.is_archive(await db.table_names()):
                    found.append(name)
            except Exception as exc:  # a broken file is Datasette's to report, not ours
                logger.warning("%s: not inspected (%s)", name, exc)
        datasette._ogi_archives = tuple(found)
        datasette.jinja_env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), datasette.jinja_env.loader])

    return inner


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Cap one value's size (``SQLITE_LIMIT_LENGTH``) and SQLite's heap: one GET cannot allocate a gigabyte."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, int(option(datasette, "max_length_mb")) << 20)
    heap = int(option(datasette, "heap_limit_mb"))
    if heap > 0:
        conn.execute(f"PRAGMA hard_heap_limit = {heap << 20}")


# --- ASGI: no count on big tables, debug pages off --------------------------------------------------------


def _needs_nocount(path: str, query: bytes) -> bool:
    parts = path.strip("/").split("/")
    if len(parts) != 2 or b"_nocount" in query:
        return False
    table = parts[1].rsplit(".", 1)[0] if parts[1].endswith((".json", ".csv")) else parts[1]
    return table in NOCOUNT_TABLES


def _is_debug_page(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) == 2 and parts[0] == "-" and parts[1].split(".", 1)[0] in DEBUG_PAGES


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http":
                path = scope.get("path", "")
                if _is_debug_page(path) and not option(datasette, "debug_pages"):
                    await Response.text("Not found (debug pages are off)", status=404).asgi_send(send)
                    return
                query = scope.get("query_string", b"")
                if _needs_nocount(path, query):
                    scope = dict(scope, query_string=(query + b"&" if query else b"") + b"_nocount=1")
            await app(scope, receive, send)

        return wrapped

    return wrap


# --- routes ------------------------------------------------------------------------------------------------


def _db(datasette: Any, name: str | None) -> Any:
    if name not in archive_names(datasette):
        return None
    return datasette.get_database(name)


def doc_url(db: str, sha256: str) -> str:
    """Given a database name and a sha256, return the raw document's route."""
    return f"/-/ogi/{quote(db)}/doc/{sha256}"


def report_url(db: str, report_id: Any) -> str:
    """Given a database name and a report id, return the printed report page's route."""
    return f"/-/ogi/{quote(db)}/report/{report_id}"


def _disposition(kind: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def _serve_doc(datasette: Any, request: Any, name: str, sha256: str) -> Response:
    db = _db(datasette, name)
    if db is None or not rawdocs.SHA256_RE.match(sha256):
        return Response.text("Not found", status=404)
    doc = await db.execute_fn(lambda conn: rawdocs.document_row(conn, sha256))
    if doc is None:
        return Response.text(f"no document {sha256} in {name}", status=404)
    try:
        data = await asyncio.to_thread(rawdocs.read_bytes, db.path, doc)
    except ArchiveError as exc:
        return Response.text(str(exc), status=410)
    kind = "attachment" if request.args.get("download") else "inline"
    return Response(
        data, status=200, content_type=doc.content_type or "application/octet-stream",
        headers={
            "content-disposition": _disposition(kind, rawdocs.download_name(doc)),
            "x-content-type-options": "nosniff",
            # archived pages are someone else's HTML: never let their scripts run on this origin
            "content-security-policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
            "x-ogi-sha256": sha256,
        },
    )


async def doc_view(datasette: Any, request: Any) -> Response:
    return await _serve_doc(datasette, request, request.url_vars["database"], request.url_vars["sha256"])


async def doc_any_view(datasette: Any, request: Any) -> Response:
    """``/-/ogi/doc/<sha256>``: the first archive database that holds the document."""
    sha = request.url_vars["sha256"]
    for name in archive_names(datasette):
        db = datasette.get_database(name)
        if await db.execute_fn(lambda conn: rawdocs.document_row(conn, sha)) is not None:
            return await _serve_doc(datasette, request, name, sha)
    return Response.text(f"no document {sha}", status=404)


async def warc_view(datasette: Any, request: Any) -> Response:
    name = request.url_vars["database"]
    db = _db(datasette, name)
    if db is None:
        return Response.text("Not found", status=404)
    rows = (await db.execute("SELECT * FROM fetches WHERE id = ?", [int(request.url_vars["fetch_id"])])).rows
    if not rows:
        return Response.text("no such fetch", status=404)
    fetch = dict(rows[0])
    doc = await db.execute_fn(lambda conn: rawdocs.document_row(conn, fetch["sha256"]))
    try:
        body = await asyncio.to_thread(rawdocs.read_bytes, db.path, doc)
        found = await asyncio.to_thread(rawdocs.warc_record, db.path, fetch, body)
    except (ArchiveError, OSError) as exc:
        return Response.text(str(exc), status=410)
    if found is None:
        return Response.text("no WARC record of this fetch beside the archive (imports have none)", status=404)
    data, warc_name = found
    return Response(data, content_type="application/warc", headers={
        "content-disposition": _disposition("attachment", f"fetch{fetch['id']}-{warc_name}"),
        "x-ogi-warc-file": warc_name})


async def report_view(datasette: Any, request: Any) -> Response:
    from archive.report_page import report_context

    name = request.url_vars["database"]
    db = _db(datasette, name)
    if db is None:
        return Response.text("Not found", status=404)
    vid = request.args.get("version_id")
    ctx = await report_context(db, int(request.url_vars["report_id"]), int(vid) if vid and vid.isdigit() else None)
    if ctx is None:
        return Response.html("<p>no such report or version</p>", status=404)
    ctx.update(database=name, report_url=report_url(name, ctx["report"]["id"]),
               doc_url=lambda sha: doc_url(name, sha),
               rules_text={r: t for r, (_, t) in S.CHECK_RULES.items()})
    return Response.html(await datasette.render_template("ogi_report.html", ctx, request=request))


async def download_view(datasette: Any, request: Any) -> Response:
    """A consistent copy of the whole database (SQLite backup API), only when ``allow_download`` is on."""
    name = request.url_vars["database"]
    db = _db(datasette, name)
    if db is None or not option(datasette, "allow_download"):
        return Response.text("Not found (whole-database download is off; ogi serve --allow-download)", status=404)

    def snapshot(conn: sqlite3.Connection) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            target = sqlite3.connect(str(Path(tmp) / "copy.db"))
            try:
                conn.backup(target)
            finally:
                target.close()
            return (Path(tmp) / "copy.db").read_bytes()

    data = await db.execute_fn(snapshot)
    return Response(data, content_type="application/vnd.sqlite3",
                    headers={"content-disposition": _disposition("attachment", f"{name}.db")})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    sha = r"(?P<sha256>[0-9a-f]{64})"
    db = r"(?P<database>[^/]+)"
    return [
        (rf"^/-/ogi/doc/{sha}$", doc_any_view),
        (rf"^/-/ogi/{db}/doc/{sha}$", doc_view),
        (rf"^/-/ogi/{db}/warc/(?P<fetch_id>\d+)$", warc_view),
        (rf"^/-/ogi/{db}/report/(?P<report_id>\d+)$", report_view),
        (rf"^/-/ogi/{db}/download$", download_view),
    ]


# --- cells: links to documents, WARC records and printed reports ------------------------------------------


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if database not in archive_names(datasette):
        return None
    raw, label = (value.get("value"), value.get("label")) if isinstance(value, dict) else (value, None)
    if column in SHA_COLUMNS and isinstance(raw, str) and rawdocs.SHA256_RE.match(raw):
        html = f'<a class="ogi-doc" href="{doc_url(database, raw)}" title="{raw}">{raw[:12]}… 原始文件 / raw</a>'
        if table == "fetches" and "id" in row.keys():
            html += f' · <a class="ogi-warc" href="/-/ogi/{quote(database)}/warc/{row["id"]}">WARC</a>'
        return markupsafe.Markup(html)
    if column in REPORT_ID_COLUMNS and isinstance(raw, int):
        text = markupsafe.escape(label if label not in (None, "") else raw)
        extra = ""
        if table == "versions" and "id" in row.keys():
            extra = f"?version_id={row['id']}"
        return markupsafe.Markup(
            f'<a href="/{quote(database)}/reports/{raw}">{text}</a>'
            f' <a class="ogi-report" href="{report_url(database, raw)}{extra}" title="印刷版 / as printed">[印刷版]</a>')
    if table == "documents" and column == "content_type" and "sha256" in row.keys():
        # sha256 is the documents table's primary key (Datasette's own row link): the bytes hang off this column
        return markupsafe.Markup(
            f'<a class="ogi-doc" href="{doc_url(database, row["sha256"])}">{markupsafe.escape(raw or "?")}'
            " · 原始文件 / raw</a>")
    if table == "reports" and column in ("report_key", "title") and "id" in row.keys() and raw:
        return markupsafe.Markup(
            f'<a class="ogi-report" href="{report_url(database, row["id"])}">{markupsafe.escape(raw)}</a>')
    return None


# --- page scripts: folded descriptions, bilingual headers -----------------------------------------------------

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

HEADER_LABELS_JS = """
(function (labels) {
  document.querySelectorAll('table.rows-and-columns thead th').forEach(function (th) {
    var col = th.getAttribute('data-column');
    var a = th.querySelector('a') || th;
    if (labels[col] && a.textContent.trim() === col) {
      a.textContent = labels[col][0] + ' ' + labels[col][1];
      th.title = col;
    }
  });
  var style = document.createElement('style');
  style.textContent = 'td.col-title, td.col-agency { min-width: 14em; }';
  document.head.appendChild(style);
})(%s);
"""


@lru_cache(maxsize=8)
def header_labels(table: str) -> str:
    """Given a table name, return a JSON object column -> [zh, en] for its printed columns."""
    labels: dict[str, tuple[str, str]] = {}
    if table == "t3":
        labels = dict(S.T3_COL_LABELS)
    elif table == "t4":
        labels = dict(S.T4_COL_LABELS)
    elif table == "t2":
        labels = {c: (zh, en) for c, (zh, en, _) in S.T2_COL_LABELS.items()}
    return json.dumps(labels, ensure_ascii=False)


@hookimpl
def extra_body_script(template: str, database: str | None, table: str | None, datasette: Any, **_: Any) -> str:
    if template != "table.html":
        return ""
    script = FOLD_DESCRIPTIONS_JS
    if database in archive_names(datasette) and table in ("t2", "t3", "t4", "reports"):
        script += HEADER_LABELS_JS % header_labels(table or "")
    return script
