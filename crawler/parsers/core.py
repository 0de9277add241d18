"""Compatibility names: the core was split into a chain of transforms (labels → lines → tables → resolve → report).

New code imports from the modules themselves; these names stay importable for existing callers.
"""

from __future__ import annotations

from crawler.parsers.labels import classify_t3
from crawler.parsers.lines import Line, Tok, lines_from_cell_per_line, lines_from_rows, lines_from_text
from crawler.parsers.report import build_report
from crawler.parsers.resolve import resolve_pending
from crawler.parsers.tables import TableResult, extract_tables

__all__ = [
    "Line",
    "TableResult",
    "Tok",
    "build_report",
    "classify_t3",
    "extract_tables",
    "lines_from_cell_per_line",
    "lines_from_rows",
    "lines_from_text",
    "resolve_pending",
]
