"""Bytes → str for HTML and text documents (spec/portals.md §3.4).

Order: BOM, the HTTP Content-Type charset, a <meta> charset in the first 4 KB, strict UTF-8, then detection.
A declared gb2312/gbk is widened to gb18030 (pages that declare gb2312 use GBK-only characters).
"""

from __future__ import annotations

import codecs
import re

from crawler.parsers.normalize import fold_radicals

_META_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE)
_HEADER_RE = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-]+)", re.IGNORECASE)
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
          "hz-gb-2312": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "utf-8", "us-ascii": "utf-8"}


def _canonical(name: str) -> str | None:
    name = name.strip().lower()
    name = _WIDEN.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes, content_type: str | None = None) -> tuple[str | None, str]:
    """The charset a document declares, and where (bom | header | meta | none)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", "bom"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "bom"
    if content_type:
        m = _HEADER_RE.search(content_type)
        if m and (enc := _canonical(m.group(1))):
            return enc, "header"
    meta = _META_RE.search(data[:4096])
    if meta and (enc := _canonical(meta.group(1).decode("ascii", "ignore"))):
        return enc, "meta"
    return None, "none"


def decode(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Given document bytes, return (text, encoding used); CJK radical code points in the text are folded to
    the unified ideographs they stand for (``⺠`` → 民), so stored text and matching agree. Never raises."""
    text, used = _decode(data, content_type)
    return fold_radicals(text), used


def _decode(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    enc, where = declared_charset(data, content_type)
    if where == "bom":
        return data.decode("utf-8-sig" if enc == "utf-8" else "utf-16", errors="replace"), enc or "utf-8"
    candidates: list[str] = []
    if enc:
        # A page that says latin-1 (error pages) or utf-8 but is really GBK: let strict decoding decide.
        candidates.append(enc)
    for fallback in ("utf-8", "gb18030"):
        if fallback not in candidates:
            candidates.append(fallback)
    if enc == "cp1252":  # a latin-1 declaration on a Chinese site is almost always wrong
        candidates.remove("cp1252")
        candidates.append("cp1252")
    for name in candidates:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace"), best.encoding
    except Exception:  # detection is best effort
        pass
    return data.decode(candidates[0], errors="replace"), candidates[0]
