"""Make the sample portal's picture report (ogi/demo/assets/): real fixture 010's cells as 某某部机关服务局's 2023
report, rendered by headless Chromium and cut into three JPEG page images, as portals publish a …（图片版）.

    .venv/bin/python scripts/demo_images.py   (needs chromium: scripts/setup-system.sh installs it)

The images are committed, so `ogi demo` needs neither Chromium nor this script; run it again only to change them.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from ogi.demo import synth  # noqa: E402
from ogi.demo.portal import IMAGE_REPORT, REPORTS_DIR  # noqa: E402
from ogi.demo.render import render  # noqa: E402
from tests.documents.test_ocr_render import screenshot  # noqa: E402  (the renderer the OCR tests use)

ASSETS = ROOT / "ogi" / "demo" / "assets"


def white_row(img: Image.Image, near: int) -> int:
    """The row nearest ``near`` in which every pixel is white (between two blocks or table rows' text): a page
    boundary never cuts through a line of text."""
    grey = img.convert("L")
    w, h = grey.size
    px = grey.load()
    assert px is not None
    for d in range(h // 8):
        for y in (near - d, near + d):
            if 0 < y < h and all(px[x, y] > 245 for x in range(0, w, 2)):  # type: ignore[operator]
                return y
    return near


def pages(img: Image.Image, n: int) -> list[Image.Image]:
    """The image cut into ``n`` pages at white rows near equal heights."""
    cuts = [0, *(white_row(img, img.height * k // n) for k in range(1, n)), img.height]
    return [img.crop((0, top, img.width, bottom)) for top, bottom in itertools.pairwise(cuts)]


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium not installed (scripts/setup-system.sh installs it)", file=sys.stderr)
        return 2
    data = json.loads((REPORTS_DIR / IMAGE_REPORT["fixture"]).read_text(encoding="utf-8"))
    rep = synth.from_expected(data["expected_cells"], data["format"], IMAGE_REPORT["agency"], IMAGE_REPORT["year"])
    shot = screenshot(render(rep, "official_html").decode("utf-8"), chromium, width=1200, height=9000)
    ASSETS.mkdir(exist_ok=True)
    names = IMAGE_REPORT["images"]
    for n, part in enumerate(pages(shot, len(names))):
        buf = io.BytesIO()
        part.save(buf, "JPEG", quality=85)
        (ASSETS / names[n]).write_bytes(buf.getvalue())
        print(f"{names[n]}: {part.size[0]}x{part.size[1]}, {len(buf.getvalue())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
