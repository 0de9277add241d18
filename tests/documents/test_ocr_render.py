"""Renderings of the real fixtures for the OCR tests and bench/ocr.py: HTML → headless Chromium screenshot →
scan noise (skew, scale, dpi, JPEG quality) → image or image-only PDF; plus synthetic OCR pages laid out
from the same grids (for the geometry and confidence tests, no engine needed). The tests here check the
renderers themselves."""

from __future__ import annotations

import html
import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from crawler.parsers import keys
from crawler.parsers.ocr import OcrBox, OcrPage

from . import builders as b

CSS = (
    "body{font-family:'Noto Sans CJK SC','Noto Serif CJK SC',sans-serif;font-size:16px;margin:30px;background:#fff}"
    "table{border-collapse:collapse;margin:10px 0}td{border:1px solid #000;padding:4px 6px;text-align:center}"
)


def grid_html(grid: b.Grid) -> str:
    """Given a builders grid, return it as an HTML table with its row/col spans."""
    rows: dict[int, list[b.GridCell]] = {}
    for c in grid.cells:
        rows.setdefault(c.row, []).append(c)
    out = ["<table>"]
    for r in range(grid.n_rows):
        tds = "".join(
            f'<td rowspan="{c.rowspan}" colspan="{c.colspan}">{html.escape(c.text)}</td>'
            for c in sorted(rows.get(r, []), key=lambda c: c.col)
        )
        out.append(f"<tr>{tds}</tr>")
    out.append("</table>")
    return "".join(out)


def report_html(model: b.ReportModel) -> str:
    """The report's title, overview and three tables as one HTML page."""
    parts = [f"<html><head><meta charset='utf-8'><style>{CSS}</style></head><body><h2>{html.escape(model.title)}</h2>",
             f"<p>{html.escape(model.overview)}</p>"]
    for heading, grid in ((b.SECTIONS[1], model.t2), (b.SECTIONS[2], model.t3), (b.SECTIONS[3], model.t4)):
        parts.append(f"<h3>{heading}</h3>{grid_html(grid)}")
    parts.append("</body></html>")
    return "".join(parts)


