"""DOCX reader: WordprocessingML tables and paragraphs → :class:`Extracted`.

    extract_docx(data: bytes) -> Extracted

Reads ``word/document.xml`` directly with lxml (python-docx's object model hides merges and nesting):

- ``w:gridSpan`` gives a cell's colspan, ``w:gridBefore`` skipped grid columns, so ``Cell.col`` is the
  grid column of the cell's left edge;
- ``w:vMerge`` (``restart`` … continue) is a rowspan: a continuation repeats the first cell's text with
  ``copy=True``;
- a table nested in a cell is read in place: its rows follow the row of the outer cell (layout tables
  that wrap the real table are common);
- text in several runs (``w:t``, ``w:tab``, ``w:br``, ``w:sym``) is joined; deleted text is skipped.

The archive is checked before anything is decompressed: member count, declared sizes, compression
ratio, and the bytes actually read are capped (zip bombs). Images referenced by the body are listed
in ``Extracted.images`` as their package names (``word/media/image1.png``).
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from lxml import etree

from crawler.parsers.model import Cell, Extracted, ParseError
from crawler.parsers.normalize import document_title, fold_extracted

logger = logging.getLogger(__name__)

MAX_BYTES = 60 * 1024 * 1024  # the DOCX file itself
MAX_MEMBERS = 5_000
MAX_XML_BYTES = 40 * 1024 * 1024  # word/document.xml, uncompressed
MAX_TOTAL_UNCOMPRESSED = 400 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed for one member (larger than a few MB)
MAX_ROWS = 20_000
MAX_NESTING = 8

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
V = "urn:schemas-microsoft-com:vml"
REL = "http://schemas.openxmlformats.org/package/2006/relationships"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


@dataclass(slots=True)
class _Open:
    """An open vertical merge in one grid column: its text and span."""

    text: str
    span: int


# --- entry point ----------------------------------------------------------------------------------------


def extract_docx(data: bytes) -> Extracted:
    """Read a DOCX into table rows (path ``docx-grid``) and paragraph text (``docx-text``).

    Raises :class:`ParseError` for encrypted, corrupt, truncated or oversized (zip bomb) packages."""
    if data[:8] == OLE_MAGIC:
        raise ParseError("encrypted or legacy Word document: an OLE container, not a DOCX package"
                         if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data
                         else "not a DOCX package: an OLE (legacy .doc) container")
    if len(data) > MAX_BYTES:
        raise ParseError(f"DOCX too large: {len(data)} bytes (limit {MAX_BYTES})")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ParseError(f"corrupt or truncated DOCX: {exc}") from exc
    except Exception as exc:
        raise ParseError(f"corrupt DOCX: {type(exc).__name__}") from exc
    with zf:
        _check_package(zf)
        xml = _read_member(zf, "word/document.xml", MAX_XML_BYTES)
        rels = _relationships(zf)
        core_title = _core_title(zf)
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"corrupt DOCX: word/document.xml is not well-formed ({exc.msg})") from exc
    body = root.find(_w("body"))
    if body is None:
        raise ParseError("corrupt DOCX: no document body")
    reader = _Reader(rels)
    reader.block(body, depth=0)
    text = "\n".join(line for line in reader.lines if line.strip())
    return fold_extracted(Extracted(
        rows=reader.rows,
        text=text,
        source_kind="docx",
        path="docx-grid",
        text_path="docx-text",
        title_hint=document_title(core_title, text),
        images=reader.images,
        positional=True,
    ))


# --- package checks -------------------------------------------------------------------------------------


def _check_package(zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ParseError(f"DOCX package has too many members: {len(infos)} (limit {MAX_MEMBERS})")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ParseError("encrypted DOCX: a zip member is password-protected")
        total += info.file_size
        if info.file_size > 4 * 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ParseError(
                f"DOCX looks like a zip bomb: {info.filename} expands {info.compress_size} → {info.file_size} bytes"
            )
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise ParseError(f"DOCX looks like a zip bomb: {total} bytes uncompressed (limit {MAX_TOTAL_UNCOMPRESSED})")
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise ParseError("not a DOCX package: no word/document.xml")


def _read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Read at most ``limit`` bytes of one member; declared sizes can lie, so the read itself is capped."""
    try:
        with zf.open(name) as fh:
            data = fh.read(limit + 1)
    except KeyError as exc:
        raise ParseError(f"not a DOCX package: no {name}") from exc
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ParseError(f"corrupt or truncated DOCX: {name}: {exc}") from exc
    except Exception as exc:  # zlib.error and friends
        raise ParseError(f"corrupt DOCX: {name}: {type(exc).__name__}") from exc
    if len(data) > limit:
        raise ParseError(f"DOCX looks like a zip bomb: {name} expands past {limit} bytes")
    return data


