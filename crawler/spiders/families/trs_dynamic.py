"""TRS "动静结合" lists (TRT UI / avalon templates, ``list2.trsapi``): static pages, then a search API.

The list page loads ``list2.trsapi`` and calls ``listModel({quickMode, maxStaticIndex, listArgs: {channelid,
classsql, sortfield}, listApi: {url}, pagebar: {recordCount, prepage, pgTemp}})``, often through a
``var pageChnlInfo = {...}`` config (portals.md §2.1a). The first ``maxStaticIndex`` pages are rendered in the
HTML (on the real pages all of them inside ``<div ms-visible="showStatic">``, one ``$showStatic(N)`` block per
group); the pager is drawn client-side, so the HTML has no ``createPageHTML``/共N页/下一页. Later pages come from a
**POST** to the search API (``channelid``, ``classsql``, ``sortfield``, ``page`` 1-based, ``prepage``), which
answers JSON ``{pageCount, data: [{doctitle, docpuburl | chnldocurl, docreltime, …}]}``. A pure "动态" list
renders nothing statically and declares no ``recordCount``: page 1 of the API gives ``pageCount``.

``recordCount`` is the column's declared total (reconciled by the pipeline); without it the total is known once
the last API page is read: ``(pageCount - 1) * prepage + rows of the last page``.

Every API request carries a fragment naming its column and page (``…/search#page=6&classsql=chnlid%3D1780``):
the server never sees it, but the archive keeps each page under its own URL. When the static page of a
动静结合 column answered 304 (TRS regenerates it whenever the column changes, and it prints the column's
``recordCount``), its API pages are replayed from the archive instead of being POSTed again
(``ogi_replay_unchanged``, see :class:`crawler.middlewares.ConditionalRequestMiddleware`).

The config values are JavaScript expressions; :func:`js_value` evaluates the small subset these templates use
(string/number literals, ``a || b``, ``a + b``, ``cond ? a : b`` with ``==``/``!=``, ``var`` names and
``Obj.key`` members of object literals on the page).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin

from scrapy.http import FormRequest, Response, TextResponse

from crawler.items import FailureItem
from crawler.spiders.families.base import ReportSpider, anchor_rows, page_hub

LIST_MODEL = re.compile(r"listModel\s*\(\s*\{")
DEFAULT_API = "/fjdzapp/search"  # list2.trsapi's search endpoint on the deployments seen (Fujian, portals.md §2.1a)
MAX_API_PAGES = 200
STRING = re.compile(r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')$""", re.S)


def detect(response: Response) -> bool:
    """True when a page configures a ``listModel({...})`` list (``list2.trsapi``)."""
    return isinstance(response, TextResponse) and bool(LIST_MODEL.search(response.text))


