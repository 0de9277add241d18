"""Documents whose tables are pictures → OCR → Report. Bytes in, Report out; no network, no files.

- :func:`parse_image_file`: a PNG/JPEG/GIF/TIFF/BMP/WebP report (every frame a page);
- :func:`parse_images`: the images of one report as bytes (an HTML page's ``<img>`` fetched by the crawler,
  a DOCX's ``word/media`` pictures);
- :func:`ocr_fallback`: a report the readers classed ``image_only`` (a scanned PDF, a DOCX of pictures) is
  OCR'd; when OCR finds no table 三/四 the ``image_only`` report is returned as it was, with a warning.
"""

from __future__ import annotations

import logging
from typing import Any

from crawler.parsers import images as img_mod
from crawler.parsers.model import ParseError, Report
from crawler.parsers.ocr import MAX_PAGES, OcrPage, OcrUnavailable, image_kind, load_pages, read_page
from crawler.parsers.ocr_report import report_from_pages

logger = logging.getLogger(__name__)

MIN_IMAGE_SIDE = 200  # images smaller than this (logos, icons, bullets) are not OCR'd


def _ocr(images: list, source: str | None) -> list[OcrPage]:
    pages = []
    for img in images:
        if min(img.size) < MIN_IMAGE_SIDE:
            continue
        pages.append(read_page(img))
        logger.debug("%s: OCR page %d: %d boxes", source, len(pages), len(pages[-1].boxes))
    return pages


def parse_images(
    blobs: list[bytes],
    *,
    source: str | None = None,
    source_kind: str = "image",
    title_hint: str | None = None,
    published_hint: str | None = None,
) -> Report:
    """Given the image bytes of one report in reading order, return its Report read by OCR.

    Unreadable images are skipped with a warning; more than MAX_PAGES pages are cut with a warning."""
    frames: list[Any] = []
    warnings: list[str] = []
    for n, blob in enumerate(blobs):
        if len(frames) >= MAX_PAGES:
            warnings.append(f"OCR stopped after {MAX_PAGES} pages; {len(blobs) - n} images not read")
            break
        try:
            got, total = load_pages(blob, max_pages=MAX_PAGES - len(frames))
        except ValueError as exc:
            warnings.append(f"image {n + 1} not read: {exc}")
            continue
        frames.extend(got)
        if total > len(got):
            warnings.append(f"OCR read {len(got)} of {total} pages of image {n + 1}")
    try:
        pages = _ocr(frames, source)
    except OcrUnavailable as exc:
        return Report(source=source, ok=False, status="error", error=f"reader not available: {exc}",
                      source_kind=source_kind)
    report = report_from_pages(pages, source=source, source_kind=source_kind, title_hint=title_hint,
                               published_hint=published_hint, warnings=warnings)
    return report


def parse_image_file(data: bytes, *, source: str | None = None, title_hint: str | None = None) -> Report:
    """Given the bytes of an image file, return the Report OCR reads from it."""
    kind = image_kind(data)
    if kind is None:
        raise ParseError("not an image")
    return parse_images([data], source=source, source_kind=kind, title_hint=title_hint)


def ocr_fallback(report: Report, data: bytes, kind: str, *, source: str | None, title_hint: str | None) -> Report:
    """Given an ``image_only`` report of a PDF or DOCX and its bytes, return the OCR'd report when OCR finds
    table 三 or 四, else the given report with a warning saying what OCR found."""
    try:
        if kind == "pdf":
            frames, total = load_pages(data)
            blobs: list[bytes] | None = None
        else:
            blobs = [b for _name, b in img_mod.extract_images(data, kind)]
            frames, total = [], len(blobs)
        if blobs is not None:
            ocr_report = parse_images(blobs, source=source, source_kind=kind, title_hint=title_hint or report.title)
        else:
            warn = [f"OCR read {len(frames)} of {total} pages"] if total > len(frames) else []
            pages = _ocr(frames, source)
            ocr_report = report_from_pages(pages, source=source, source_kind=kind,
                                           title_hint=title_hint or report.title, warnings=warn)
    except (OcrUnavailable, ValueError) as exc:
        report.warnings.append(f"OCR not done: {exc}")
        return report
    if ocr_report.status == "report":
        ocr_report.warnings.insert(0, f"tables are images; read by OCR ({ocr_report.source_kind})")
        return ocr_report
    report.warnings.append("OCR found no table 三/四 in the images")
    return report