def _relationships(zf: zipfile.ZipFile) -> dict[str, str]:
    try:
        xml = _read_member(zf, "word/_rels/document.xml.rels", 2 * 1024 * 1024)
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except (ParseError, etree.XMLSyntaxError):
        return {}
    out = {}
    for rel in root.iter(f"{{{REL}}}Relationship"):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            out[rel.get("Id", "")] = target
        else:
            out[rel.get("Id", "")] = "word/" + target.lstrip("/").removeprefix("word/")
    return out


def _core_title(zf: zipfile.ZipFile) -> str | None:
    try:
        xml = _read_member(zf, "docProps/core.xml", 1024 * 1024)
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except (ParseError, etree.XMLSyntaxError):
        return None
    el = root.find("{http://purl.org/dc/elements/1.1/}title")
    title = (el.text or "").strip() if el is not None else ""
    return title or None


# --- body walk ------------------------------------------------------------------------------------------


class _Reader:
    """Walks the body in order, collecting table rows, text lines and image references."""

    def __init__(self, rels: dict[str, str]) -> None:
        self.rels = rels
        self.rows: list[list[Cell]] = []
        self.lines: list[str] = []
        self.images: list[str] = []

    def block(self, parent: etree._Element, depth: int) -> None:
        for child in parent:
            tag = child.tag
            if tag == _w("p"):
                self.lines.append(self.para_text(child))
                self._images(child)
            elif tag == _w("tbl"):
                self.table(child, depth)
            elif tag in (_w("sdt"), _w("customXml"), _w("ins"), _w("smartTag")):
                content = child.find(_w("sdtContent"))
                self.block(content if content is not None else child, depth)

    def table(self, tbl: etree._Element, depth: int) -> None:
        if depth > MAX_NESTING:
            raise ParseError(f"DOCX tables nested deeper than {MAX_NESTING}")
        raw: list[tuple[etree._Element, list[tuple[etree._Element, int, int]]]] = []
        for tr in _children(tbl, "tr"):
            col = _grid_before(tr)
            cells = []
            for tc in _children(tr, "tc"):
                span = _int_attr(tc.find(_w("tcPr")), "gridSpan", 1)
                cells.append((tc, col, span))
                col += span
            raw.append((tr, cells))
        logical = _grid_map(tbl, [(c, s) for _, cells in raw for _, c, s in cells])
        open_merges: dict[int, _Open] = {}
        for _tr, cells in raw:
            if len(self.rows) > MAX_ROWS:
                raise ParseError(f"DOCX has more than {MAX_ROWS} table rows")
            row: list[Cell] = []
            nested: list[etree._Element] = []
            for tc, raw_col, raw_span in cells:
                col = logical(raw_col)
                span = max(1, logical(raw_col + raw_span) - col)
                pr = tc.find(_w("tcPr"))
                vmerge = pr.find(_w("vMerge")) if pr is not None else None
                text = self.cell_text(tc, nested)
                if vmerge is not None and vmerge.get(_w("val"), "continue") != "restart":
                    prev = open_merges.get(col)
                    row.append(Cell(prev.text if prev else text, col, prev.span if prev else span, copy=True))
                else:
                    row.append(Cell(text, col, span))
                    if vmerge is not None:
                        open_merges[col] = _Open(text, span)
                    else:
                        open_merges.pop(col, None)
            self.rows.append(row)
            self.lines.append("\t".join("" if c.copy else c.text for c in row))
            for inner in nested:
                self.table(inner, depth + 1)

    def cell_text(self, tc: etree._Element, nested: list[etree._Element]) -> str:
        """The cell's own paragraphs (joined with a space); nested tables are queued for after the row."""
        parts: list[str] = []
        for child in tc:
            if child.tag == _w("p"):
                parts.append(self.para_text(child))
                self._images(child)
            elif child.tag == _w("tbl"):
                nested.append(child)
            elif child.tag == _w("sdt"):
                content = child.find(_w("sdtContent"))
                for p in (content if content is not None else child).iter(_w("p")):
                    parts.append(self.para_text(p))
        return " ".join(p.strip() for p in parts if p.strip())

    def para_text(self, p: etree._Element) -> str:
        out: list[str] = []
        for el in p.iter(_w("t"), _w("tab"), _w("br"), _w("cr"), _w("sym"), _w("noBreakHyphen")):
            if el.tag == _w("t"):
                out.append(el.text or "")
            elif el.tag == _w("tab"):
                if el.getparent() is not None and el.getparent().tag == _w("r"):
                    out.append("\t")
            elif el.tag in (_w("br"), _w("cr")):
                out.append(" ")
            elif el.tag == _w("noBreakHyphen"):
                out.append("-")
        return "".join(out)

    def _images(self, p: etree._Element) -> None:
        for blip in p.iter(f"{{{A}}}blip"):
            rid = blip.get(f"{{{R}}}embed") or blip.get(f"{{{R}}}link")
            if rid and rid in self.rels:
                self.images.append(self.rels[rid])
        for img in p.iter(f"{{{V}}}imagedata"):
            rid = img.get(f"{{{R}}}id")
            if rid and rid in self.rels:
                self.images.append(self.rels[rid])