def _object_body(text: str, start: int) -> str:
    """Given text and the index of a ``{``, return the text up to its matching ``}`` (strings respected)."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)(^|[^:\"'])//[^\n]*", r"\1", text)


def _split_top(expr: str, seps: tuple[str, ...]) -> list[str] | None:
    """Given an expression, split it at top-level occurrences of the first separator found, or None."""
    for sep in seps:
        parts, depth, quote, cur, i = [], 0, "", "", 0
        while i < len(expr):
            ch = expr[i]
            if quote:
                cur += ch
                if ch == "\\" and i + 1 < len(expr):
                    cur += expr[i + 1]
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
                cur += ch
            elif ch in "([{":
                depth += 1
                cur += ch
            elif ch in ")]}":
                depth -= 1
                cur += ch
            elif depth == 0 and expr.startswith(sep, i):
                parts.append(cur)
                cur = ""
                i += len(sep)
                continue
            else:
                cur += ch
            i += 1
        parts.append(cur)
        if len(parts) > 1:
            return parts
    return None


def object_entries(body: str) -> dict[str, str]:
    """Given the inside of a JS object literal, return its top-level ``key: expression`` pairs."""
    out: dict[str, str] = {}
    for part in _split_top(_strip_comments(body), (",",)) or [_strip_comments(body)]:
        key, sep, value = part.partition(":")
        key = key.strip().strip("\"'")
        if sep and re.fullmatch(r"[\w$]+", key):
            out.setdefault(key, value.strip())
    return out


def js_object(text: str, name: str) -> dict[str, str]:
    """Given page text, return the entries of ``var <name> = {...}`` (or ``<name>: {...}``), else {}."""
    m = re.search(r"(?:var\s+|window\.)?\b" + re.escape(name) + r"\s*[=:]\s*\{", text)
    if m is None:
        return {}
    return object_entries(_object_body(text, m.end() - 1))


def js_value(expr: str, text: str, depth: int = 0) -> Any:
    """Given a small JS expression and the page text it is in, return its value (str, int, dict) or None."""
    expr = _strip_comments(expr).strip().rstrip(";").strip()
    if depth > 8 or not expr:
        return None
    while expr.startswith("(") and expr.endswith(")") and _object_body("{" + expr[1:-1] + "}", 0) == expr[1:-1]:
        expr = expr[1:-1].strip()
    if (parts := _split_top(expr, ("?",))) and len(parts) == 2 and (branches := _split_top(parts[1], (":",))):
        cond = _split_top(parts[0], ("!=", "=="))
        if cond and len(cond) == 2:
            left, right = (js_value(c, text, depth + 1) for c in cond)
            equal = left == right
            truth = equal if "==" in parts[0] and "!=" not in parts[0] else not equal
        else:
            truth = bool(js_value(parts[0], text, depth + 1))
        return js_value(branches[0] if truth else ":".join(branches[1:]), text, depth + 1)
    if parts := _split_top(expr, ("||",)):
        for part in parts:
            if value := js_value(part, text, depth + 1):
                return value
        return None
    if parts := _split_top(expr, ("+",)):
        values = [js_value(p, text, depth + 1) for p in parts]
        if any(v is None for v in values):
            return None
        if all(isinstance(v, int) for v in values):
            return sum(values)
        return "".join(str(v) for v in values)
    if m := STRING.match(expr):
        return (m.group(1) if m.group(1) is not None else m.group(2)).encode().decode("unicode_escape", "ignore") \
            if "\\" in expr else (m.group(1) if m.group(1) is not None else m.group(2))
    if re.fullmatch(r"-?\d+", expr):
        return int(expr)
    if expr in ("true", "false"):
        return expr == "true"
    if expr.startswith("{"):
        return {k: js_value(v, text, depth + 1) for k, v in object_entries(_object_body(expr, 0)).items()}
    if m := re.fullmatch(r"([\w$]+)\.([\w$]+)", expr):
        obj = js_object(text, m.group(1))
        return js_value(obj[m.group(2)], text, depth + 1) if m.group(2) in obj else None
    if re.fullmatch(r"[\w$]+", expr):
        if m := re.search(r"\bvar\s+" + re.escape(expr) + r"\s*=\s*(.+?);\s*(?:\n|$)", text, re.S):
            return js_value(m.group(1), text, depth + 1)
    return None


@dataclass(frozen=True, slots=True)
class ListConfig:
    """What a ``listModel({...})`` call configures."""

    mode: str  # quickMode: 动静结合 | 动态 | …
    max_static: int  # pages rendered in the HTML (0 for 动态)
    prepage: int
    declared: int | None  # pagebar recordCount: the column's declared total
    api: str  # the search API URL (absolute)
    form: dict[str, str]  # channelid, classsql, sortfield …

    def api_form(self, page: int) -> dict[str, str]:
        """The POST form of API page ``page`` (1-based)."""
        return {**self.form, "page": str(page), "prepage": str(self.prepage)}

    def api_url(self, page: int) -> str:
        """The API URL of page ``page``, with a fragment (never sent) naming the column and the page."""
        return f"{self.api}#" + urlencode({"page": page, "classsql": self.form.get("classsql", "")})


def list_config(text: str, url: str) -> ListConfig | None:
    """Given a list page, return its ``listModel`` config, or None when it has none."""
    m = LIST_MODEL.search(text)
    if m is None:
        return None
    model = object_entries(_object_body(text, m.end() - 1))
    args = js_value(model.get("listArgs", "{}"), text) or {}
    pagebar = js_value(model.get("pagebar", "{}"), text) or {}
    api = js_value(model.get("listApi", "{}"), text) or {}
    mode = str(js_value(model.get("quickMode", "''"), text) or "")
    max_static = js_value(model.get("maxStaticIndex", "0"), text)
    prepage = pagebar.get("prepage") if isinstance(pagebar, dict) else None
    declared = pagebar.get("recordCount") if isinstance(pagebar, dict) else None
    form = {k: str(v) for k, v in (args.items() if isinstance(args, dict) else []) if v not in (None, "")}
    try:
        declared_n = int(str(declared)) if declared not in (None, "") else None
    except (TypeError, ValueError):
        declared_n = None
    return ListConfig(
        mode=mode,
        max_static=int(max_static) if isinstance(max_static, int) else 0,
        prepage=int(prepage) if isinstance(prepage, int) and prepage > 0 else 10,
        declared=declared_n,
        api=urljoin(url, str(api.get("url") if isinstance(api, dict) and api.get("url") else DEFAULT_API)),
        form=form,
    )


def static_rows(response: Response) -> list[tuple[str | None, str, str | None, str | None]]:
    """(href, text, title, date) of the rows rendered statically (``ms-visible="showStatic"``), else of the
    list controller; the page's navigation is not a row."""
    for css in ('[ms-visible="showStatic"]', '[ms-controller="list"]'):
        boxes = response.css(css)
        if boxes:
            return [r for box in boxes for r in anchor_rows(box)
                    if r[0] and "{{" not in r[0] and not r[0].lower().startswith("javascript:")]
    return []


