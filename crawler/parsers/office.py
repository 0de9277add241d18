"""Legacy office documents (DOC, WPS, XLS) through LibreOffice, and spreadsheets (XLSX) directly.

    convert_with_libreoffice(data, ext, target, *, timeout=...) -> bytes
    extract_office(data, *, url=None, content_type=None) -> Extracted
    extract_xlsx(data) -> Extracted

The only module of ``crawler/parsers`` that does I/O: each conversion runs ``soffice --headless`` in a
fresh temporary directory (its own user profile, so parallel conversions do not share a lock), under a
time limit after which the whole process group is killed. Without LibreOffice the reason is
``converter not available: …``. Word-like files (DOC, WPS, RTF) become DOCX and go through
:func:`crawler.parsers.docx_tables.extract_docx`; spreadsheets become XLSX and are read with openpyxl
(merged ranges become ``span`` / ``copy`` cells, as in HTML tables).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from crawler.parsers.model import Cell, Extracted, ParseError
from crawler.parsers.normalize import fold_extracted

logger = logging.getLogger(__name__)

CONVERT_TIMEOUT = 120.0  # seconds for one soffice run
MAX_INPUT_BYTES = 60 * 1024 * 1024
MAX_OUTPUT_BYTES = 80 * 1024 * 1024
MAX_SHEET_ROWS = 5_000
MAX_SHEET_COLS = 64
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_EXTS = frozenset({"doc", "wps", "rtf", "odt", "docx", "wpt", "dot"})
SHEET_EXTS = frozenset({"xls", "xlsx", "et", "ods", "csv"})
_FILTERS = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML", "pdf": "pdf"}


def soffice_path() -> str | None:
    """The LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(data: bytes, ext: str, target: str, *, timeout: float = CONVERT_TIMEOUT) -> bytes:
    """Convert ``data`` (a file with extension ``ext``) to ``target`` ("docx", "xlsx", "pdf", …) with
    LibreOffice headless, in a temporary directory, within ``timeout`` seconds.

    Raises :class:`ParseError` with a clear reason: converter not available, time limit, conversion failed."""
    exe = soffice_path()
    if exe is None:
        raise ParseError("converter not available: LibreOffice (soffice) is not installed")
    if len(data) > MAX_INPUT_BYTES:
        raise ParseError(f"document too large to convert: {len(data)} bytes (limit {MAX_INPUT_BYTES})")
    ext = ext.lower().lstrip(".") or "bin"
    with tempfile.TemporaryDirectory(prefix="ogi-soffice-") as tmp:
        tmpdir = Path(tmp)
        src = tmpdir / f"document.{ext}"
        src.write_bytes(data)
        out_dir = tmpdir / "out"
        out_dir.mkdir()
        cmd = [
            exe,
            f"-env:UserInstallation={(tmpdir / 'profile').as_uri()}",
            "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nofirststartwizard",
            "--convert-to", _FILTERS.get(target, target),
            "--outdir", str(out_dir),
            str(src),
        ]
        env = {**os.environ, "HOME": str(tmpdir), "SAL_USE_VCLPLUGIN": "svp"}
        try:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmpdir, env=env, start_new_session=True
            )
        except OSError as exc:
            raise ParseError(f"converter not available: {exc}") from exc
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise ParseError(f"conversion time limit: LibreOffice took more than {timeout:.0f}s") from exc
        produced = out_dir / f"document.{target}"
        if not produced.exists():
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            raise ParseError(
                f"conversion failed: LibreOffice could not convert .{ext} to .{target}"
                + (f" ({detail[0][:160]})" if detail else f" (exit {proc.returncode})")
            )
        size = produced.stat().st_size
        if size > MAX_OUTPUT_BYTES:
            raise ParseError(f"conversion output too large: {size} bytes")
        return produced.read_bytes()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        logger.warning("soffice (pid %d) did not exit after SIGKILL", proc.pid)


# --- kinds ----------------------------------------------------------------------------------------------


def guess_ext(data: bytes, url: str | None = None, content_type: str | None = None) -> str:
    """doc | wps | xls | xlsx | docx | rtf from the URL suffix, the content type, and the bytes."""
    name = (url or "").lower().split("?")[0].split("#")[0]
    suffix = name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in WORD_EXTS | SHEET_EXTS:
        return suffix
    ct = (content_type or "").lower()
    if "spreadsheetml" in ct:
        return "xlsx"
    if "excel" in ct or "spreadsheet" in ct:
        return "xls"
    if "wordprocessingml" in ct:
        return "docx"
    if "msword" in ct:
        return "doc"
    if "wps" in ct or "kingsoft" in ct:
        return "wps"
    if data[:5] == b"{\\rtf":
        return "rtf"
    if data[:4] == b"PK\x03\x04":
        head = data[:65536]
        return "xlsx" if b"xl/" in head else "docx"
    if data[:8] == OLE_MAGIC:
        return _ole_kind(data)
    return "doc"


