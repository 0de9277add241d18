"""Table structure from OCR boxes: rows and columns by geometry, as intake rows for the core.

Given the text boxes of deskewed pages (:class:`crawler.parsers.ocr.OcrPage`), return ``Extracted``-style
rows. Values (numbers and printed placeholders) define the table rows: value boxes whose vertical centres lie
within half a text height of each other form one row. Label boxes join every value row their vertical extent
overlaps (the first as the label, the rest as rowspan copies, as an HTML grid gives them); the remaining boxes
are text lines (headings, table headers, narrative), clustered by their centres the same way.

Columns: a *band* is a run of value rows with no text line between them. Its column slots are the clusters
of the x-centres of its values together with the leaf header boxes just above it (a header box is a leaf when
no header box below it has its centre inside it). A box across two or more columns (glued headings or digits
OCR read as one box) marks no slot: its centre lies between columns. Every slot of a value row becomes a cell; a
slot with no box is an empty cell — a printed blank only when the page shows no ink there and no box of the row
lies across it, else maybe a lost value (``positional=False``).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from crawler.parsers.model import Cell
from crawler.parsers.normalize import is_value_text, nfkc
from crawler.parsers.ocr import OcrBox, OcrPage

# column headings of tables 三 and 四 that OCR may read as one box when printed close together; 其他 (table
# 三's last applicant column) last, so that 其他结果 is matched whole
COLUMN_HEADS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "自然人", "商业企业", "科研机构", "社会公益组织",
                "法律服务机构", "其他")
_HEAD_RE = re.compile("|".join(COLUMN_HEADS))
MAX_JUNK = 4  # a run of Latin letters this short between glued headings is a misread heading (`Bit` for 总计)
_JUNK_RE = re.compile(r"[A-Za-z]+")
ROW_TOL = 0.5  # value boxes within this many text heights (centre to centre) share a row
LABEL_REACH = 0.35  # a label box reaches this many text heights beyond its own box
HEADER_GAP = 2.6  # header lines directly above a band: at most this many text heights apart
COL_TOL = 0.9  # x-centres closer than this many text heights are one column
INK_HALF_W = 0.8  # an empty slot is looked at this many text heights either side of its centre …
INK_GAP_SHARE = 0.3  # … but at most this share of the distance to the next slot (cell borders stay outside)
INK_HALF_H = 0.4  # … and this many text heights above and below the row's centre
INK_LEVEL = 128  # a grey level below this is ink
INK_MAX_SHARE = 0.01  # an empty slot with at most this share of ink pixels (JPEG specks) was printed blank


@dataclass(slots=True)
class GridRow:
    y: float
    cells: list[Cell]
    conf: list[float | None]  # per cell: min confidence of its boxes (None for empty or copy cells)
    values: bool  # a value row (else a text line)
    page: int = 0
    boxes: list[OcrBox] = field(default_factory=list)
    labels: list[OcrBox] = field(default_factory=list)  # label boxes attached to a value row (copies too)


@dataclass(slots=True)
class Grid:
    rows: list[GridRow]

    @property
    def text(self) -> str:
        """One line per row, cells tab-separated (rowspan copies and empty cells left out)."""
        return "\n".join("\t".join(c.text for c in r.cells if c.text and not c.copy) for r in self.rows)


def split_box(box: OcrBox) -> list[OcrBox]:
    """A box holding several cells (`0 0 12`, `行政许可 0`) split at its spaces: label words first, then only
    values; a box of column headings glued together (`其他结果尚未审结`, `社会公益组织 “法律服务机构其他`) split into
    its headings (:func:`glued_headings`); each part gets the box's share of width by characters. Narrative lines
    stay whole."""
    heads = glued_headings(box.text)
    if heads is not None:
        return _share(box, heads)
    parts = box.text.split()
    if len(parts) < 2:
        return [box]
    is_val = [is_value_text(p) for p in parts]
    first_val = next((i for i, v in enumerate(is_val) if v), None)
    if first_val is None or not all(is_val[first_val:]):
        return [box]
    pieces = ([" ".join(parts[:first_val])] if first_val else []) + parts[first_val:]
    return _share(box, pieces)


def glued_headings(text: str) -> list[str] | None:
    """Given a box's text, return the column headings it holds left to right when it is two or more known
    headings (:data:`COLUMN_HEADS`) glued together, else None. OCR noise between them is not a heading: quote
    marks, punctuation and symbols (`“`, `|`, `.`) are dropped; a short run of Latin letters (a misread heading,
    `Bit` for 总计) stays a piece of its own, so the headings beside it keep their places."""
    compact = "".join(ch for ch in nfkc(text) if not ch.isspace())
    pieces: list[str] = []
    known = 0
    pos = 0
    while pos < len(compact):
        head = _HEAD_RE.match(compact, pos)
        junk = _JUNK_RE.match(compact, pos)
        if head is not None:
            pieces.append(head.group(0))
            known += 1
            pos = head.end()
        elif junk is not None and len(junk.group(0)) <= MAX_JUNK:
            pieces.append(junk.group(0))
            pos = junk.end()
        elif unicodedata.category(compact[pos])[0] in "PS":
            pos += 1
        else:
            return None  # anything else (a word, a digit) makes it a line of text, not a row of headings
    return pieces if known >= 2 else None


def _share(box: OcrBox, pieces: list[str]) -> list[OcrBox]:
    """Given a box and the texts it holds left to right, return one box per text, widths by characters."""
    total = sum(len(p) for p in pieces) + len(pieces) - 1
    out, pos = [], 0
    width = box.x1 - box.x0
    for p in pieces:
        x0 = box.x0 + width * pos / total
        pos += len(p) + 1
        x1 = box.x0 + width * (pos - 1) / total
        out.append(OcrBox(x0, box.y0, x1, box.y1, p, box.conf))
    return out


def _rows_by_centre(boxes: list[OcrBox], tol_h: float) -> list[list[OcrBox]]:
    rows: list[list[OcrBox]] = []
    for b in sorted(boxes, key=lambda b: b.yc):
        if rows and b.yc - statistics.fmean(x.yc for x in rows[-1]) <= ROW_TOL * tol_h:
            rows[-1].append(b)
        else:
            rows.append([b])
    return [sorted(r, key=lambda b: b.x0) for r in rows]


def page_grid(page: OcrPage, page_no: int = 0, slots: list[float] | None = None) -> list[GridRow]:
    """Given one page's boxes (and the column slots of the last band of the page before, updated in place),
    return its rows (value rows and text lines) in reading order."""
    boxes = [p for b in page.boxes for p in split_box(b)]
    if not boxes:
        return []
    values = [b for b in boxes if is_value_text(b.text)]
    labels = [b for b in boxes if not is_value_text(b.text)]
    h = statistics.median([b.h for b in (values or boxes)])
    vrows = _rows_by_centre(values, h)
    vy = [statistics.fmean(b.yc for b in r) for r in vrows]
    attached: list[list[tuple[OcrBox, bool]]] = [[] for _ in vrows]
    loose: list[OcrBox] = []
    for b in labels:
        reach = LABEL_REACH * h
        hits = [i for i, y in enumerate(vy) if b.y0 - reach <= y <= b.y1 + reach and b.x1 <= _first_x(vrows[i]) + h]
        if not hits:
            loose.append(b)
            continue
        for n, i in enumerate(hits):
            attached[i].append((b, n > 0))
    out: list[GridRow] = []
    for i, r in enumerate(vrows):
        found = sorted(attached[i], key=lambda t: (t[0].x0, t[0].y0))
        row = GridRow(vy[i], [], [], True, page_no, list(r), [b for b, _copy in found])
        row.cells = [Cell(b.text, 0, 1, copy) for b, copy in found]
        row.conf = [None if copy else b.conf for b, copy in found]
        out.append(row)
    for r in _rows_by_centre(loose, h):
        out.append(GridRow(statistics.fmean(b.yc for b in r), [], [], False, page_no, list(r)))
    out.sort(key=lambda r: r.y)
    last = _place_columns(out, h, page.image, slots or [])
    if slots is not None:
        slots[:] = last
    return out


def _first_x(row: list[OcrBox]) -> float:
    return min(b.x0 for b in row)


def _place_columns(rows: list[GridRow], h: float, image: Any = None, prev_slots: list[float] | None = None) -> list[float]:
    """Give every value row one cell per column slot of its band, and header lines their slot columns; a band
    under no header continues the band before (`prev_slots`, from the page before). Return the last slots."""
    prev_slots = list(prev_slots or [])
    i = 0
    while i < len(rows):
        if not rows[i].values:
            i += 1
            continue
        j = i
        while j < len(rows) and rows[j].values:
            j += 1
        label_edge = max((b.x1 for r in rows[i:j] for b in _label_boxes(r)), default=float("-inf"))
        value_edge = min((b.x0 for r in rows[i:j] for b in r.boxes if is_value_text(b.text)), default=label_edge)
        j = _extend_band(rows, j, max(label_edge, value_edge))
        band = rows[i:j]
        headers = _headers_above(rows, i, h)
        marks = [b for r in band for b in r.boxes if is_value_text(b.text)]  # a row without values adds no slot
        marks += [b for b in _leaf_headers(headers) if b.xc > label_edge]
        slots = column_slots(marks, COL_TOL * h)
        if not headers and prev_slots:
            # a band under no header (after a page break, rows printed empty) continues the last one's columns
            shift = statistics.median(x - _nearest(prev_slots, x) for x in slots)
            moved = [p + shift for p in prev_slots]  # pages are deskewed about their own centres
            if _within(slots, moved, COL_TOL * h):
                slots = moved
        prev_slots = slots
        for r in band:
            _fill_row(r, slots, h, image)
        for r in headers:
            r.cells = [_header_cell(b, slots, label_edge) for b in r.boxes]
            r.conf = [b.conf for b in r.boxes]
        i = j
    for r in rows:
        if not r.cells:  # text lines outside any table: cells without a position
            r.cells = [Cell(b.text) for b in r.boxes]
            r.conf = [b.conf for b in r.boxes]
    return prev_slots


def column_slots(marks: list[OcrBox], tol: float) -> list[float]:
    """Given the value boxes and leaf header boxes of a band and the column tolerance, return its column slots:
    the clusters of their x-centres. A box across two or more columns (the centres of other boxes' clusters
    inside it: headings or numbers OCR read as one box, `商业企业科研机构…`, `82135`) marks no column of its own —
    its centre lies between columns, and an empty slot there would pass the ink test as a printed blank."""
    groups = _cluster_boxes(marks, tol)
    spanning = {id(b) for g in groups for b in g if _spans(b, [o for o in groups if o is not g])}
    return [statistics.fmean(b.xc for b in g) for g in _cluster_boxes([b for b in marks if id(b) not in spanning], tol)]


def _cluster_boxes(boxes: list[OcrBox], tol: float) -> list[list[OcrBox]]:
    """Given boxes, return them clustered by x-centre (a box joins the cluster whose mean is within `tol`), left to right."""
    groups: list[list[OcrBox]] = []
    for b in sorted(boxes, key=lambda b: b.xc):
        if groups and b.xc - statistics.fmean(o.xc for o in groups[-1]) <= tol:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _spans(box: OcrBox, others: list[list[OcrBox]]) -> bool:
    """Given a box and the other column clusters, return whether two or more of their centres lie inside it."""
    return sum(box.x0 <= statistics.fmean(o.xc for o in g) <= box.x1 for g in others) >= 2


def _nearest(points: list[float], x: float) -> float:
    """Given points and a position, return the point nearest to it."""
    return min(points, key=lambda p: abs(x - p))


def _within(slots: list[float], wider: list[float], tol: float) -> bool:
    """Given a band's slots and the previous band's, return whether every slot is one of the previous (within
    `tol`) and the previous band has more: a band continuing the table with some columns empty throughout."""
    return len(wider) > len(slots) and all(min(abs(x - w) for w in wider) <= tol for x in slots)


def _extend_band(rows: list[GridRow], j: int, label_edge: float) -> int:
    """A row printed without values (only labels, inside the label column) does not end its band when more
    value rows follow: it becomes a value row whose every slot is empty (its cells unknown, never shifted)."""
    k = j
    while k < len(rows):
        if rows[k].values:
            j = k = k + 1
            continue
        if not all(b.x1 <= label_edge for b in rows[k].boxes):
            break
        k += 1
    for r in rows[:j]:
        if not r.values and r.boxes and all(b.x1 <= label_edge for b in r.boxes) and not r.cells:
            r.values, r.labels = True, list(r.boxes)
            r.cells = [Cell(b.text, 0) for b in r.boxes]
            r.conf = [b.conf for b in r.boxes]
    return j


def _label_boxes(row: GridRow) -> list[OcrBox]:
    return row.labels + [b for b in row.boxes if not is_value_text(b.text)]


def _headers_above(rows: list[GridRow], i: int, h: float) -> list[GridRow]:
    out: list[GridRow] = []
    y = rows[i].y
    k = i - 1
    while k >= 0 and not rows[k].values and y - rows[k].y <= HEADER_GAP * h and len(out) < 5:
        out.insert(0, rows[k])
        y = rows[k].y
        k -= 1
    return out


def _leaf_headers(headers: list[GridRow]) -> list[OcrBox]:
    out = []
    for n, r in enumerate(headers):
        below = [b for lower in headers[n + 1 :] for b in lower.boxes]
        for b in r.boxes:
            if not any(b.x0 <= o.xc <= b.x1 for o in below):
                out.append(b)
    return out


def _header_cell(b: OcrBox, slots: list[float], label_edge: float) -> Cell:
    if b.xc <= label_edge or not slots:
        return Cell(b.text, 0)
    covered = [k for k, x in enumerate(slots) if b.x0 <= x <= b.x1]
    if covered:
        return Cell(b.text, 1 + covered[0], len(covered))
    nearest = min(range(len(slots)), key=lambda k: abs(slots[k] - b.xc))
    return Cell(b.text, 1 + nearest)


def _fill_row(row: GridRow, slots: list[float], h: float = 0.0, image: Any = None) -> None:
    """Give a value row one cell per slot: its value boxes, or an empty cell — marked a printed blank when the
    page image shows no ink where the slot's value would be printed (:func:`ink_blank`) and no box of the row lies
    across the slot, else maybe lost."""
    by_slot: dict[int, list[OcrBox]] = {}
    for b in row.boxes:
        if is_value_text(b.text):
            k = min(range(len(slots)), key=lambda k: abs(slots[k] - b.xc))
            by_slot.setdefault(k, []).append(b)
    cells, conf = list(row.cells), list(row.conf)
    for k in range(len(slots)):
        found = sorted(by_slot.get(k, []), key=lambda b: b.x0)
        if not found:
            # a box of this row across the slot (`82135` over two columns) is ink there: never a printed blank
            across = any(b.x0 <= slots[k] <= b.x1 for b in row.boxes)
            blank = None if across else ink_blank(image, _slot_box(row, slots, k, h))
            cells.append(Cell("", 1 + k, blank=blank is not None))
            conf.append(blank)
        for b in found:  # two boxes in one slot stay two cells: never glued into one number
            cells.append(Cell(b.text, 1 + k))
            conf.append(b.conf)
    row.cells, row.conf = cells, conf


def _slot_box(row: GridRow, slots: list[float], k: int, h: float) -> tuple[float, float, float, float]:
    """Given a value row, its band's slots, a slot index and the text height, return the box (x0, y0, x1, y1)
    where slot k's value would be printed: around the slot's centre, inside its cell."""
    gaps = [abs(slots[k] - slots[j]) for j in (k - 1, k + 1) if 0 <= j < len(slots)]
    half = min([INK_HALF_W * h, *(INK_GAP_SHARE * g for g in gaps)])
    return (slots[k] - half, row.y - INK_HALF_H * h, slots[k] + half, row.y + INK_HALF_H * h)


def ink_blank(image: Any, box: tuple[float, float, float, float]) -> float | None:
    """Given a page's grey image (deskewed like its boxes; None when there is none) and a box, return the share of
    the box free of ink when it holds no ink (a cell printed empty: the blank's confidence), else None (a value
    may be printed there and was not read)."""
    if image is None:
        return None
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, image.width), min(y1, image.height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hist = image.crop((x0, y0, x1, y1)).histogram()
    share = sum(hist[:INK_LEVEL]) / ((x1 - x0) * (y1 - y0))
    return None if share > INK_MAX_SHARE else 1.0 - share


def build_grid(pages: list[OcrPage]) -> Grid:
    """Given OCR'd pages in order, return all their rows (tables simply continue across pages)."""
    rows: list[GridRow] = []
    slots: list[float] = []
    for n, page in enumerate(pages):
        rows.extend(page_grid(page, n, slots))
    return Grid(rows)