def api_rows(data: Any) -> tuple[list[dict[str, Any]], int | None, int | None]:
    """Given a decoded API answer, return (rows, pageCount, declared total or None)."""
    if not isinstance(data, dict):
        raise ValueError("the API answer is not a JSON object")
    rows = data.get("data")
    if isinstance(rows, dict):  # some deployments nest {data: {data: [...], pageCount}}
        data, rows = rows, rows.get("data")
    if not isinstance(rows, list):
        raise ValueError("the API answer has no data list")
    pages = data.get("pageCount")
    total = next((data[k] for k in ("total", "recordCount", "totalCount") if isinstance(data.get(k), int)), None)
    return [r for r in rows if isinstance(r, dict)], int(pages) if isinstance(pages, int | str) and str(pages).isdigit() \
        else None, total


def row_date(row: dict[str, Any]) -> str | None:
    """The row's date (``docreltime`` / ``pubdate``: text or epoch milliseconds) as YYYY-MM-DD, or None."""
    for key in ("docreltime", "pubdate", "crtime"):
        value = row.get(key)
        if isinstance(value, int | float) and value > 0:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC).strftime("%Y-%m-%d")
        if isinstance(value, str) and re.match(r"\d{4}-\d{1,2}-\d{1,2}", value.strip()):
            return value.strip()[:10]
    return None


