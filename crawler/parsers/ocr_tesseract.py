"""The alternative OCR engine: Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-chi-sim``), run offline as a
subprocess. Given a page image, return the same :class:`crawler.parsers.ocr.OcrPage` RapidOCR gives, so the grid
and report code run unchanged on either engine.

- the page is deskewed first (the angle whose row profile of ink is sharpest), because Tesseract's word boxes
  are axis-aligned in the image it was given and rows of a rotated scan would not line up;
- ``tesseract stdin stdout -l chi_sim+eng --psm PSM tsv`` gives word boxes with confidences 0–100 (→ 0–1);
- words of one line that touch (gap below half the line height) are merged into one box, so a label or a number
  is one box; the merged box's confidence is its least confident word's. Between two CJK characters the texts
  are joined directly, otherwise with a space (so ``0 12`` stays splittable into cells by the grid).

A missing binary or language pack raises :class:`crawler.parsers.ocr.OcrUnavailable` with the reason.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.parsers.ocr_types import OcrBox, OcrPage, OcrUnavailable

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

NAME = "tesseract"
LANGS = "chi_sim+eng"
PSM = 6  # one uniform block: measured better than 11 (sparse text), which put wrong 0s in passing reports
TIMEOUT_S = 120  # per page
TOUCH = 0.5  # words closer than this × line height are one box
MAX_SKEW = 3.0  # degrees searched by the deskew
SKEW_STEP = 0.1
UPSCALE = 1.5  # the page is enlarged this much first (measured: 1.5 gave 58 cells right on 001+009, 2.0 46, 2.5 53)
RULE_LEN = 40  # px: an ink run this long is a table rule, not a character stroke


@dataclass(slots=True)
class _Word:
    key: tuple[int, int, int, int]  # page, block, paragraph, line
    x0: int
    y0: int
    x1: int
    y1: int
    text: str
    conf: float


@functools.lru_cache(maxsize=1)
def binary() -> str:
    """Given the PATH, return the tesseract binary with the languages it needs; else raise OcrUnavailable."""
    path = shutil.which("tesseract")
    if path is None:
        raise OcrUnavailable("tesseract not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    try:
        out = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrUnavailable(f"tesseract could not start: {type(exc).__name__}: {exc}") from exc
    have = set((out.stdout + out.stderr).split())
    missing = [lang for lang in LANGS.split("+") if lang not in have]
    if missing:
        raise OcrUnavailable(f"tesseract lacks language data {', '.join(missing)} (Debian: tesseract-ocr-chi-sim)")
    return path


def read_page(img: Image, *, psm: int = PSM, scale: float | None = None) -> OcrPage:
    """Given a page image, return its text boxes in deskewed page pixels, read by Tesseract."""
    exe = binary()
    from PIL import Image as PILImage

    gray = img.convert("L")
    skew = estimate_skew(gray)
    if skew:
        gray = gray.rotate(skew, resample=PILImage.Resampling.BILINEAR, fillcolor=255)
    clean = without_rules(gray)
    f = scale if scale is not None else UPSCALE
    if f != 1:  # Tesseract wants ~30 px letters; a 120 dpi scan prints digits ~10 px tall
        clean = clean.resize((int(clean.width * f), int(clean.height * f)), PILImage.Resampling.BICUBIC)
    buf = io.BytesIO()
    clean.save(buf, "PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    try:
        out = subprocess.run([exe, "stdin", "stdout", "-l", LANGS, "--psm", str(psm), "tsv"], input=buf.getvalue(),
                             capture_output=True, timeout=TIMEOUT_S, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrUnavailable(f"tesseract failed: {type(exc).__name__}: {exc}") from exc
    if out.returncode != 0:
        tail = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise OcrUnavailable(f"tesseract exited {out.returncode}: {tail[0]}")
    boxes = [OcrBox(b.x0 / f, b.y0 / f, b.x1 / f, b.y1 / f, b.text, b.conf)
             for b in merge_words(parse_tsv(out.stdout.decode("utf-8", "replace")))]
    boxes.sort(key=lambda b: (b.yc, b.x0))
    w, h = img.size
    return OcrPage(w, h, skew, boxes, gray)


def parse_tsv(tsv: str) -> list[_Word]:
    """Given Tesseract's TSV output, return its words (level 5) with text, in reading order."""
    words = []
    for line in tsv.splitlines()[1:]:
        f = line.split("\t")
        if len(f) < 12 or f[0] != "5":
            continue
        text = f[11].strip()
        try:
            conf = float(f[10])
            left, top, width, height = (int(v) for v in f[6:10])
        except ValueError:
            continue
        if not text or conf < 0:
            continue
        key = (int(f[1]), int(f[2]), int(f[3]), int(f[4]))
        words.append(_Word(key, left, top, left + width, top + height, text, min(conf, 100.0) / 100))
    return words


