"""Documents whose tables are pictures → OCR → Report. Bytes in, Report out; no network, no files.

- :func:`parse_image_file`: a PNG/JPEG/GIF/TIFF/BMP/WebP report (every frame a page);
- :func:`parse_images`: the images of one report as bytes (an HTML page's ``<img>`` fetched by the crawler,
  a DOCX's ``word/media`` pictures);
- :func:`ocr_fallback`: a report the readers classed ``image_only`` (a scanned PDF, a DOCX of pictures) is
  OCR'd; when OCR finds no table 三/四 the ``image_only`` report is returned as it was, with a warning.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from crawler.parsers import images as img_mod
from crawler.parsers.meta import find_title
from crawler.parsers.model import ParseError, Report
from crawler.parsers.ocr import MAX_PAGES, OcrPage, OcrUnavailable, image_kind, load_pages, read_page
from crawler.parsers.ocr_report import recheck, report_from_pages
from crawler.parsers.report import key_order

logger = logging.getLogger(__name__)

MIN_IMAGE_SIDE = 200  # images smaller than this (logos, icons, bullets) are not OCR'd
TITLE_BOXES = 12  # the first page's first boxes, where a printed report title is


def _ocr(images: list, source: str | None) -> list[OcrPage]:
    pages = []
    for img in images:
        if min(img.size) < MIN_IMAGE_SIDE:
            continue
        pages.append(read_page(img))
        logger.debug("%s: OCR page %d: %d boxes", source, len(pages), len(pages[-1].boxes))
    return pages


def _image_side(blob: bytes) -> int | None:
    """The shorter side of an image as stored (before any scaling), or None when PIL cannot tell."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(blob)) as img:
            return min(img.size)
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def read_blobs(blobs: list[bytes], source: str | None) -> tuple[list[OcrPage], list[dict[str, Any]], list[str]]:
    """Given the image bytes of one report in reading order, return (OCR pages, one note per image: its
    ``status`` — ``read`` with its ``pages``, ``small`` (an icon, not OCR'd), ``unreadable`` or ``not-read``
    beyond :data:`MAX_PAGES` — and its page numbers, warnings). Raises OcrUnavailable without an engine."""
    pages: list[OcrPage] = []
    notes: list[dict[str, Any]] = []
    warnings: list[str] = []
    for n, blob in enumerate(blobs):
        if len(pages) >= MAX_PAGES:
            notes.append({"status": "not-read"})
            continue
        side = _image_side(blob) if not blob.startswith(b"%PDF") else None
        if side is not None and side < MIN_IMAGE_SIDE:
            notes.append({"status": "small"})
            continue
        try:
            frames, total = load_pages(blob, max_pages=MAX_PAGES - len(pages))
        except ValueError as exc:
            warnings.append(f"image {n + 1} not read: {exc}")
            notes.append({"status": "unreadable", "reason": str(exc)[:200]})
            continue
        if total > len(frames):
            warnings.append(f"OCR read {len(frames)} of {total} pages of image {n + 1}")
        first = len(pages) + 1
        pages.extend(_ocr(frames, source))
        notes.append({"status": "read", "pages": list(range(first, len(pages) + 1))})
    skipped = sum(1 for note in notes if note["status"] == "not-read")
    if skipped:
        warnings.append(f"OCR stopped after {MAX_PAGES} pages; {skipped} images not read")
    return pages, notes, warnings


def parse_images(
    blobs: list[bytes],
    *,
    source: str | None = None,
    source_kind: str = "image",
    title_hint: str | None = None,
    published_hint: str | None = None,
) -> Report:
    """Given the image bytes of one report in reading order, return its Report read by OCR. ``title_hint`` (a
    link's title) is used only when the first page prints no report title of its own.

    Unreadable images are skipped with a warning; more than MAX_PAGES pages are cut with a warning."""
    try:
        pages, _notes, warnings = read_blobs(blobs, source)
    except OcrUnavailable as exc:
        return Report(source=source, ok=False, status="error", error=f"reader not available: {exc}",
                      source_kind=source_kind)
    return report_from_pages(pages, source=source, source_kind=source_kind, title_hint=_title_hint(pages, title_hint),
                             published_hint=published_hint, warnings=warnings)


