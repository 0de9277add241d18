"""PDF reader: pdfplumber tables (ruling lines) and positional page text → :class:`Extracted`.

    extract_pdf(data: bytes) -> Extracted

Path names (``Extracted.path`` / ``text_path``, recorded per cell by the core):

- ``pdf-table``: cells of tables drawn with ruling lines. Cell boxes come from pdfplumber's line
  finder; the grid columns of all parts of a table that continues across pages are unified, repeated
  header rows are dropped, and a row that the page break cut in two is joined back.
- ``pdf-text``: the page text rebuilt from word positions, one line per printed line, with a tab
  wherever the gap between words is wider than a few characters (the layout of the text parser).
  Used by the core when the table finder found no table (or not the tables it needed).

Page headers, footers and page numbers are dropped from the text. Work is bounded: at most
``MAX_PAGES`` pages, ``MAX_BYTES`` bytes, ``MAX_CHARS_PER_PAGE`` characters per page for table
finding, ``MAX_INFLATED`` bytes of inflated (Flate) stream data and ``TIME_BUDGET`` seconds overall;
beyond those limits a :class:`ParseError` says why. A page that cannot be read is a warning on the result.
pdfminer's own warnings (~100 per Chromium PDF: font widths, matrices) go to logging at DEBUG.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crawler.parsers.model import Cell, Extracted, ParseError
from crawler.parsers.normalize import document_title, fold_extracted
from crawler.parsers.pdf_limits import BUDGET, Inflate, quiet_pdfminer

logger = logging.getLogger(__name__)

MAX_BYTES = 80 * 1024 * 1024
MAX_PAGES = 200
MAX_CHARS_PER_PAGE = 40_000
TIME_BUDGET = 90.0  # seconds for one document
MAX_INFLATED = 96 * 1024 * 1024  # bytes all Flate streams of one document may inflate to (a 400 MB bomb: refused)
SNAP = 2.5  # points: boundaries closer than this are one grid line
EDGE_ZONE = 0.09  # top/bottom share of the page where running headers and footers live
CONTINUE_GAP = 0.2  # share of the page height: a table ending / starting this close to the edge may continue
BIG_IMAGE_SHARE = 0.08  # images covering at least this share of the page are kept for OCR
TABLE_SETTINGS: dict[str, Any] = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
}

PAGE_NUMBER_RE = re.compile(
    r"^(?:第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|[-—–－]\s*\d+\s*[-—–－]|\d+\s*/\s*\d+|\d+|"
    r"page\s*\d+(?:\s*of\s*\d+)?|共\s*\d+\s*页\s*第\s*\d+\s*页)$",
    re.IGNORECASE,
)
NUMBERING_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、])")
NUMERIC_RE = re.compile(r"^[\s\d,，.+\-—–/／]*$")


# --- small data shapes ----------------------------------------------------------------------------------


@dataclass(slots=True)
class BoxCell:
    """One table cell as found on a page: its box and text."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str = ""


@dataclass(slots=True)
class PagePart:
    """One table (or one page's part of a table) on one page."""

    page: int
    bbox: tuple[float, float, float, float]
    cells: list[BoxCell]
    page_height: float
    at_page_top: bool = False  # no body text above it on its page
    at_page_bottom: bool = False  # no body text below it on its page


@dataclass(slots=True)
class Chain:
    """A table, possibly continued over several pages."""

    parts: list[PagePart] = field(default_factory=list)


# --- entry point ----------------------------------------------------------------------------------------


def extract_pdf(data: bytes, *, max_pages: int = MAX_PAGES, time_budget: float = TIME_BUDGET) -> Extracted:
    """Read a PDF into table rows (``pdf-table``) and positional text (``pdf-text``).

    Raises :class:`ParseError` for encrypted, corrupt, truncated, oversized or too-long documents."""
    started = time.monotonic()
    quiet_pdfminer()
    budget = Inflate(MAX_INFLATED)
    token = BUDGET.set(budget)
    try:
        return _extract(data, max_pages, time_budget, started, budget)
    finally:
        BUDGET.reset(token)