def merge_words(words: list[_Word]) -> list[OcrBox]:
    """Given words in reading order, return one box per run of touching words of the same line."""
    out: list[OcrBox] = []
    run: list[_Word] = []
    for word in words:
        if run and _touch(run[-1], word):
            run.append(word)
            continue
        if run:
            out.append(_box(run))
        run = [word]
    if run:
        out.append(_box(run))
    return out


def _touch(a: _Word, b: _Word) -> bool:
    if a.key != b.key:
        return False
    h = max(a.y1 - a.y0, b.y1 - b.y0, 1)
    return -h <= b.x0 - a.x1 <= TOUCH * h


def _box(run: list[_Word]) -> OcrBox:
    text = run[0].text
    for prev, word in itertools.pairwise(run):
        text += ("" if _cjk(prev.text[-1]) and _cjk(word.text[0]) else " ") + word.text
    return OcrBox(min(w.x0 for w in run), min(w.y0 for w in run), max(w.x1 for w in run), max(w.y1 for w in run),
                  text, min(w.conf for w in run))


def _cjk(ch: str) -> bool:
    return ord(ch) > 0x2E7F


def without_rules(gray: Image, length: int = RULE_LEN) -> Image:
    """Given a grey page, return it with its table rules (ink runs of `length` px or more, horizontal or vertical)
    painted white: Tesseract reads cell borders as letters (``|e |»``) and loses the digits beside them."""
    import numpy as np
    from PIL import Image as PILImage

    a = np.asarray(gray)
    ink = a < 200
    rule = _runs(ink, length, axis=1) | _runs(ink, length, axis=0)
    grown = rule.copy()  # the anti-aliased fringe of each rule
    grown[1:, :] |= rule[:-1, :]
    grown[:-1, :] |= rule[1:, :]
    grown[:, 1:] |= rule[:, :-1]
    grown[:, :-1] |= rule[:, 1:]
    out = a.copy()
    out[grown] = 255
    return PILImage.fromarray(out)


def _runs(ink, length: int, axis: int):  # type: ignore[no-untyped-def]
    """The pixels of `ink` that lie in a straight run of at least `length` along `axis`."""
    import numpy as np

    a = ink if axis == 1 else ink.T
    cs = np.cumsum(np.pad(a, ((0, 0), (1, 0))).astype(np.int32), axis=1)
    full = (cs[:, length:] - cs[:, :-length]) == length  # window starting at j is all ink
    marks = np.zeros(a.shape[1] + 1, dtype=np.int32)[None, :].repeat(a.shape[0], axis=0)
    marks[:, : full.shape[1]] += full
    marks[:, length : length + full.shape[1]] -= full
    covered = np.cumsum(marks, axis=1)[:, : a.shape[1]] > 0
    return covered if axis == 1 else covered.T


def estimate_skew(gray: Image) -> float:
    """Given a grey page, return the rotation (degrees, PIL's sense) that makes its ink rows sharpest; 0 if none."""
    import numpy as np
    from PIL import Image as PILImage

    f = min(1.0, 800 / max(gray.size))
    small = gray.resize((max(1, int(gray.width * f)), max(1, int(gray.height * f))), PILImage.Resampling.BILINEAR)
    ink = small.point(lambda v: 255 if v < 160 else 0)
    if not np.asarray(ink).any():
        return 0.0
    best, best_score = 0.0, -1.0
    steps = round(MAX_SKEW / SKEW_STEP)
    for i in range(-steps, steps + 1):
        angle = i * SKEW_STEP
        rows = np.asarray(ink.rotate(angle, resample=PILImage.Resampling.NEAREST, fillcolor=0), dtype=np.float64).sum(axis=1)
        score = float(np.square(np.diff(rows)).sum())
        if score > best_score + 1e-9 or (abs(score - best_score) <= 1e-9 and abs(angle) < abs(best)):
            best, best_score = angle, score
    return round(best, 2)
