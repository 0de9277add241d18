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
from typing import Any

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


# ---- the images of an HTML report page -----------------------------------------------------------------------
# where an image's address is: lazy-loading templates keep it in a data- attribute and put a placeholder in src
_IMG_SRC_ATTRS = ("data-original", "data-src", "data-lazy-src", "original", "src")
# page chrome, by file name or path: logos, icons, QR codes (二维码: erweima/ewm), share buttons, the 党政机关
# badge (dzjg), 无障碍 (wza) and 纠错 (jiucuo) icons, spacers and loading placeholders
_CHROME_IMG_RE = re.compile(
    r"logo|icon|favicon|banner|qrcode|erweima|ewm|share|weixin|weibo|wechat|jiucuo|dzjg|wza|spacer|blank\.|loading"
    r"|/images?/(?:common|public|index|top|foot|head|nav)|/(?:skin|style|css|theme)s?/",
    re.I,
)
# containers that hold a page's chrome rather than its article
_CHROME_BOX_RE = re.compile(r"nav|crumb|menu|header|footer|sidebar|share|related|friend|yqlj|banner|toolbar", re.I)
# containers that hold an article's body (TRS, Hanweb, gkmlpt and common templates) …
_ARTICLE_BOX_RE = re.compile(
    r"TRS_Editor|TRS_UEDITOR|Custom_UnionStyle|UCAP-CONTENT|zoom|article[_-]?(?:content|con|body|text|txt)|"
    r"pages?_content|news_?(?:text|cont)|wenzhang|zhengwen|xxgk_?(?:nr|content)|detail",
    re.I,
)
# … and the wider boxes of a page's main column (which may also hold a column banner)
_MAIN_BOX_RE = re.compile(r"content|article|view|main|txt|\bnr\b|\bcon\b", re.I)
MIN_DECLARED_SIDE = 200  # an <img> declaring a smaller width or height is chrome (an icon, a bullet)
MAX_REPORT_IMAGES = 60  # images of one report page fetched and OCR'd (the rest are listed ``not-read``)


def _attr_side(value: str | None) -> int | None:
    m = re.match(r"\s*(\d+)\s*(?:px)?\s*$", value or "")
    return int(m.group(1)) if m else None


def _img_src(img: Any) -> str | None:
    for attr in _IMG_SRC_ATTRS:
        src = (img.get(attr) or "").strip()
        if src and not src.lower().startswith(("javascript:", "about:")):
            return src
    return None


def _box_kind(el: Any) -> str | None:
    """Given an element, return the kind of box it is in, by its enclosing elements' tags, classes and ids,
    nearest first: ``chrome`` (navigation, header, footer …), ``article`` (an article body), ``main`` (the
    main column only), or None."""
    main = False
    for a in el.iterancestors():
        names = f"{a.get('class', '')} {a.get('id', '')}"
        if a.tag in ("nav", "header", "footer", "aside") or _CHROME_BOX_RE.search(names):
            return "chrome"
        if _ARTICLE_BOX_RE.search(names):
            return "article"
        main = main or bool(_MAIN_BOX_RE.search(names))
    return "main" if main else None


def content_images(body: Any) -> list[str]:
    """Given the ``<body>`` element of an HTML page (lxml), return the addresses of its content images in page
    order, as written (lazy-load attributes first): page chrome (logos, icons, QR codes, badges, images in
    navigation, header or footer boxes, images declaring a side under :data:`MIN_DECLARED_SIDE`) is left out;
    when some images are inside an article body only those are kept (else those of the main column)."""
    found: list[tuple[str, str | None]] = []
    for img in body.iter("img"):
        src = _img_src(img)
        if src is None:
            continue
        if not src.lower().startswith("data:") and _CHROME_IMG_RE.search(src.split("?")[0]):
            continue
        sides = [_attr_side(img.get(a)) for a in ("width", "height")]
        if any(s is not None and s < MIN_DECLARED_SIDE for s in sides):
            continue
        box = _box_kind(img)
        if box != "chrome":
            found.append((src, box))
    for narrowest in ("article", "main"):  # images in an article body, else in the main column, else all
        if any(box == narrowest for _src, box in found):
            found = [f for f in found if f[1] == narrowest]
            break
    return list(dict.fromkeys(src for src, _box in found))


def data_uri_bytes(src: str) -> bytes | None:
    """Given an ``<img>`` address, return the bytes of a base64 ``data:image/…`` URI, else None."""
    import base64
    import binascii

    m = re.match(r"data:image/[\w.+-]+;base64,", src[:100], re.I)
    if not m:
        return None
    try:
        return base64.b64decode(re.sub(r"\s+", "", src[m.end():]), validate=False)
    except (binascii.Error, ValueError):
        return None
