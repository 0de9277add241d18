"""HTML reader: lxml tree → Extracted (table rows with rowspan/colspan expanded, plus readable text).

lxml, not BeautifulSoup, on the hot path: a report page parses in about the time lxml itself needs.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from crawler.parsers.model import Cell, Extracted, ParseError
from crawler.parsers.normalize import clean_space, collapse_space

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "select", "textarea")
_BLOCK_TAGS = frozenset(
    "p div br tr li h1 h2 h3 h4 h5 h6 table ul ol section article header footer dt dd pre blockquote title".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_META_TITLE = ("articletitle", "title", "og:title", "dc.title")
_META_DATE = ("pubdate", "firstpublishedtime", "publishdate", "dc.date", "article:published_time")
_MAX_SPAN = 60


def extract_html(text: str) -> Extracted:
    """Parse decoded HTML into rows and text. Raises ParseError for input lxml cannot read at all."""
    text = _XML_DECL_RE.sub("", text, count=1)
    if not text.strip():
        raise ParseError("empty document")
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"unreadable HTML: {exc}") from exc

    title_hint, published_hint = _head_hints(root)
    for el in list(root.iter(*_DROP_TAGS)):
        el.drop_tree()  # keeps the element's tail text
    body = root.find("body")
    if body is None:
        body = root

    rows: list[list[Cell]] = []
    for table in body.iter("table"):
        rows.extend(_table_rows(table))
    images = [img.get("src", "") for img in body.iter("img") if img.get("src")]
    readable = _readable_text(body)
    return Extracted(
        rows=rows,
        text=readable,
        source_kind="html",
        path="html-grid",
        text_path="html-text",
        title_hint=title_hint,
        published_hint=published_hint,
        images=images,
        positional=True,
    )


def _head_hints(root: etree._Element) -> tuple[str | None, str | None]:
    title = None
    published = None
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        if name in _META_TITLE and title is None:
            title = clean_space(content)
        elif name in _META_DATE and published is None:
            published = content
    if title is None:
        t = root.find(".//title")
        if t is not None and t.text_content().strip():
            title = clean_space(t.text_content())
    return title, published


def _table_rows(table: etree._Element) -> list[list[Cell]]:
    """The table's own rows (not those of nested tables), with merged cells expanded into a grid."""
    out: list[list[Cell]] = []
    pending: dict[int, list] = {}  # col -> [remaining rows, text, span]
    for tr in _own_rows(table):
        row: list[Cell] = []
        col = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in _CELL_TAGS:
                continue
            col = _emit_pending(row, pending, col, stop_at_gap=True)
            span = _int_attr(td, "colspan")
            rowspan = _int_attr(td, "rowspan")
            cell_text = collapse_space(td.text_content())
            row.append(Cell(cell_text, col, span, False))
            if rowspan > 1:
                pending[col] = [rowspan - 1, cell_text, span]
            col += span
        _emit_pending(row, pending, col, stop_at_gap=False)  # merged cells right of the last real cell
        if row:
            out.append(row)
    return out


def _emit_pending(row: list[Cell], pending: dict[int, list], col: int, *, stop_at_gap: bool) -> int:
    """Append rowspan continuations from rows above: those starting at `col` (and contiguous after it), or with
    stop_at_gap=False every remaining one at or right of `col`. Returns the next free column."""
    cols = [col] if stop_at_gap else sorted(k for k in pending if k >= col)
    while cols:
        c = cols.pop(0)
        rem = pending.get(c)
        if rem is None:
            break
        row.append(Cell(rem[1], c, rem[2], True))
        rem[0] -= 1
        if rem[0] <= 0:
            del pending[c]
        col = c + rem[2]
        if stop_at_gap:
            cols.append(col)
    return col


def _own_rows(table: etree._Element) -> list[etree._Element]:
    rows = []
    for child in table:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "tr":
            rows.append(child)
        elif tag in ("tbody", "thead", "tfoot"):
            rows.extend(c for c in child if isinstance(c.tag, str) and c.tag == "tr")
    return rows


def _int_attr(el: etree._Element, name: str) -> int:
    raw = el.get(name)
    if not raw:
        return 1
    digits = re.match(r"\s*(\d+)", raw)
    if not digits:
        return 1
    return max(1, min(int(digits.group(1)), _MAX_SPAN))


def _readable_text(body: etree._Element) -> str:
    """Text with one line per block and tab-separated table cells."""
    for el in body.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _CELL_TAGS:
            el.tail = "\t" + (el.tail or "")
        elif tag in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
            if tag == "br":
                continue
            el.text = "\n" + (el.text or "") if tag in ("p", "div", "tr", "li") else el.text
    raw = body.text_content()
    lines = []
    for line in raw.split("\n"):
        line = re.sub(r"[ \u00a0\u3000\r\f\v]+", " ", line).strip(" ")
        if line.strip("\t "):
            lines.append(line.strip())
    return "\n".join(lines)