def _extract(data: bytes, max_pages: int, time_budget: float, started: float, budget: Inflate) -> Extracted:
    warnings: list[str] = []
    pdf = _open(data)
    budget.check()
    try:
        n_pages = _page_count(pdf)
        if n_pages > max_pages:
            raise ParseError(f"too many pages: {n_pages} (limit {max_pages})")
        parts: list[PagePart] = []
        page_lines: list[list[tuple[float, str]]] = []  # per page: (top, line) of text outside tables
        edge_lines: list[list[tuple[str, str]]] = []  # per page: (zone, text) candidates for header/footer
        images: list[str] = []
        n_chars = 0
        try:
            pages = list(pdf.pages)
        except ParseError:
            raise
        except Exception as exc:  # pdfminer raises many kinds of errors on broken page trees
            budget.check()
            raise ParseError(f"corrupt PDF: cannot read the page tree ({type(exc).__name__})") from exc
        if len(pages) > max_pages:  # the page tree's /Count can lie
            raise ParseError(f"too many pages: {len(pages)} (limit {max_pages})")
        for index, page in enumerate(pages):
            if time.monotonic() - started > time_budget:
                raise ParseError(f"time limit: PDF parsing took more than {time_budget:.0f}s (page {index + 1})")
            try:
                page_parts, lines, edges, chars = _read_page(page, index)
                images.extend(_page_images(page, index))
            except ParseError:
                raise
            except Exception as exc:  # pdfminer's PSSyntaxError, PDFSyntaxError, … on a broken page
                budget.check()
                logger.info("pdf page %d unreadable: %s: %s", index + 1, type(exc).__name__, exc)
                warnings.append(f"pdf page {index + 1} unreadable ({type(exc).__name__}): its text is missing")
                page_parts, lines, edges, chars = [], [], [], 0
            finally:
                try:
                    page.close()
                except Exception as exc:
                    logger.debug("pdf page %d close: %s", index + 1, exc)
            budget.check()
            n_chars += chars
            parts.extend(page_parts)
            page_lines.append(lines)
            edge_lines.append(edges)
        title_hint = _title_hint(pdf)
    finally:
        try:
            pdf.close()
        except Exception as exc:
            logger.debug("pdf close: %s", exc)
    budget.check()
    running = _running_lines(edge_lines)
    chains = _chain_parts(parts)
    rows: list[list[Cell]] = []
    for chain in chains:
        rows.extend(_chain_rows(chain))
    text = _document_text(page_lines, edge_lines, running, chains)
    positional = bool(rows)
    # a scan: no text layer at all, and a page-sized picture on every page
    scanned = n_chars == 0 and bool(pages) and len({name.split("/")[0] for name in images}) == len(pages)
    logger.debug("pdf: %d pages, %d chars, %d tables, %d rows, %d images", n_pages, n_chars, len(chains),
                  len(rows), len(images))
    return fold_extracted(Extracted(
        rows=rows,
        text=text,
        source_kind="pdf",
        path="pdf-table",
        text_path="pdf-text",
        title_hint=document_title(title_hint, text),
        images=images,
        positional=positional,
        warnings=warnings,
        scanned=scanned,
    ))


# --- opening and bounds ---------------------------------------------------------------------------------


def _open(data: bytes):  # type: ignore[no-untyped-def]
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if len(data) > MAX_BYTES:
        raise ParseError(f"PDF too large: {len(data)} bytes (limit {MAX_BYTES})")
    head = data[:1024]
    if b"%PDF" not in head:
        raise ParseError("not a PDF: no %PDF header")
    if b"%%EOF" not in data[-2048:] and b"startxref" not in data[-4096:]:
        logger.info("PDF has no trailer (truncated?); trying to read it anyway")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        _ = pdf.doc.catalog  # forces the xref / trailer / encryption handling
    except ParseError:  # a budget of ours ran out while pdfminer read the cross-reference streams
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ParseError(f"encrypted PDF: needs a password ({type(exc).__name__})") from exc
    except Exception as exc:
        # pdfplumber wraps pdfminer's errors: look at the wrapped one too
        inner = next((a for a in exc.args if isinstance(a, BaseException)), exc.__context__ or exc)
        name = type(inner).__name__
        if isinstance(inner, PDFPasswordIncorrect | PDFEncryptionError) or "password" in name.lower() \
                or "encrypt" in name.lower():
            raise ParseError(f"encrypted PDF: needs a password ({name})") from exc
        raise ParseError(f"corrupt or truncated PDF: {name}: {str(inner)[:120]}") from exc
    return pdf


