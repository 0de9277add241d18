"""Typed values the parsers produce, and the intake shape format readers hand to the core.

Readers (HTML, text, PDF, DOCX, …) turn bytes into an :class:`Extracted`: table rows in reading order plus
the document's plain text. :func:`crawler.parsers.report.build_report` turns that into a :class:`Report`.
``Report.to_json()`` is the ``ogi parse --json`` contract that the archive stores and exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Flag = Literal[
    "num",  # a printed number
    "blank",  # printed empty: counts as 0
    "dash",  # printed — - – -- : counts as 0
    "slash",  # printed / ／ : counts as 0
    "na_text",  # printed 无 / 不涉及 / 不适用 / N/A : counts as 0
    "derived",  # not printed (blank total with non-zero parts, or a group sum): computed from its parts
    "inferred",  # a digit run without separators, split where the table identities make the split unique
    "ocr",  # a printed value read by OCR from an image (its confidence in CellValue.confidence)
    "unknown",  # unreadable or missing: value is None
]
Status = Literal["ok", "fail", "unknown"]


class ParseError(ValueError):
    """A document could not be parsed (not a report, undecodable, too large, …)."""


@dataclass(slots=True)
class Cell:
    """One cell of an intake row."""

    text: str
    col: int | None = None  # grid column of its left edge (None: position unknown, e.g. a text line)
    span: int = 1  # colspan in the grid
    copy: bool = False  # a rowspan continuation of a merged cell (label context only, never a value)
    blank: bool = False  # an empty cell known to be printed empty (OCR: no ink in its box): 0 even when not positional


@dataclass(slots=True)
class Extracted:
    """What a format reader hands to the core parser."""

    rows: list[list[Cell]]  # table rows in document order (all tables; an empty list if there are none)
    text: str  # the readable text of the whole document, tables included, one line per paragraph / row
    source_kind: str  # "html" | "text" | "pdf" | "docx" | "doc" | "wps" | "xls" | …
    path: str = "grid"  # name of the reader path that produced `rows` (e.g. "html-grid", "pdf-table")
    text_path: str = "text"  # name of the path used when cells come from `text` (e.g. "pdf-text")
    title_hint: str | None = None  # <title>, meta ArticleTitle, a link title given by the crawler
    published_hint: str | None = None  # meta PubDate or similar, any common date format
    images: list[str] = field(default_factory=list)  # image sources inside the body
    positional: bool = True  # True when empty cells in `rows` are real printed blanks (HTML, DOCX)
    # with positional=False, a value cell carrying `col` keeps its column and an empty one is unknown (maybe lost)
    # unless `Cell.blank` says it was printed empty; cells with no `col` are packed and their empties counted
    warnings: list[str] = field(default_factory=list)  # what the reader lost (pages, cells): copied to the report
    agency_hint: str | None = None  # the page's meta ContentSource / SiteName (below the title and metadata block)
    scanned: bool = False  # every page is a picture: no text layer, a page-sized image on each page (PDF)


@dataclass(slots=True)
class CellValue:
    value: int | float | None
    raw: str
    flag: str = "num"
    path: str = ""  # reader path that produced it ("html-grid", "text", "text-digits", "derived", …)
    confidence: float | None = None  # OCR'd cells: the recogniser's confidence (0–1) in the printed text


@dataclass(slots=True)
class Check:
    rule: str  # I1 … I5, S3
    scope: str  # a column key, a row key or a group
    status: Status
    lhs: int | float | None
    rhs: int | float | None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "scope": self.scope,
            "status": self.status,
            "lhs": self.lhs,
            "rhs": self.rhs,
        }
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(slots=True)
class Report:
    source: str | None = None
    ok: bool = False
    error: str | None = None
    status: str = "report"  # report | pre2019 | image_only | not_report | error
    source_kind: str = ""
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    year_source: str | None = None  # title | body | published | hint
    published: str | None = None  # YYYY-MM-DD
    scope: str = "unknown"  # self | aggregate | unknown
    formats: dict[str, str] = field(default_factory=lambda: {"t2": "none", "t3": "none", "t4": "none"})
    mixed_format: bool = False
    cells: dict[str, CellValue] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    text: str = ""
    ocr: dict[str, Any] | None = None  # OCR'd reports: engine, per-page boxes, per-cell confidence
    # an HTML page whose tables are images: each content image (url, status, sha256, pages); see ocr_docs
    images: list[dict[str, Any]] = field(default_factory=list)

    def value(self, key: str) -> int | float | None:
        cell = self.cells.get(key)
        return None if cell is None else cell.value

    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def to_json(self) -> dict[str, Any]:
        """The `ogi parse --json` object (one per file)."""
        return {
            "source": self.source,
            "ok": self.ok,
            "error": self.error,
            "status": self.status,
            "source_kind": self.source_kind,
            "title": self.title,
            "agency": self.agency,
            "year": self.year,
            "year_source": self.year_source,
            "published": self.published,
            "scope": self.scope,
            "formats": dict(self.formats),
            "mixed_format": self.mixed_format,
            "cells": {k: c.value for k, c in self.cells.items()},
            "flags": {k: c.flag for k, c in self.cells.items()},
            "raw": {k: c.raw for k, c in self.cells.items()},
            "paths": {k: c.path for k, c in self.cells.items()},
            "checks": [c.to_json() for c in self.checks],
            "sections": dict(self.sections),
            "warnings": list(self.warnings),
            "text": self.text,
            **({"ocr": self.ocr} if self.ocr is not None else {}),
            **({"images": [dict(i) for i in self.images]} if self.images else {}),
        }
