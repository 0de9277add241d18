"""HTML reader: lxml tree → Extracted (table rows with rowspan/colspan expanded, plus readable text).

lxml's plain etree (not BeautifulSoup, not lxml.html's element classes) on the hot path; the readable text
is made from the markup with C-speed regular expressions instead of a Python walk over every element.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.parsers.images import content_images
from crawler.parsers.model import Cell, Extracted, ParseError
from crawler.parsers.normalize import clean_space, fold_radicals

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "select", "textarea")
_CELL_TAGS = frozenset(("td", "th"))
_META_TITLE = ("articletitle", "og:title", "dc.title", "title")  # in this order of trust
_META_DATE = ("pubdate", "firstpublishedtime", "publishdate", "dc.date", "article:published_time")
_META_AGENCY = ("contentsource", "sitename", "og:site_name")
# the content heading: h1–h3, or an element whose class / id says title; never inside navigation chrome
_HEADING_TAGS = ("h1", "h2", "h3", "div", "p", "td", "span", "strong")
_TITLE_CLASS_RE = re.compile(r"(?:^|[\s_-])(?:article[_-]?)?(?:title|tit|bt|biaoti|headline)(?:$|[\s_-])", re.I)
_CHROME_CLASS_RE = re.compile(r"nav|crumb|menu|position|location|weizhi|dqwz|footer|sidebar|related|friend|yqlj", re.I)
_MAX_SPAN = 60
# Bounds (issue 12): a 25 MB page of table rows took 15.7 s and 1.46 GB. Real report pages are < 2 MB of
# markup and a few hundred table cells; beyond these a ParseError names the limit (a recorded reason).
MAX_MARKUP_CHARS = 12_000_000  # markup characters, not counting inline data: URIs and script/style bodies
MAX_TABLE_CELLS = 100_000
# characters lxml refuses in a tree ("All strings must be XML compatible"): C0 controls but tab/LF/CR,
# lone surrogates and the two non-characters; NUL is dropped, the rest become a space
_BAD_CHARS_RE = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CELL_TAG_RE = re.compile(r"<t[dh][\s>/]", re.IGNORECASE)
_BULK_RE = re.compile(r"data:[^\"'\s>)]{1024,}|<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)

_BLOCK_TAGS = (
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section", "article",
    "header", "footer", "dt", "dd", "pre", "blockquote", "title",
)


def extract_html(text: str) -> Extracted:
    """Parse decoded HTML into rows and text. Raises ParseError for input lxml cannot read at all."""
    text = fold_radicals(_XML_DECL_RE.sub("", text, count=1))
    if not text.strip():
        raise ParseError("empty document")
    _check_size(text)
    text = xml_safe(text)
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"unreadable HTML: {exc}") from exc
    if root is None:
        raise ParseError("unreadable HTML: no elements")

    metas = _metas(root)
    for el in list(root.iter(*_DROP_TAGS)):
        _drop_keep_tail(el)
    body = root.find("body")
    if body is None:
        body = root
    title_hint = _title_hint(root, body, metas)
    published_hint = next((metas[k] for k in _META_DATE if metas.get(k)), None)
    agency_hint = next((clean_space(metas[k]) for k in _META_AGENCY if metas.get(k)), None)
    rows: list[list[Cell]] = []
    n_cells = 0
    for table in body.iter("table"):
        table_rows = _table_rows(table)
        n_cells += sum(len(r) for r in table_rows)
        if n_cells > MAX_TABLE_CELLS:
            raise ParseError(f"HTML too large: more than {MAX_TABLE_CELLS} table cells")
        rows.extend(table_rows)
    images = content_images(body)
    return Extracted(
        rows=rows,
        text=readable_text(body),
        source_kind="html",
        path="html-grid",
        text_path="html-text",
        title_hint=title_hint,
        published_hint=published_hint,
        images=images,
        positional=True,
        agency_hint=agency_hint,
    )


def xml_safe(text: str) -> str:
    """Given decoded markup, return it without the characters lxml cannot hold in a tree (NUL dropped, other
    C0 controls, lone surrogates and U+FFFE/U+FFFF as a space), so that no text node or tail is lost."""
    if not _BAD_CHARS_RE.search(text) and "\x00" not in text:
        return text
    return _BAD_CHARS_RE.sub(" ", text.replace("\x00", ""))


def _check_size(text: str) -> None:
    """Raise ParseError when the markup (inline data: URIs and script/style bodies aside) or its table cells
    are over the caps, before any tree is built."""
    if len(text) > MAX_TABLE_CELLS * 4 and sum(1 for _ in _CELL_TAG_RE.finditer(text)) > MAX_TABLE_CELLS:
        raise ParseError(f"HTML too large: more than {MAX_TABLE_CELLS} table cells")
    if len(text) <= MAX_MARKUP_CHARS:
        return
    bulk = sum(m.end() - m.start() for m in _BULK_RE.finditer(text))
    if len(text) - bulk > MAX_MARKUP_CHARS:
        raise ParseError(f"HTML too large: {len(text) - bulk} characters of markup (limit {MAX_MARKUP_CHARS})")


def readable_text(body: etree._Element) -> str:
    """Text with one line per block element and tab-separated cells. Call last: it edits the tree's tails so
    that lxml's own text serializer can do the work."""
    for el in body.iter(*_BLOCK_TAGS):
        el.tail = "\n" + el.tail if el.tail else "\n"
    for el in body.iter("td", "th"):
        el.tail = "\t" + el.tail if el.tail else "\t"
    flat = etree.tostring(body, method="text", encoding=str, with_tail=False)
    return "\n".join(line.strip() for line in flat.split("\n") if line.strip())