def _page_count(pdf) -> int:  # type: ignore[no-untyped-def]
    """The page count from the page tree root, without building every page."""
    from pdfminer.pdftypes import resolve1

    try:
        pages = resolve1(pdf.doc.catalog.get("Pages"))
        count = resolve1(pages.get("Count")) if isinstance(pages, dict) else None
        if isinstance(count, int) and count >= 0:
            return count
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"corrupt PDF: unreadable page tree ({type(exc).__name__})") from exc
    raise ParseError("corrupt PDF: no page tree")


def _title_hint(pdf) -> str | None:  # type: ignore[no-untyped-def]
    try:
        title = pdf.metadata.get("Title")
    except Exception:
        return None
    if isinstance(title, bytes):
        title = title.decode("utf-8", "replace")
    if not isinstance(title, str):
        return None
    title = title.strip()
    return title if title and title.lower() not in {"untitled", "无标题"} and len(title) <= 200 else None


# --- one page -------------------------------------------------------------------------------------------


def _read_page(page, index: int) -> tuple[list[PagePart], list[tuple[float, str]], list[tuple[str, str]], int]:  # type: ignore[no-untyped-def]
    """Tables (as PagePart), text lines outside tables, and header/footer candidates of one page."""
    height = float(page.height)
    chars = [c for c in page.chars if c.get("text", "").strip()]
    tables = []
    if chars and len(chars) <= MAX_CHARS_PER_PAGE:
        try:
            tables = page.find_tables(TABLE_SETTINGS)
        except Exception as exc:
            logger.info("pdf page %d: table finder failed: %s", index + 1, exc)
    elif len(chars) > MAX_CHARS_PER_PAGE:
        logger.info("pdf page %d: %d characters, table finding skipped", index + 1, len(chars))
    boxes = [t.bbox for t in tables if len(t.cells) >= 2]
    outside = [c for c in chars if not any(_inside(c, b) for b in boxes)]
    lines = _text_lines(outside)
    edges: list[tuple[str, str]] = []
    body: list[tuple[float, str]] = []
    for top, bottom, line in lines:
        if bottom <= height * EDGE_ZONE:
            edges.append(("top", line))
        elif top >= height * (1 - EDGE_ZONE):
            edges.append(("bottom", line))
        body.append((top, line))
    parts: list[PagePart] = []
    edge_texts = {t for _, t in edges}
    body_tops = [(top, line) for top, line in body if line not in edge_texts or not _is_edge(top, height)]
    for table in tables:
        if len(table.cells) < 2:
            continue
        cells = [BoxCell(*bbox) for bbox in table.cells]
        _fill_cells(cells, chars)
        x0, top, x1, bottom = table.bbox
        above = [t for t, line in body_tops if t < top and not _is_running_candidate(line, t, height)]
        below = [t for t, line in body_tops if t > bottom and not _is_running_candidate(line, t, height)]
        parts.append(PagePart(
            page=index,
            bbox=(x0, top, x1, bottom),
            cells=cells,
            page_height=height,
            at_page_top=not above and top < height * CONTINUE_GAP,
            at_page_bottom=not below and bottom > height * (1 - CONTINUE_GAP),
        ))
    # text lines with the tables rendered in place (one line per table row) are built later, per chain
    body_lines = [(top, line) for top, line in body]
    for part in parts:
        body_lines.append((part.bbox[1], f"\x00table:{id(part)}"))
    body_lines.sort(key=lambda item: item[0])
    return parts, body_lines, edges, len(chars)


def _is_edge(top: float, height: float) -> bool:
    return top <= height * EDGE_ZONE or top >= height * (1 - EDGE_ZONE)


def _is_running_candidate(line: str, top: float, height: float) -> bool:
    return _is_edge(top, height)


