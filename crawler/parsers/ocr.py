"""Offline OCR of report images: image bytes in, text boxes out.

The default engine is RapidOCR (Apache-2.0) on onnxruntime; its wheel ships the PP-OCRv6 Chinese detection and
recognition models, so nothing is downloaded at run time. The alternative is Tesseract (Debian
``tesseract-ocr-chi-sim``, :mod:`crawler.parsers.ocr_tesseract`), chosen by ``read_page(img, engine="tesseract")``
or the environment setting ``OGI_OCR_ENGINE=tesseract``; both give the same boxes. Pages are deskewed from the boxes themselves
(the slope of the text lines) so that rows of a slightly rotated scan still line up.

    pages = load_pages(data)            # PNG/JPEG/GIF/TIFF/BMP/WebP bytes, or a PDF rendered page by page
    boxes = read_page(image)            # [OcrBox(x0, y0, x1, y1, text, conf), …] in deskewed page pixels
"""

from __future__ import annotations

import io
import logging
import math
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

ENGINES = ("rapidocr", "tesseract")
ENGINE_ENV = "OGI_OCR_ENGINE"  # setting that chooses the engine when read_page is not told
MAX_PAGES = 20  # pages OCR'd per document (≈ 6 s each on one CPU core pair)
MAX_PIXELS = 40_000_000  # per page: larger images are scaled down before OCR
PDF_DPI = 150  # PDF pages are rendered at this resolution
# onnxruntime threads per OCR engine: more add little on one page and each reserves memory (parse workers run
# under an address-space cap)
OCR_THREADS = max(1, min(4, os.cpu_count() or 1))
MIN_SIDE = 1000  # small images are scaled up to this shorter side (tiny digits read badly)

IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


# the page model every engine returns (crawler/parsers/ocr_types.py, so engines import it without a cycle)
from crawler.parsers.ocr_types import ENGINE as ENGINE  # noqa: E402
from crawler.parsers.ocr_types import OcrBox as OcrBox  # noqa: E402
from crawler.parsers.ocr_types import OcrPage as OcrPage  # noqa: E402
from crawler.parsers.ocr_types import OcrUnavailable as OcrUnavailable  # noqa: E402


def image_kind(data: bytes) -> str | None:
    """Given document bytes, return the image format name when they are an image file, else None."""
    for magic, kind in IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM" and len(data) > 26 and data[6:10] == b"\x00\x00\x00\x00":  # BMP: reserved words 0
        return "bmp"
    return None


def load_pages(data: bytes, max_pages: int = MAX_PAGES) -> tuple[list[Image], int]:
    """Given image or PDF bytes, return (page images as RGB, number of pages in the document).

    Multi-frame TIFF/GIF give one page per frame. Raises ValueError for bytes that are neither."""
    if data.startswith(b"%PDF") or data[:1024].lstrip().startswith(b"%PDF"):
        return render_pdf(data, max_pages=max_pages)
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS * 4  # bomb guard; big scans are scaled down below
    try:
        img = Image.open(io.BytesIO(data))
        frames = []
        total = getattr(img, "n_frames", 1)
        for frame in ImageSequence.Iterator(img):
            frames.append(_fit(ImageOps.exif_transpose(frame.copy()) or frame.copy()))
            if len(frames) >= max_pages:
                break
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"unreadable image: {exc}") from exc
    return frames, total