def _title_hint(pages: list[OcrPage], hint: str | None) -> str | None:
    """Given OCR pages and a caller's title (a link's text), return the title hint for the report: none when
    the pages print a report title themselves (the document names itself; a link's title is only a fallback),
    else the caller's."""
    if not hint:
        return None
    lines = "\n".join(box.text for page in pages[:1] for box in page.boxes[:TITLE_BOXES])
    return None if find_title(lines, None) else hint


def parse_image_file(data: bytes, *, source: str | None = None, title_hint: str | None = None) -> Report:
    """Given the bytes of an image file, return the Report OCR reads from it."""
    kind = image_kind(data)
    if kind is None:
        raise ParseError("not an image")
    return parse_images([data], source=source, source_kind=kind, title_hint=title_hint)


def ocr_fallback(report: Report, data: bytes, kind: str, *, source: str | None, title_hint: str | None,
                 own_title: str | None = None) -> Report:
    """Given an ``image_only`` report of a PDF or DOCX and its bytes, return the OCR'd report when OCR finds
    table 三 or 四, else the given report with a warning saying what OCR found. ``own_title``: the title the
    document's metadata gives; ``title_hint`` (a link's) is used only when the scan prints no title either."""
    try:
        if kind == "pdf":
            frames, total = load_pages(data)
            blobs: list[bytes] | None = None
        else:
            blobs = [b for _name, b in img_mod.extract_images(data, kind)]
            frames, total = [], len(blobs)
        if blobs is not None:
            ocr_report = parse_images(blobs, source=source, source_kind=kind, title_hint=own_title or title_hint)
        else:
            warn = [f"OCR read {len(frames)} of {total} pages"] if total > len(frames) else []
            pages = _ocr(frames, source)
            ocr_report = report_from_pages(pages, source=source, source_kind=kind,
                                           title_hint=own_title or _title_hint(pages, title_hint), warnings=warn)
    except (OcrUnavailable, ValueError) as exc:
        report.warnings.append(f"OCR not done: {exc}")
        return report
    if ocr_report.status == "report":
        ocr_report.warnings.insert(0, f"tables are images; read by OCR ({ocr_report.source_kind})")
        return ocr_report
    report.warnings.append("OCR found no table 三/四 in the images")
    return report


# ---- HTML pages whose tables are images ------------------------------------------------------------------------
KEPT_SECTION_CHARS = 50  # a page's own section text shorter than this (a heading over a picture) gives way to OCR's


def page_images(srcs: list[str], base: str | None) -> list[tuple[str, bytes | None]]:
    """Given a page's content image addresses (:func:`crawler.parsers.images.content_images`) and the page's
    URL, return (absolute URL, bytes) in page order: the bytes of inline ``data:`` images, None for the images
    a fetcher has to get."""
    out: list[tuple[str, bytes | None]] = []
    for n, src in enumerate(srcs):
        if src.lower().startswith("data:"):
            out.append((f"data:page-image-{n + 1}", img_mod.data_uri_bytes(src)))
        else:
            out.append((urljoin(base or "", src), None))
    return out