def _inside(obj: dict, bbox: tuple[float, float, float, float]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return bbox[0] - 1 <= cx <= bbox[2] + 1 and bbox[1] - 1 <= cy <= bbox[3] + 1


def _fill_cells(cells: list[BoxCell], chars: list[dict]) -> None:
    """Give each cell the characters whose centre lies inside it; wrapped lines are joined."""
    buckets: dict[int, list[dict]] = {}
    for ch in chars:
        cx = (ch["x0"] + ch["x1"]) / 2
        cy = (ch["top"] + ch["bottom"]) / 2
        for i, c in enumerate(cells):
            if c.x0 <= cx <= c.x1 and c.top <= cy <= c.bottom:
                buckets.setdefault(i, []).append(ch)
                break
    for i, chs in buckets.items():
        cells[i].text = "".join(line for _, _, line in _text_lines(chs, tab=False))


def _text_lines(chars: list[dict], *, tab: bool = True) -> list[tuple[float, float, str]]:
    """Cluster characters into printed lines: (top, bottom, text). Wide gaps become a tab (``tab=True``);
    with ``tab=True`` a label wrapped onto several lines (positional text of a table without rules)
    is re-joined to the row it starts."""
    lines = _line_pieces(chars, tab=tab)
    if tab:
        lines = _rejoin_wrapped(lines)
    return [(top, bottom, "\t".join(t for _, _, t in pieces)) for top, bottom, pieces in lines]


Piece = tuple[float, float, str]  # x0, x1, text


def _line_pieces(chars: list[dict], *, tab: bool) -> list[tuple[float, float, list[Piece]]]:
    if not chars:
        return []
    ordered = sorted(chars, key=lambda c: (round(c["top"]), c["x0"]))
    lines: list[list[dict]] = []
    for ch in ordered:
        mid = (ch["top"] + ch["bottom"]) / 2
        for line in lines[-3:]:
            ref = line[0]
            size = max(ref["bottom"] - ref["top"], 1.0)
            if abs(mid - (ref["top"] + ref["bottom"]) / 2) <= size * 0.45:
                line.append(ch)
                break
        else:
            lines.append([ch])
    out: list[tuple[float, float, list[Piece]]] = []
    for line in lines:
        line.sort(key=lambda c: c["x0"])
        size = max(sum(c["bottom"] - c["top"] for c in line) / len(line), 1.0)
        pieces: list[Piece] = []
        text: list[str] = []
        x0 = line[0]["x0"]
        prev = None
        for ch in line:
            if prev is not None:
                gap = ch["x0"] - prev["x1"]
                if tab and gap > size * 0.5:
                    pieces.append((x0, prev["x1"], "".join(text).strip()))
                    text, x0 = [], ch["x0"]
                elif gap > size * 0.25 and (prev["text"].isascii() and ch["text"].isascii()):
                    text.append(" ")
            text.append(ch["text"])
            prev = ch
        pieces.append((x0, line[-1]["x1"], "".join(text).strip()))
        pieces = [pc for pc in pieces if pc[2]]
        if pieces:
            out.append((min(c["top"] for c in line), max(c["bottom"] for c in line), pieces))
    out.sort(key=lambda item: item[0])
    return out


def _is_number(text: str) -> bool:
    return (bool(NUMERIC_RE.match(text)) and any(ch.isdigit() for ch in text)) or text in {"-", "—", "/", "／", "–"}


def _rejoin_wrapped(lines: list[tuple[float, float, list[Piece]]]) -> list[tuple[float, float, list[Piece]]]:
    """Glue label fragments back onto their row: a line without numbers and without a numbering prefix,
    lying entirely left of the value columns of the row line just above it, continues that row's labels."""
    out: list[tuple[float, float, list[Piece]]] = []
    value_x: float | None = None  # left edge of the value columns of the current row
    for top, bottom, pieces in lines:
        numeric = [pc for pc in pieces if _is_number(pc[2])]
        if numeric:
            value_x = min(pc[0] for pc in numeric)
            out.append((top, bottom, list(pieces)))
            continue
        if (
            value_x is not None
            and out
            and all(pc[1] <= value_x + 1 for pc in pieces)
            and not any(NUMBERING_RE.match(pc[2]) for pc in pieces)
            and top - out[-1][1] < (bottom - top) * 1.2
        ):
            anchor = out[-1][2]
            for x0, x1, text in pieces:
                label_pieces = [i for i, pc in enumerate(anchor) if not _is_number(pc[2])]
                near = min(label_pieces, key=lambda i: abs(anchor[i][0] - x0), default=None)
                size = max(bottom - top, 1.0)
                if near is not None and abs(anchor[near][0] - x0) <= size * 1.5:
                    ax0, ax1, atext = anchor[near]
                    anchor[near] = (ax0, max(ax1, x1), atext + text)
                else:
                    anchor.append((x0, x1, text))
                    anchor.sort(key=lambda pc: pc[0])
            out[-1] = (out[-1][0], bottom, anchor)
            continue
        if not any(pc[1] <= (value_x or 0) + 1 for pc in pieces) or (len(pieces) == 1 and pieces[0][1] > (value_x or 0)):
            value_x = None  # a line across the value columns (narrative): the table is over
        out.append((top, bottom, list(pieces)))
    return out


def _page_images(page, index: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Large images of a page (kept for a later OCR step), named ``page<N>/image<M>``."""
    area = float(page.width) * float(page.height) or 1.0
    out = []
    for i, img in enumerate(page.images):
        w = float(img.get("x1", 0)) - float(img.get("x0", 0))
        h = float(img.get("bottom", 0)) - float(img.get("top", 0))
        if w * h >= area * BIG_IMAGE_SHARE:
            out.append(f"page{index + 1}/image{i + 1}")
    return out


# --- header / footer removal ----------------------------------------------------------------------------


def _running_lines(edge_lines: list[list[tuple[str, str]]]) -> set[str]:
    """Lines in the top/bottom zone that repeat on several pages (digits ignored): running heads/feet."""
    counter: Counter[tuple[str, str]] = Counter()
    for page in edge_lines:
        for zone, text in set(page):
            counter[(zone, re.sub(r"\d+", "#", text))] += 1
    pages = len(edge_lines)
    need = 2 if pages <= 3 else max(2, pages // 2)
    return {key[1] for key, n in counter.items() if n >= need}


def _is_running(line: str, running: set[str]) -> bool:
    stripped = line.replace("\t", " ").strip()
    return bool(PAGE_NUMBER_RE.match(stripped)) or re.sub(r"\d+", "#", line) in running


# --- tables across pages --------------------------------------------------------------------------------


def _chain_parts(parts: list[PagePart]) -> list[Chain]:
    """Join a table that ends at the bottom of a page with one that starts at the top of the next page."""
    chains: list[Chain] = []
    for part in parts:
        if chains:
            last = chains[-1].parts[-1]
            if (
                part.page == last.page + 1
                and last.at_page_bottom
                and part.at_page_top
                and abs(part.bbox[0] - last.bbox[0]) <= 4
                and abs(part.bbox[2] - last.bbox[2]) <= 4
            ):
                chains[-1].parts.append(part)
                continue
        chains.append(Chain([part]))
    return chains


def _snap(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > SNAP:
            out.append(v)
    return out


def _index(bounds: list[float], v: float) -> int:
    best = min(range(len(bounds)), key=lambda i: abs(bounds[i] - v))
    return best


@dataclass(slots=True)
class GridCell:
    row: int
    rowspan: int
    col: int
    span: int
    text: str
    carried: bool = False  # the rest of a label cell the page break cut: its text comes from the page before


def _part_grid(part: PagePart, xs: list[float]) -> list[GridCell]:
    ys = _snap([c.top for c in part.cells] + [c.bottom for c in part.cells])
    out = []
    for c in part.cells:
        col = _index(xs, c.x0)
        span = max(1, _index(xs, c.x1) - col)
        row = _index(ys, c.top)
        rowspan = max(1, _index(ys, c.bottom) - row)
        out.append(GridCell(row, rowspan, col, span, c.text))
    out.sort(key=lambda g: (g.row, g.col))
    return out


def _apply_carry(grid: list[GridCell], carry: dict[tuple[int, int], str], label_cols: int, first: int) -> None:
    """An empty label cell in the first body row (``first``) of a continued part, where a label cell of the
    page before reached the bottom edge, is the rest of that (cut) merged cell: it gets that label, as a copy."""
    for g in grid:
        if g.row == first and g.col < label_cols and not g.text.strip() and (g.col, g.span) in carry:
            g.text, g.carried = carry[(g.col, g.span)], True


def _grid_rows(cells: list[GridCell]) -> list[list[Cell]]:
    """Rows of Cells, rowspans repeated below as ``copy=True``."""
    if not cells:
        return []
    n_rows = max(g.row + g.rowspan for g in cells)
    rows: list[list[Cell]] = [[] for _ in range(n_rows)]
    for g in cells:
        rows[g.row].append(Cell(g.text, g.col, g.span, g.carried))
        for r in range(g.row + 1, g.row + g.rowspan):
            rows[r].append(Cell(g.text, g.col, g.span, True))
    for row in rows:
        row.sort(key=lambda c: c.col or 0)
    return rows


def _row_key(row: list[Cell]) -> tuple[str, ...]:
    return tuple(re.sub(r"\s+", "", c.text) for c in row)


def _is_fragment(row: list[Cell], label_cols: int) -> bool:
    """The rest of a row the page break cut in two: no number anywhere, and a label without numbering."""
    texts = [c.text.strip() for c in row if not c.copy]
    if not any(texts):
        return False
    for c in row:
        if c.copy:
            continue
        t = c.text.strip()
        if not t:
            continue
        if (c.col or 0) >= label_cols or NUMERIC_RE.match(t) or NUMBERING_RE.match(t):
            return False
    return True


def _chain_rows(chain: Chain) -> list[list[Cell]]:
    """The rows of a (continued) table: one column grid for all its parts, repeated headers dropped,
    rows cut by a page break joined, cut merged label cells carried over."""
    xs = _snap([x for part in chain.parts for c in part.cells for x in (c.x0, c.x1)])
    out: list[list[Cell]] = []
    header: list[tuple[str, ...]] = []
    carry: dict[tuple[int, int], str] = {}
    for n, part in enumerate(chain.parts):
        grid = _part_grid(part, xs)
        label_cols = _label_cols(out)
        rows = _grid_rows(grid)
        if n == 0:
            header = [_row_key(r) for r in rows[:4]]
            out.extend(r for r in rows if r)
        else:
            k = 0  # header rows repeated at the top of the continued table
            while k < len(rows) and k < len(header) and _row_key(rows[k]) == header[k]:
                k += 1
            _apply_carry(grid, carry, label_cols, k)
            rows = [r for r in _grid_rows(grid)[k:] if r]
            if rows and out and not any(c.text.strip() for c in rows[0] if not c.copy):
                rows = rows[1:]  # the empty rest of a row the page break cut
            elif rows and out and _is_fragment(rows[0], label_cols):
                _join_fragment(out[-1], rows[0])
                rows = rows[1:]
            out.extend(rows)
        carry = _open_labels(grid, _label_cols(out))
    return out


def _label_cols(rows: list[list[Cell]]) -> int:
    """Grid columns left of the first column that holds a number in some row (at least 1)."""
    first = None
    for row in rows:
        for c in row:
            t = c.text.strip()
            if not c.copy and t and NUMERIC_RE.match(t) and any(ch.isdigit() for ch in t):
                col = c.col or 0
                first = col if first is None else min(first, col)
                break
    return max(first, 1) if first is not None else 1


def _join_fragment(prev: list[Cell], frag: list[Cell]) -> None:
    by_col = {(c.col, c.span): c for c in prev}
    for c in frag:
        if c.copy or not c.text.strip():
            continue
        target = by_col.get((c.col, c.span)) or next((p for p in prev if p.col == c.col), None)
        if target is not None:
            target.text += c.text.strip()
        else:
            prev.append(Cell(c.text, c.col, c.span))
            prev.sort(key=lambda x: x.col or 0)


def _open_labels(grid: list[GridCell], label_cols: int) -> dict[tuple[int, int], str]:
    """Label cells that reach the bottom edge of this page's part (merged cells the page break may cut)."""
    if not grid:
        return {}
    last = max(g.row + g.rowspan for g in grid)
    return {
        (g.col, g.span): g.text
        for g in grid
        if g.row + g.rowspan == last and g.col < label_cols and g.text.strip()
    }


# --- document text --------------------------------------------------------------------------------------


def _document_text(
    page_lines: list[list[tuple[float, str]]],
    edge_lines: list[list[tuple[str, str]]],
    running: set[str],
    chains: list[Chain],
) -> str:
    """The readable text: body lines in order, tables as one tab-separated line per row (each table once)."""
    rendered: dict[int, list[str]] = {}
    for chain in chains:
        rows = ["\t".join("" if c.copy else c.text for c in row) for row in _chain_rows(chain)]
        rendered[id(chain.parts[0])] = rows
        for part in chain.parts[1:]:
            rendered[id(part)] = []
    out: list[str] = []
    for page, lines in enumerate(page_lines):
        edge_texts = {t for _, t in edge_lines[page]}
        for _top, line in lines:
            if line.startswith("\x00table:"):
                out.extend(rendered.get(int(line.split(":", 1)[1]), []))
                continue
            if line in edge_texts and _is_running(line, running):
                continue
            out.append(line)
    return "\n".join(out)