def _ole_kind(data: bytes) -> str:
    """Tell Word, Excel and WPS binaries apart by the stream names in the OLE directory."""
    utf16 = lambda s: s.encode("utf-16-le")  # noqa: E731
    sample = data[: 4 * 1024 * 1024]
    if utf16("WordDocument") in sample:
        return "doc"
    if utf16("Workbook") in sample:
        return "xls"
    if utf16("WpsCustomData") in sample or utf16("Kingsoft") in sample:
        return "wps"
    if utf16("Book") in sample:  # BIFF5 workbooks
        return "xls"
    return "doc"


def _is_encrypted_ole(data: bytes) -> bool:
    sample = data[: 4 * 1024 * 1024]
    return "EncryptedPackage".encode("utf-16-le") in sample or "EncryptionInfo".encode("utf-16-le") in sample


def extract_office(data: bytes, *, url: str | None = None, content_type: str | None = None) -> Extracted:
    """Read a DOC / WPS / RTF (→ DOCX) or XLS / XLSX (→ rows) document into an Extracted."""
    ext = guess_ext(data, url, content_type)
    if data[:8] == OLE_MAGIC and _is_encrypted_ole(data):
        raise ParseError("encrypted document: password-protected Office file")
    if ext == "xlsx" and data[:4] == b"PK\x03\x04":
        return extract_xlsx(data)
    if ext in SHEET_EXTS:
        ex = extract_xlsx(convert_with_libreoffice(data, ext, "xlsx"))
        ex.source_kind = ext
        ex.path = f"{ext}-grid"
        ex.text_path = f"{ext}-text"
        return ex
    from crawler.parsers.docx_tables import extract_docx

    if ext == "docx" and data[:4] == b"PK\x03\x04":
        return extract_docx(data)
    try:
        converted = convert_with_libreoffice(data, ext, "docx")
    except ParseError as exc:
        # a WPS file is often a Word binary in disguise (and the reverse): try the other import filter
        if ext not in ("wps", "doc") or "conversion failed" not in str(exc):
            raise
        converted = convert_with_libreoffice(data, "doc" if ext == "wps" else "wps", "docx")
    ex = extract_docx(converted)
    ex.source_kind = ext
    ex.path = f"{ext}-grid"
    ex.text_path = f"{ext}-text"
    return ex


# --- spreadsheets ---------------------------------------------------------------------------------------


def extract_xlsx(data: bytes) -> Extracted:
    """Read every sheet of an XLSX into rows (merged ranges → span / copy cells) and tab-separated text."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ParseError(f"corrupt or truncated XLSX: {exc}") from exc
    if total > MAX_XLSX_UNCOMPRESSED:
        raise ParseError(f"XLSX looks like a zip bomb: {total} bytes uncompressed")
    try:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as exc:
        raise ParseError(f"corrupt XLSX: {type(exc).__name__}: {str(exc)[:120]}") from exc
    rows: list[list[Cell]] = []
    lines: list[str] = []
    for ws in wb.worksheets:
        if ws.max_row > MAX_SHEET_ROWS:
            raise ParseError(f"spreadsheet too large: {ws.max_row} rows in sheet {ws.title!r}")
        origin: dict[tuple[int, int], tuple[int, int, int]] = {}  # (r, c) -> (top row, left col, colspan)
        for rng in ws.merged_cells.ranges:
            span = rng.max_col - rng.min_col + 1
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    origin[(r, c)] = (rng.min_row, rng.min_col, span)
        n_cols = min(ws.max_column, MAX_SHEET_COLS)
        for r in range(1, ws.max_row + 1):
            row: list[Cell] = []
            c = 1
            while c <= n_cols:
                top, left, span = origin.get((r, c), (r, c, 1))
                if left != c:  # inside a horizontal merge
                    c += 1
                    continue
                text = _cell_text(ws.cell(top, left).value)
                row.append(Cell(text, c - 1, span, copy=top != r))
                c += span
            if any(cell.text.strip() for cell in row):
                rows.append(row)
                lines.append("\t".join("" if cell.copy else cell.text for cell in row))
    wb.close()
    return fold_extracted(Extracted(rows=rows, text="\n".join(lines), source_kind="xlsx", path="xlsx-grid",
                                    text_path="xlsx-text", positional=True))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