def _drop_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _metas(root: etree._Element) -> dict[str, str]:
    """Given the page tree, return its <meta> name/property → content (lower-case names, first one kept)."""
    out: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if name and content and name not in out:
            out[name] = content
    return out


def _title_hint(root: etree._Element, body: etree._Element, metas: dict[str, str]) -> str | None:
    """Given the page, return the article's own title: the ArticleTitle / og:title / dc.title meta, else the
    content heading, else <title> without the site's name — never the column name (meta ColumnName)."""
    column = clean_space(metas.get("columnname", ""))
    for key in _META_TITLE:
        if metas.get(key) and clean_space(metas[key]) != column:
            return clean_space(metas[key])
    page_title = ""
    t = root.find(".//title")
    if t is not None:
        page_title = clean_space("".join(t.itertext()))
    heading = _content_heading(body, {column, clean_space(metas.get("sitename", ""))})
    if heading:
        return heading
    first = re.split(r"\s*(?:[_|｜]|\s[-—–]\s|——)\s*", page_title, maxsplit=1)[0].strip() if page_title else ""
    if first and first != column:
        return page_title  # meta.clean_title drops the site's name after it
    return None


def _content_heading(body: etree._Element, chrome_names: set[str]) -> str | None:
    """Given the body, return the first heading-like element's text (h1–h3 or class/id 'title'), 6–150 chars,
    that is not navigation chrome or a column / site name."""
    for el in body.iter(*_HEADING_TAGS):
        if el.tag not in ("h1", "h2", "h3") and not _TITLE_CLASS_RE.search(f"{el.get('class', '')} {el.get('id', '')}"):
            continue
        text = clean_space("".join(el.itertext()))
        if not (6 <= len(text) <= 150) or text in chrome_names or "。" in text:
            continue
        if any(_CHROME_CLASS_RE.search(f"{a.get('class', '')} {a.get('id', '')}") for a in el.iterancestors()):
            continue
        return text
    return None


def _cell_text(td: etree._Element) -> str:
    """The cell's text with whitespace collapsed; a fast path for the usual `<td><p>12</p></td>`."""
    n = len(td)
    if n == 0:
        raw = td.text or ""
    elif n == 1 and len(td[0]) == 0 and td[0].tag not in _DROP_TAGS:
        child = td[0]
        raw = (td.text or "") + (child.text or "") + (child.tail or "")
    else:
        raw = "".join(_texts(td))
    return " ".join(raw.split())


def _texts(el: etree._Element) -> list[str]:
    out: list[str] = []
    for node in el.iter():
        if node.tag in _DROP_TAGS:
            continue
        if node.text:
            out.append(node.text)
        if node is not el and node.tail:
            out.append(node.tail)
    return out


def _table_rows(table: etree._Element) -> list[list[Cell]]:
    """The table's own rows (not those of nested tables), with merged cells expanded into a grid."""
    out: list[list[Cell]] = []
    pending: dict[int, list] = {}  # col -> [remaining rows, text, span]
    for tr in _own_rows(table):
        row: list[Cell] = []
        col = 0
        for td in tr:
            if td.tag not in _CELL_TAGS:
                continue
            if col in pending:
                col = _emit_pending(row, pending, col, stop_at_gap=True)
            span = _int_attr(td.get("colspan"))
            rowspan = _int_attr(td.get("rowspan"))
            cell_text = _cell_text(td)
            row.append(Cell(cell_text, col, span, False))
            if rowspan > 1:
                pending[col] = [rowspan - 1, cell_text, span]
            col += span
        if pending:
            _emit_pending(row, pending, col, stop_at_gap=False)  # merged cells right of the last real cell
        if row:
            out.append(row)
    return out


def _own_rows(table: etree._Element) -> list[etree._Element]:
    rows = []
    for child in table:
        tag = child.tag
        if tag == "tr":
            rows.append(child)
        elif tag in ("tbody", "thead", "tfoot"):
            rows.extend(c for c in child if c.tag == "tr")
    return rows


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


def _int_attr(raw: str | None) -> int:
    if not raw or raw == "1":
        return 1
    digits = re.match(r"\s*(\d{1,6})", raw)
    if not digits:
        return 1
    return max(1, min(int(digits.group(1)), _MAX_SPAN))