def ocr_page_images(
    report: Report,
    srcs: list[str],
    *,
    base: str | None,
    fetched: Mapping[str, bytes] | None,
    source: str | None,
) -> Report:
    """Given the ``image_only`` report of an HTML page, its content images and the image bytes a fetcher got
    (URL → bytes; None: nothing was fetched yet), return the page's report with its tables read by OCR.

    Nothing fetched yet and images to fetch: the report is returned as it was, its ``images`` listing the
    URLs (``pending``) the crawler fetches before it asks again. Otherwise every image is accounted for in
    ``report.images`` (``read`` with its sha256 and pages, ``not-fetched``, ``small``, ``unreadable``,
    ``not-read``); when OCR finds table 三 or 四 the tables come from OCR and the title, agency, dates and
    narrative from the page itself (:func:`merge_page_ocr`)."""
    entries = page_images(srcs, base)
    # past the cap: listed, never fetched, and said (a report of more pages than this is cut, not silently)
    beyond = [{"url": url, "status": "not-read"} for url, _data in entries[img_mod.MAX_REPORT_IMAGES:]]
    if beyond:
        entries = entries[: img_mod.MAX_REPORT_IMAGES]
        report.warnings.append(f"the page has {len(entries) + len(beyond)} content images; only the first "
                               f"{img_mod.MAX_REPORT_IMAGES} are read")
    if fetched is None and any(data is None for _url, data in entries):
        report.images = [{"url": url, "status": "pending" if data is None else "inline"} for url, data in entries]
        report.images.extend(beyond)
        return report
    notes: list[dict[str, Any]] = []
    order: list[tuple[int, str, bytes]] = []
    for url, data in entries:
        blob = data if data is not None else (fetched or {}).get(url)
        notes.append({"url": url, "status": "not-fetched"})
        if blob:
            order.append((len(notes) - 1, url, blob))
    missing = len(entries) - len(order)
    if missing:
        report.warnings.append(f"{missing} of {len(entries)} images of the page could not be fetched; not OCR'd")
    notes.extend(beyond)
    report.images = notes
    if not order:
        return report
    try:
        pages, read, warns = read_blobs([blob for _i, _url, blob in order], source)
    except OcrUnavailable as exc:
        report.warnings.append(f"OCR not done: {exc}")
        return report
    for (i, url, blob), note in zip(order, read, strict=True):
        notes[i] = {"url": url, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob), **note}
    ocr = report_from_pages(pages, source=source, source_kind="html", title_hint=report.title,
                            published_hint=report.published, warnings=warns)
    if ocr.ocr is not None:
        for note in notes:
            for page in note.get("pages", ()):
                ocr.ocr["pages"][page - 1]["image"] = note["url"]
    if ocr.status != "report":
        report.warnings.append(f"OCR found no table 三/四 in the {len(order)} images of the page")
        return report
    merged = merge_page_ocr(report, ocr)
    merged.images = notes
    return merged


def merge_page_ocr(page: Report, ocr: Report) -> Report:
    """Given a page's own report (its tables are images) and the report OCR read from its images, return one
    report: tables from OCR (table 二 from the page when the page printed it as text), title, agency, year,
    dates and scope from the page when it has them, each section from the page unless the page's is only a
    heading, both texts, and the checks run again over the whole."""
    out = ocr
    out.source, out.source_kind = page.source, page.source_kind or "html"
    for attr in ("title", "agency", "year", "published"):
        if getattr(page, attr) is not None:
            setattr(out, attr, getattr(page, attr))
    if page.year is not None:
        out.year_source = page.year_source
    if page.scope != "unknown":
        out.scope = page.scope
    page_t2 = page.formats.get("t2", "none")
    if page_t2 not in ("none", "unreadable") and any(k.startswith("t2.") for k in page.cells):
        cells = {k: v for k, v in out.cells.items() if not k.startswith("t2.")}
        cells.update((k, v) for k, v in page.cells.items() if k.startswith("t2."))
        out.cells = dict(sorted(cells.items(), key=lambda kv: key_order(kv[0])))
        out.formats = {**out.formats, "t2": page_t2}
    sections = dict(out.sections)
    for key, text in page.sections.items():
        if len(text.strip()) >= KEPT_SECTION_CHARS or key not in sections:
            sections[key] = text
    out.sections = sections
    out.text = f"{page.text}\n\n{out.text}".strip()
    kept = [w for w in page.warnings if not w.startswith("tables are images (")]
    pages = len((ocr.ocr or {}).get("pages") or [])
    out.warnings = [f"tables are images; read by OCR ({pages} pages)", *kept, *out.warnings]
    out.checks = recheck(out)
    out.status, out.ok, out.error = "report", True, None
    return out