class TrsDynamicSpider(ReportSpider):
    """Family base for TRS 动静结合 / 动态 lists."""

    name = "trs_dynamic"
    family = "trs_dynamic"

    def parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """Given a list page, yield its report-link and next-page requests and what it lists.

        @sample_page
        @returns requests 1
        @returns items 1
        """
        return self.trs_dynamic_parse_list(response, ctx)

    def trs_dynamic_parse_list(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """The statically rendered rows, then API POSTs for every page they do not cover."""
        ctx = {**ctx, "family": "trs_dynamic", "column": ctx.get("column") or response.url}
        config = list_config(response.text, response.url)
        if config is None:
            return
        hub = page_hub(response)
        rows = static_rows(response)
        urls = []
        for href, text, title, date in rows:
            urls.append(urljoin(response.url, href or ""))
            yield from self.follow_report_link(response.url, href, text, title, ctx, date=date, hub=hub,
                                               candidate=True)
        yield self.listing(response, ctx, mechanism=f"trs_dynamic/{config.mode or 'static'}",
                           declared=config.declared, rows=urls)
        if config.declared is not None:
            covered = len(rows) // config.prepage if len(rows) < config.declared else math.ceil(
                config.declared / config.prepage)
            last = math.ceil(config.declared / config.prepage)
        else:  # 动态: nothing static; page 1 of the API says how many pages there are
            covered, last = 0, 1
        unchanged = bool(response.meta.get("ogi_not_modified")) and config.declared is not None
        api_ctx = {**ctx, "hub": hub, "trs_config": config, "trs_unchanged": unchanged}
        yield from self.trs_api_requests(response.url, config, range(covered + 1, last + 1), api_ctx)

    def trs_api_requests(self, list_url: str, config: ListConfig, pages: range, ctx: dict[str, Any]) -> Iterator[Any]:
        """POSTs for API ``pages`` (a page limit beyond :data:`MAX_API_PAGES` is a recorded decision)."""
        for page in pages:
            if page > MAX_API_PAGES:
                yield self.link_decision(config.api, "page-limit", ctx, list_url=list_url,
                                         detail=f"API pages {page}..{pages.stop - 1} beyond the limit {MAX_API_PAGES}")
                return
            meta = {"ogi_kind": "list", "ogi_site": ctx["site"], "ogi_source": ctx["source"],
                    "ogi_replay_unchanged": bool(ctx.get("trs_unchanged"))}
            yield FormRequest(config.api_url(page), formdata=config.api_form(page), callback=self.trs_dynamic_parse_api,
                              errback=self.on_error, cb_kwargs={"ctx": {**ctx, "trs_page": page}}, meta=meta,
                              headers={"Referer": list_url, "X-Requested-With": "XMLHttpRequest"})

    def trs_dynamic_parse_api(self, response: Response, ctx: dict[str, Any]) -> Iterator[Any]:
        """One API answer: its rows, and (from page 1 of a 动态 list) requests for the other pages."""
        yield self.document_item(response, ctx, kind="list")
        self.crawler.stats.inc_value(f"ogi/pages/{ctx['source']}")
        config: ListConfig = ctx["trs_config"]
        page = int(ctx.get("trs_page") or 1)
        try:
            rows, page_count, total = api_rows(json.loads(response.body.decode("utf-8-sig")))
        except (ValueError, UnicodeDecodeError) as exc:
            reason = "error-page-200" if response.body.lstrip()[:1] == b"<" else "bad-json"
            self.crawler.stats.inc_value(f"ogi/failure/{reason}")
            yield FailureItem(url=response.url, reason=reason, source=ctx["source"], kind="list", partial=True,
                              detail=f"page {page}: {exc}"[:300])
            return
        list_url = str(ctx.get("column") or response.url)
        urls = []
        for row in rows:
            href = row.get("docpuburl") or row.get("chnldocurl") or row.get("url")
            if isinstance(href, str) and href:
                urls.append(urljoin(list_url, href))
            yield from self.follow_report_link(list_url, href if isinstance(href, str) else None,
                                               row.get("doctitle") or row.get("title"), None, ctx,
                                               date=row_date(row), hub=bool(ctx.get("hub")), candidate=True)
        declared = config.declared if config.declared is not None else total
        if declared is None and page_count is not None and page == page_count:
            declared = (page_count - 1) * config.prepage + len(rows)  # the last page makes the total known
        yield self.listing(response, ctx, mechanism="trs_dynamic/api", declared=declared, rows=urls,
                           declared_pages=page_count)
        if config.declared is None and page == 1 and page_count and page_count > 1:
            yield from self.trs_api_requests(list_url, config, range(2, page_count + 1), ctx)


family = "trs_dynamic"
SPIDER_CLASS = "TrsDynamicSpider"  # a name, not the class: Scrapy's loader would list the class twice
trs_dynamic_parse_list = TrsDynamicSpider.trs_dynamic_parse_list
