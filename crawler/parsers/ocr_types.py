"""The OCR page model every engine returns: boxes of recognised text in deskewed page pixels, with confidences.

Engines (:mod:`crawler.parsers.ocr` for RapidOCR, :mod:`crawler.parsers.ocr_tesseract`) import these types from
here, so the engine registry in ``ocr.py`` can import an engine without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENGINE = "rapidocr"  # the default engine


class OcrUnavailable(RuntimeError):
    """The OCR engine (rapidocr + onnxruntime, or the tesseract binary) is not installed or cannot start."""


@dataclass(slots=True)
class OcrBox:
    """One recognised text line: its axis-aligned box in (deskewed) page pixels, text and confidence."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    conf: float

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    def to_json(self) -> list[Any]:
        return [round(self.x0), round(self.y0), round(self.x1), round(self.y1), self.text, round(self.conf, 4)]


@dataclass(slots=True)
class OcrPage:
    """The boxes of one page, the page size and the skew (degrees) that was taken out."""

    width: int
    height: int
    skew: float
    boxes: list[OcrBox]
    image: Any = None  # the page in grey, deskewed like the boxes (for the ink test of empty cells; not stored)
    engine: str = ENGINE  # the engine that read the page

    def to_json(self) -> dict[str, Any]:
        return {"size": [self.width, self.height], "skew": round(self.skew, 3), "engine": self.engine,
                "boxes": [b.to_json() for b in self.boxes]}