def _children(el: etree._Element, tag: str) -> list[etree._Element]:
    """Direct children named ``tag``, looking through content controls and tracked insertions."""
    out = []
    for child in el:
        if child.tag == _w(tag):
            out.append(child)
        elif child.tag in (_w("sdt"), _w("customXml"), _w("ins")):
            content = child.find(_w("sdtContent"))
            out.extend(_children(content if content is not None else child, tag))
    return out


TINY_COLUMN = 30  # twips (~0.5 mm): grid columns this narrow are rounding residue, not real columns


def _grid_map(tbl: etree._Element, edges: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
    """A function from raw grid boundaries to logical ones, with sliver columns (``w:tblGrid`` widths
    under TINY_COLUMN, left by converters) folded into a neighbour: of the sliver's two edges, the one
    fewer cells use disappears."""
    grid = tbl.find(_w("tblGrid"))
    widths: list[int] = []
    if grid is not None:
        for gc in grid.findall(_w("gridCol")):
            try:
                widths.append(int(float(gc.get(_w("w"), "0"))))
            except (ValueError, OverflowError):  # not a number, or inf
                widths.append(0)
    use: dict[int, int] = {}
    for col, span in edges:
        use[col] = use.get(col, 0) + 1
        use[col + span] = use.get(col + span, 0) + 1
    removed: set[int] = set()
    if widths and len(widths) > 1 and max(widths) > TINY_COLUMN:
        for j, w in enumerate(widths):
            if w < TINY_COLUMN:
                left, right = j, j + 1
                if left == 0:
                    removed.add(right)
                elif right >= len(widths):
                    removed.add(left)
                else:
                    removed.add(left if use.get(left, 0) < use.get(right, 0) else right)
    if not removed:
        return lambda b: b
    cuts = sorted(removed)
    return lambda b: b - sum(1 for r in cuts if r <= b)


def _int_attr(pr: etree._Element | None, tag: str, default: int) -> int:
    if pr is None:
        return default
    el = pr.find(_w(tag))
    if el is None:
        return default
    try:
        return max(1, min(int(el.get(_w("val"), default)), 64))
    except ValueError:
        return default


def _grid_before(tr: etree._Element) -> int:
    pr = tr.find(_w("trPr"))
    if pr is None:
        return 0
    el = pr.find(_w("gridBefore"))
    if el is None:
        return 0
    try:
        return max(0, min(int(el.get(_w("val"), "0")), 64))
    except ValueError:
        return 0
