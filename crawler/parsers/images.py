"""Image-only reports: recognise them and hand their images to a later OCR step.

A report is image-only when its tables are pictures: a scanned PDF (pages that are one big image and
carry no text layer), a DOCX/HTML body made of images, or a title marked （图片版）. The readers list the
images they find in ``Extracted.images`` (``page<N>/image<M>`` for PDF, package names such as
``word/media/image1.png`` for DOCX); :func:`looks_image_only` is the signal, and :func:`extract_images`
returns the image bytes for OCR. Pure functions: bytes in, values out.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile

from crawler.parsers.model import Extracted

logger = logging.getLogger(__name__)

IMAGE_TITLE_RE = re.compile(r"[（(【\[]\s*(?:图片版|扫描版|图片|扫描件)\s*[）)】\]]")
TABLE_WORDS = ("申请人情况", "本年新收", "予以公开", "结果维持", "信息内容")
MAX_IMAGES = 200
MAX_IMAGE_BYTES = 30 * 1024 * 1024


def is_image_title(title: str | None) -> bool:
    """True for titles marked as the picture version of a report, e.g. ``…年度报告（图片版）``."""
    return bool(title and IMAGE_TITLE_RE.search(title))


def looks_image_only(ex: Extracted) -> bool:
    """The reader's signal: images, no table rows, and no table labels in the text (or an image title)."""
    if is_image_title(ex.title_hint):
        return True
    if not ex.images or ex.rows:
        return False
    return not any(word in ex.text for word in TABLE_WORDS)


def extract_images(data: bytes, kind: str) -> list[tuple[str, bytes]]:
    """The images of a ``pdf`` or ``docx`` document as (name, bytes), names as in ``Extracted.images``.

    PDF images come as their stored stream (JPEG stays JPEG; other filters give the decoded samples).
    Bad input gives an empty list and a log line, never an exception."""
    try:
        if kind == "docx":
            return _docx_images(data)
        if kind == "pdf":
            return _pdf_images(data)
    except Exception as exc:
        logger.warning("could not extract images from %s: %s", kind, exc)
    return []


def _docx_images(data: bytes) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if not info.filename.startswith("word/media/") or info.file_size > MAX_IMAGE_BYTES:
                continue
            with zf.open(info) as fh:
                blob = fh.read(MAX_IMAGE_BYTES + 1)
            if len(blob) <= MAX_IMAGE_BYTES:
                out.append((info.filename, blob))
            if len(out) >= MAX_IMAGES:
                break
    return out


def _pdf_images(data: bytes) -> list[tuple[str, bytes]]:
    import pdfplumber

    out: list[tuple[str, bytes]] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for n, page in enumerate(pdf.pages[:MAX_IMAGES]):
            for i, img in enumerate(page.images):
                stream = img.get("stream")
                if stream is None:
                    continue
                filters = [f.name if hasattr(f, "name") else str(f) for f in stream.get_filters() for f in [f[0]]]
                blob = stream.get_rawdata() if "DCTDecode" in filters else stream.get_data()
                if blob and len(blob) <= MAX_IMAGE_BYTES:
                    out.append((f"page{n + 1}/image{i + 1}", blob))
                if len(out) >= MAX_IMAGES:
                    return out
            page.close()
    return out
