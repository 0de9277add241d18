"""Export formats of ``ogi export``: EXPORTERS maps a format name to the function that writes it.

Each exporter is given the open archive, the text stream to write and the codebook path (used by formats that
have one) and returns notes for the user (empty when there is nothing to say). A new format is one function
and one EXPORTERS entry; the CLI's ``--format`` choice reads ``sorted(EXPORTERS)``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO

from archive import queries
from archive.across.export import write_across_jsonl
from archive.queries import Archive

Exporter = Callable[[Archive, IO[str], Path | None], list[str]]


def write_jsonl(arc: Archive, out: IO[str], codebook: Path | None = None) -> list[str]:
    """Given an archive and a stream, write one parse object per current report (plus url, sha256, region)
    as JSON lines; return no notes (jsonl has no codebook)."""
    for obj in queries.iter_export(arc):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return []


def write_long_csv_with_codebook(arc: Archive, out: IO[str], codebook: Path | None = None) -> list[str]:
    """Given an archive and a stream, write the tidy long CSV (one row per cell of every current report) and,
    when ``codebook`` is given, its codebook there; return a note when no codebook was written."""
    writer = csv.writer(out)
    writer.writerow(queries.LONG_COLUMNS)
    writer.writerows(queries.iter_long_rows(arc))
    if codebook is None:
        return ["note: no codebook written (give --codebook PATH or -o FILE)"]
    codebook.write_text(queries.codebook_csv(arc), encoding="utf-8")
    return []


EXPORTERS: dict[str, Exporter] = {"jsonl": write_jsonl, "csv": write_long_csv_with_codebook, "across": write_across_jsonl}
