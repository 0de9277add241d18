"""Sniff a document's kind and hand it to the right reader, then to the core. Turns every failure into
``Report(ok=False, error=...)`` so callers never see a traceback for bad input."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from crawler.parsers.core import build_report
from crawler.parsers.decode import decode
from crawler.parsers.html_tables import extract_html
from crawler.parsers.images import looks_image_only
from crawler.parsers.model import Extracted, ParseError, Report
from crawler.parsers.ocr import image_kind

logger = logging.getLogger(__name__)

MAX_BYTES = 60 * 1024 * 1024
_HTML_RE = re.compile(rb"<\s*(?:html|body|table|p|div|meta|head|!doctype)\b", re.IGNORECASE)


def sniff(data: bytes, url: str | None = None, content_type: str | None = None) -> str:
    """pdf | image (png/jpeg/gif/tiff/bmp/webp) | docx | xlsx | ole (doc/xls/wps) | zip | html | text | binary"""
    head = data[:8]
    ct = (content_type or "").lower()
    name = (url or "").lower().split("?")[0]
    if head.startswith(b"%PDF") or data[:1024].lstrip().startswith(b"%PDF"):
        return "pdf"
    if image_kind(data):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        if b"word/" in data[:65536] or name.endswith(".docx"):
            return "docx"
        if b"xl/" in data[:65536] or name.endswith(".xlsx"):
            return "xlsx"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if _HTML_RE.search(data[:4096]) or "html" in ct:
        return "html"
    sample = data[:4096]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    return "text"


def extract(data: bytes, *, url: str | None = None, content_type: str | None = None) -> Extracted:
    kind = sniff(data, url, content_type)
    if kind == "html":
        text, _enc = decode(data, content_type)
        return extract_html(text)
    if kind == "text":
        text, _enc = decode(data, content_type)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return Extracted(rows=[], text=text, source_kind="text", path="text", text_path="text", positional=False)
    if kind == "pdf":
        from crawler.parsers import pdf_tables

        return pdf_tables.extract_pdf(data)
    if kind == "docx":
        from crawler.parsers import docx_tables

        return docx_tables.extract_docx(data)
    if kind in ("ole", "xlsx"):
        from crawler.parsers import office

        return office.extract_office(data, url=url, content_type=content_type)
    raise ParseError(f"unsupported document type ({kind})")


def parse_bytes(
    data: bytes,
    *,
    source: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    title_hint: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> Report:
    if not isinstance(data, bytes | bytearray):
        return _failed(source, "not bytes")
    if len(data) > MAX_BYTES:
        return _failed(source, f"too large ({len(data)} bytes > {MAX_BYTES})")
    if not data.strip():
        return _failed(source, "empty document")
    try:
        data = bytes(data)
        kind = sniff(data, url or source, content_type)
        if kind == "image":  # a picture of a report: OCR (crawler.parsers.ocr_docs)
            from crawler.parsers.ocr_docs import parse_image_file

            return parse_image_file(data, source=source, title_hint=title_hint)
        ex = extract(data, url=url or source, content_type=content_type)
        own_title = ex.title_hint  # the document's own (metadata, heading); a caller's title is a fallback
        if title_hint and not ex.title_hint:
            ex.title_hint = title_hint
        report = build_report(ex, source=source)
        if kind in ("pdf", "docx") and (report.status == "image_only" or looks_image_only(ex)):  # scans, pictures
            from crawler.parsers.ocr_docs import ocr_fallback

            report = ocr_fallback(report, data, kind, source=source, title_hint=title_hint, own_title=own_title)
        elif kind == "html" and report.status == "image_only" and ex.images:  # a page of pictures of tables
            from crawler.parsers.ocr_docs import ocr_page_images

            report = ocr_page_images(report, ex.images, base=url or source, fetched=images, source=source)
        return report
    except ParseError as exc:
        return _failed(source, str(exc))
    except ImportError as exc:
        return _failed(source, f"reader not available: {exc}")
    except (RecursionError, MemoryError) as exc:
        return _failed(source, f"document too complex: {type(exc).__name__}")
    except Exception as exc:  # the contract: no traceback for bad input, ever
        # one line for the user (the error is on the result too); the traceback only at debug, for developers
        logger.warning("parser bug on %s: %s: %s", source, type(exc).__name__, str(exc)[:300])
        logger.debug("parser bug on %s", source, exc_info=True)
        return _failed(source, f"parser error: {type(exc).__name__}: {exc}")


def _failed(source: str | None, error: str) -> Report:
    return Report(source=source, ok=False, error=error, status="error")
