"""Parsers: pure functions from document bytes to typed, checked report cells.

    parse_document(data, source=..., url=..., content_type=...) -> Report

No I/O, no Scrapy, no archive access here.
"""

from __future__ import annotations

from collections.abc import Mapping

from crawler.parsers.model import Cell, CellValue, Check, Extracted, ParseError, Report

__all__ = ["Cell", "CellValue", "Check", "Extracted", "ParseError", "Report", "parse_document"]


def parse_document(
    data: bytes,
    *,
    source: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    title_hint: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> Report:
    """Parse one document (HTML, text, PDF, DOCX, …) into a Report. Never raises for bad input:
    problems come back as ``Report(ok=False, error=...)``.

    ``images``: for an HTML page whose tables are pictures, the bytes of the images its ``report.images``
    listed as ``pending`` (URL → bytes, as a crawler fetched them); the tables are then read by OCR."""
    from crawler.parsers.dispatch import parse_bytes

    return parse_bytes(data, source=source, url=url, content_type=content_type, title_hint=title_hint,
                       images=images)