def render_pdf(data: bytes, *, dpi: int = PDF_DPI, max_pages: int = MAX_PAGES) -> tuple[list[Image], int]:
    """Given PDF bytes, return (its first pages rendered to RGB images at `dpi`, the page count)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ValueError(f"unreadable PDF: {exc}") from exc
    try:
        total = len(pdf)
        out = []
        for i in range(min(total, max_pages)):
            page = pdf[i]
            out.append(_fit(page.render(scale=dpi / 72).to_pil()))
            page.close()
        return out, total
    finally:
        pdf.close()


def _fit(img: Image) -> Image:
    """RGB on white, scaled into [MIN_SIDE, MAX_PIXELS]."""
    from PIL import Image as PILImage

    if img.mode in ("RGBA", "LA", "P", "PA"):
        img = img.convert("RGBA")
        bg = PILImage.new("RGB", img.size, "white")
        bg.paste(img, mask=img.getchannel("A"))
        img = bg
    elif img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    if w * h > MAX_PIXELS:
        f = math.sqrt(MAX_PIXELS / (w * h))
        img = img.resize((max(1, int(w * f)), max(1, int(h * f))), PILImage.Resampling.LANCZOS)
    elif 0 < min(w, h) < MIN_SIDE:
        f = min(MIN_SIDE / min(w, h), 3.0)
        img = img.resize((int(w * f), int(h * f)), PILImage.Resampling.BICUBIC)
    return img


# --- the engine ---------------------------------------------------------------------------------------------

_engine: Any = None
_lock = threading.Lock()


def engine() -> Any:
    """The process-wide RapidOCR instance (models from the wheel; created on first use)."""
    global _engine
    with _lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise OcrUnavailable(f"rapidocr not installed: {exc}") from exc
            try:
                _engine = RapidOCR(params={"Global.log_level": "warning", "Global.use_cls": False,
                                           "EngineConfig.onnxruntime.intra_op_num_threads": OCR_THREADS})
            except Exception as exc:  # the engine's own errors (missing model file, onnxruntime)
                raise OcrUnavailable(f"rapidocr could not start: {type(exc).__name__}: {exc}") from exc
            logging.getLogger("RapidOCR").propagate = True
        return _engine


def engine_name(engine: str | None = None) -> str:
    """Given an engine name or None (then ``OGI_OCR_ENGINE``, else rapidocr), return it checked; an unknown
    name raises OcrUnavailable saying which names exist."""
    name = (engine or os.environ.get(ENGINE_ENV) or ENGINE).strip().lower()
    if name not in ENGINES:
        raise OcrUnavailable(f"unknown OCR engine {name!r} (expected one of {', '.join(ENGINES)}; set by {ENGINE_ENV})")
    return name


def read_page(img: Image, engine: str | None = None) -> OcrPage:
    """Given a page image, return its text boxes, deskewed (rotated about the page centre by the skew), read by
    `engine` (None: ``OGI_OCR_ENGINE``, else rapidocr)."""
    if engine_name(engine) == "tesseract":
        from crawler.parsers import ocr_tesseract

        page = ocr_tesseract.read_page(img)
        page.engine = ocr_tesseract.NAME
        return page
    return _read_rapidocr(img)


def _read_rapidocr(img: Image) -> OcrPage:
    out = engine()(img)
    quads = [] if out.boxes is None else [[(float(x), float(y)) for x, y in q] for q in out.boxes]
    txts = list(out.txts or ())
    scores = [float(s) for s in (out.scores or ())]
    skew = estimate_skew(quads)
    w, h = img.size
    boxes = [_box(q, t, s, skew, w / 2, h / 2) for q, t, s in zip(quads, txts, scores, strict=True) if t.strip()]
    boxes.sort(key=lambda b: (b.yc, b.x0))
    gray = img.convert("L").rotate(skew, resample=_bilinear(), fillcolor=255)  # the same rotation as the boxes'
    return OcrPage(w, h, skew, boxes, gray)


def _bilinear() -> Any:
    from PIL import Image as PILImage

    return PILImage.Resampling.BILINEAR


def estimate_skew(quads: list[list[tuple[float, float]]]) -> float:
    """Given text-line quadrilaterals (TL, TR, BR, BL), return the median slope of the long ones, in degrees."""
    angles = []
    for q in quads:
        (x0, y0), (x1, y1) = q[0], q[1]
        (_xb, yb) = q[3]
        width, height = x1 - x0, abs(yb - y0)
        if width > 3 * max(height, 1) and width > 40:
            angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    if not angles:
        return 0.0
    angles.sort()
    return angles[len(angles) // 2]


def _box(q: list[tuple[float, float]], text: str, conf: float, skew: float, cx: float, cy: float) -> OcrBox:
    a = math.radians(-skew)
    ca, sa = math.cos(a), math.sin(a)
    pts = [(cx + (x - cx) * ca - (y - cy) * sa, cy + (x - cx) * sa + (y - cy) * ca) for x, y in q]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return OcrBox(min(xs), min(ys), max(xs), max(ys), text.strip(), conf)