def screenshot(page: str, chromium: str, width: int = 1400, height: int = 2600) -> Image.Image:
    """Given an HTML page, return headless Chromium's screenshot of it (cropped to the content)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, png = Path(tmp) / "page.html", Path(tmp) / "shot.png"
        src.write_text(page, encoding="utf-8")
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}",
             f"--user-data-dir={tmp}/profile", f"--screenshot={png}", src.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        img = Image.open(png).convert("RGB")
    gray = img.convert("L").point(lambda v: 255 if v < 250 else 0)
    box = gray.getbbox()
    if box:
        img = img.crop((0, 0, width, min(height, box[3] + 40)))
    return img


def noisy(img: Image.Image, *, skew: float = 1.0, scale: float = 0.8) -> Image.Image:
    """A scan of the page: rotated by `skew` degrees and scaled by `scale`."""
    out = img.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")
    return out.resize((int(out.width * scale), int(out.height * scale)), Image.Resampling.LANCZOS)


def jpeg(img: Image.Image, *, dpi: int = 120, quality: int = 60) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buf.getvalue()


def png(img: Image.Image, *, dpi: int = 120) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def image_pdf(pages: list[Image.Image], *, dpi: int = 120, quality: int = 60) -> bytes:
    """An image-only PDF (no text layer): each page one JPEG image at `dpi`."""
    frames = [Image.open(io.BytesIO(jpeg(p, dpi=dpi, quality=quality))) for p in pages]
    buf = io.BytesIO()
    frames[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=frames[1:])
    return buf.getvalue()


def split_pages(img: Image.Image, parts: int = 2) -> list[Image.Image]:
    """The image cut into `parts` pages, top to bottom."""
    step = img.height // parts
    return [img.crop((0, i * step, img.width, img.height if i == parts - 1 else (i + 1) * step)) for i in range(parts)]


# --- synthetic OCR pages from the grids ---------------------------------------------------------------------

CELL_W, CELL_H, CHAR_W = 70, 30, 14


def synthetic_page(model: b.ReportModel, conf: dict[str, float] | None = None, text: dict[str, str] | None = None) -> OcrPage:
    """What a perfect OCR would give for the report's three tables: one box per printed cell, centred in the
    cell (label columns 4 units wide), conf 0.99 unless `conf` names the key; `text` overrides a value."""
    conf, text = conf or {}, text or {}
    boxes: list[OcrBox] = [_box(40, 20, 40 + CHAR_W * len(model.title), model.title, 0.99)]
    y = 80
    for heading, grid in ((b.SECTIONS[1], model.t2), (b.SECTIONS[2], model.t3), (b.SECTIONS[3], model.t4)):
        boxes.append(_box(40, y, 40 + CHAR_W * len(heading), heading, 0.99))
        y += 2 * CELL_H
        label_cols = 3 if grid.name == "t3" else (1 if grid.name == "t2" else 0)
        keyed = _keyed_cells(model, grid)
        for c in grid.cells:
            if not c.text and id(c) not in keyed:
                continue
            x0 = _col_x(c.col, label_cols)
            x1 = _col_x(c.col + c.colspan, label_cols)
            key = keyed.get(id(c))
            shown = text.get(key, c.text) if key else c.text
            if not shown:
                continue
            width = min(x1 - x0 - 6, CHAR_W * len(shown))
            xc, yc = (x0 + x1) / 2, y + (c.row + c.rowspan / 2) * CELL_H
            boxes.append(OcrBox(xc - width / 2, yc - 10, xc + width / 2, yc + 10, shown, conf.get(key or "", 0.99)))
        y += (grid.n_rows + 1) * CELL_H
    return OcrPage(1600, y + 40, 0.0, boxes)


def _box(x0: float, y: float, x1: float, t: str, c: float) -> OcrBox:
    return OcrBox(x0, y, x1, y + 20, t, c)


def _col_x(col: int, label_cols: int) -> float:
    label_w = 4 * CELL_W
    if col <= label_cols:
        return 20 + col * label_w
    return 20 + label_cols * label_w + (col - label_cols) * CELL_W


def _keyed_cells(model: b.ReportModel, grid: b.Grid) -> dict[int, str]:
    out: dict[int, str] = {}
    if grid.name == "t3":
        for row_key, r in grid.data_rows.items():
            for j, col in enumerate(keys.T3_COLS):
                cell = next(c for c in grid.cells if c.row == r and c.col == 3 + j)
                out[id(cell)] = f"{row_key}.{col}"
    elif grid.name == "t4":
        for j, key in enumerate(keys.T4_KEYS):
            out[id(next(c for c in grid.cells if c.row == 3 and c.col == j))] = key
    return out


def score(report, model: b.ReportModel) -> tuple[int, int, list[str]]:  # type: ignore[no-untyped-def]
    """(cells right, cells unknown, wrong cells as 'key: got, want') over the fixture's expected cells."""
    right, unknown, wrong = 0, 0, []
    for k, want in model.expected.items():
        got = report.value(k)
        if got == want and k in report.cells:
            right += 1
        elif got is None:
            unknown += 1
        else:
            wrong.append(f"{k}: got {got!r}, want {want!r}")
    return right, unknown, wrong


# --- tests of the renderers ----------------------------------------------------------------------------------


def test_noise_keeps_the_page_and_sets_the_scan_parameters():
    page = Image.new("RGB", (1000, 800), "white")
    out = noisy(page)
    assert abs(out.width - int((1000 + 800 * 0.01745) * 0.8)) <= 4
    data = jpeg(out)
    assert Image.open(io.BytesIO(data)).info["dpi"] == (120, 120)
    pdf = image_pdf(split_pages(out))
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Subtype /Image") == 2


def test_synthetic_page_prints_every_expected_value():
    model = b.build_model("001")
    page = synthetic_page(model)
    texts = [bx.text for bx in page.boxes]
    assert "申请人情况" in texts and "复议后起诉" in texts
    assert sum(1 for t in texts if t.isdigit()) >= len(model.expected)
