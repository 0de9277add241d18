"""Export formats of ``ogi export``: EXPORTERS maps a format name to the function that writes it.

Each exporter is given the open archive, the stream to write (text, or binary for :data:`BINARY_FORMATS`),
the codebook path (used by formats that have one) and the :class:`ExportOptions`, and returns notes for the
user (empty when there is nothing to say). A new format is one function and one EXPORTERS entry; the CLI's
``--format`` choice reads ``sorted(EXPORTERS)``.

Tables researchers load (csv and parquet):

* long (default): one row per cell of every current report, :data:`archive.queries.LONG_COLUMNS` first, then
  the report metadata :data:`META_COLUMNS` (scope, formats, title, region_code, published, check summary) so
  that aggregate reports (``scope``) are not summed with their parts by mistake;
* wide: one row per current report, the metadata then one column per cell key (the value; ``None`` when
  the cell was unreadable, its flag in the long table says why).

The codebook (``name, kind, label_zh, label_en, unit, description``) is written beside each csv/parquet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archive import queries
from archive.across.export import write_across_jsonl
from archive.queries import Archive

BOM = "\ufeff"
BINARY_FORMATS = frozenset({"parquet"})

# report metadata added to every long row and leading every wide row (from the cell's version and report)
META_COLUMNS: tuple[str, ...] = (
    "title", "scope", "formats", "region_code", "published", "check_status", "checks_failed", "checks_unknown",
)  # fmt: skip
META_CODEBOOK: tuple[tuple[str, str, str, str], ...] = (
    ("title", "标题", "title", "the report's title as published"),
    ("scope", "范围", "scope", "what the report covers (one agency, or an aggregate of a region's agencies): "
     "do not sum aggregate reports with their parts"),
    ("formats", "表式", "table formats", "t2=…;t3=…;t4=… the printed format of tables 二, 三, 四 (spec/formats.md)"),
    ("region_code", "区划代码", "region code", "administrative-division code inferred for the agency"),
    ("published", "发布日期", "published", "publication date (YYYY-MM-DD) as found on the page"),
    ("check_status", "校验结果", "check status", "summary of the arithmetic checks (see docs/data.md)"),
    ("checks_failed", "未通过校验数", "checks failed", "number of checks whose arithmetic does not hold"),
    ("checks_unknown", "无法校验数", "checks unknown", "number of checks that could not be evaluated"),
)
WIDE_LEAD: tuple[str, ...] = ("report_id", "version_id", "agency", "year", "province", *META_COLUMNS,
                              "sha256", "url")

_META_SQL = (
    "SELECT v.id, v.title, v.scope, v.t2_format, v.t3_format, v.t4_format, r.region_code, v.published,"
    " v.check_status, v.checks_failed, v.checks_unknown FROM versions v JOIN reports r ON r.id = v.report_id"
    " WHERE v.is_current = 1"
)


@dataclass(frozen=True)
class ExportOptions:
    """How to shape an export: ``shape`` long|wide (csv, parquet); ``excel``: a UTF-8 BOM first (csv)."""

    shape: str = "long"
    excel: bool = False


Exporter = Callable[[Archive, IO[Any], Path | None, ExportOptions], list[str]]


def _formats(t2: str | None, t3: str | None, t4: str | None) -> str | None:
    parts = [f"{name}={fmt}" for name, fmt in (("t2", t2), ("t3", t3), ("t4", t4)) if fmt]
    return ";".join(parts) or None


def version_meta(arc: Archive) -> dict[int, tuple[Any, ...]]:
    """Given an archive, return version id -> the :data:`META_COLUMNS` values of every current version."""
    out: dict[int, tuple[Any, ...]] = {}
    for vid, title, scope, t2, t3, t4, region, published, status, failed, unknown in arc.conn.execute(_META_SQL):
        out[int(vid)] = (title, scope, _formats(t2, t3, t4), region, published, status, failed, unknown)
    return out


def long_columns() -> tuple[str, ...]:
    """Return the long table's columns: the cell columns, then the report metadata."""
    return (*queries.LONG_COLUMNS, *META_COLUMNS)


def iter_long(arc: Archive) -> Iterator[tuple[Any, ...]]:
    """Given an archive, yield the long rows (see :func:`long_columns`) of every current report."""
    meta = version_meta(arc)
    empty = (None,) * len(META_COLUMNS)
    vid_at = queries.LONG_COLUMNS.index("version_id")
    for row in queries.iter_long_rows(arc):
        yield (*row, *meta.get(int(row[vid_at]), empty))


def wide_keys(arc: Archive) -> list[str]:
    """Given an archive, return the cell keys that hold a value in some current report, in key id order."""
    sql = ("SELECT key FROM keys WHERE id IN (SELECT DISTINCT c.key_id FROM cells c JOIN versions v"
           " ON v.id = c.version_id WHERE v.is_current = 1) ORDER BY id")
    return [k for (k,) in arc.conn.execute(sql)]


_WIDE_SQL = (
    "SELECT v.report_id, v.id, r.agency, r.year, r.province, v.sha256, v.url FROM versions v"
    " JOIN reports r ON r.id = v.report_id WHERE v.is_current = 1 ORDER BY v.report_id, v.id"
)


def iter_wide(arc: Archive, keys: list[str]) -> Iterator[tuple[Any, ...]]:
    """Given an archive and the key columns, yield one row per current report (also one without any cell):
    :data:`WIDE_LEAD`, then the value of each key (None when the report has no such cell or it was
    unreadable). Streams: the current versions and their cells are merged in (report, version) order."""
    meta = version_meta(arc)
    col = {k: i for i, k in enumerate(keys)}
    rid_at, vid_at, key_at, value_at = (queries.LONG_COLUMNS.index(n)
                                        for n in ("report_id", "version_id", "key", "value"))
    cells = iter(queries.iter_long_rows(arc))
    pending = next(cells, None)
    empty = (None,) * len(META_COLUMNS)
    for report_id, vid, agency, year, province, sha256, url in arc.conn.execute(_WIDE_SQL).fetchall():
        values: list[Any] = [None] * len(keys)
        while pending is not None and (pending[rid_at], pending[vid_at]) < (report_id, vid):
            pending = next(cells, None)  # a cell of no current version listed here (cannot happen; skipped)
        while pending is not None and (pending[rid_at], pending[vid_at]) == (report_id, vid):
            i = col.get(pending[key_at])
            if i is not None:
                values[i] = pending[value_at]
            pending = next(cells, None)
        yield (report_id, vid, agency, year, province, *meta.get(int(vid), empty), sha256, url, *values)


def codebook_csv(arc: Archive, *, shape: str = "long") -> str:
    """Given an archive, return the codebook CSV: the table's columns (long or wide), the cell keys, flags."""
    import io

    rows = queries.codebook_rows(arc)
    meta = [{"name": n, "kind": "column", "label_zh": zh, "label_en": en, "unit": "", "description": d}
            for n, zh, en, d in META_CODEBOOK]
    ncols = sum(1 for r in rows if r["kind"] == "column")
    rows = rows[:ncols] + meta + rows[ncols:]
    if shape == "wide":
        rows = [r for r in rows if r["kind"] != "column" or r["name"] in WIDE_LEAD]
        rows = [({**r, "description": f"wide column: {r['description']}"} if r["kind"].startswith("key:") else r)
                for r in rows]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["name", "kind", "label_zh", "label_en", "unit", "description"])
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _write_codebook(arc: Archive, codebook: Path | None, options: ExportOptions) -> list[str]:
    if codebook is None:
        return ["note: no codebook written (give --codebook PATH or -o FILE)"]
    text = codebook_csv(arc, shape=options.shape)
    codebook.write_text((BOM if options.excel else "") + text, encoding="utf-8")
    return []


def write_jsonl(arc: Archive, out: IO[str], codebook: Path | None = None,
                options: ExportOptions | None = None) -> list[str]:
    """Given an archive and a stream, write one parse object per current report (plus url, sha256, region)
    as JSON lines; return no notes (jsonl has no codebook)."""
    for obj in queries.iter_export(arc):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return []


def write_csv(arc: Archive, out: IO[str], codebook: Path | None = None,
              options: ExportOptions | None = None) -> list[str]:
    """Given an archive and a text stream, write the long (or wide) CSV, with a BOM for ``excel``, and its
    codebook at ``codebook``; return a note when no codebook was written."""
    options = options or ExportOptions()
    if options.excel:
        out.write(BOM)
    writer = csv.writer(out)
    if options.shape == "wide":
        keys = wide_keys(arc)
        writer.writerow((*WIDE_LEAD, *keys))
        writer.writerows(iter_wide(arc, keys))
    else:
        writer.writerow(long_columns())
        writer.writerows(iter_long(arc))
    return _write_codebook(arc, codebook, options)


# kept importable under its old name
write_long_csv_with_codebook = write_csv


PARQUET_BATCH = 100_000  # rows per row group: memory stays bounded on a large archive


def _arrow_column(name: str, column: list[Any], numeric: set[str]) -> tuple[Any, Any]:
    """Given a column's name and values, return its pyarrow (field, array): ids and years int64, values and
    counts float64 (one type per column; the raw text keeps what was printed), everything else string."""
    import pyarrow as pa

    if name in ("report_id", "version_id", "year"):
        typ: Any = pa.int64()
    elif name in numeric:
        typ = pa.float64()
        column = [None if v is None else float(v) for v in column]
    else:
        typ = pa.string()
        column = [None if v is None else str(v) for v in column]
    return pa.field(name, typ), pa.array(column, type=typ)


def write_parquet(arc: Archive, out: IO[bytes], codebook: Path | None = None,
                  options: ExportOptions | None = None) -> list[str]:
    """Given an archive and a binary stream, write the long (or wide) table as Parquet, in row groups of
    :data:`PARQUET_BATCH` rows, and its codebook CSV at ``codebook``."""
    import itertools

    import pyarrow as pa
    import pyarrow.parquet as pq

    options = options or ExportOptions()
    if options.shape == "wide":
        keys = wide_keys(arc)
        names: tuple[str, ...] = (*WIDE_LEAD, *keys)
        rows: Iterator[tuple[Any, ...]] = iter_wide(arc, keys)
        numeric = set(keys) | {"checks_failed", "checks_unknown"}
    else:
        names, rows, numeric = long_columns(), iter_long(arc), {"value", "checks_failed", "checks_unknown"}
    writer = None
    try:
        while True:
            batch = list(itertools.islice(rows, PARQUET_BATCH))
            if not batch and writer is not None:
                break
            cols = [_arrow_column(n, [r[i] for r in batch], numeric) for i, n in enumerate(names)]
            schema = pa.schema([f for f, _a in cols], metadata={b"ogi.shape": options.shape.encode()})
            if writer is None:
                writer = pq.ParquetWriter(out, schema)
            writer.write_table(pa.Table.from_arrays([a for _f, a in cols], schema=schema))
            if len(batch) < PARQUET_BATCH:
                break
    finally:
        if writer is not None:
            writer.close()
    return _write_codebook(arc, codebook, options)


def _across(arc: Archive, out: IO[str], codebook: Path | None = None,
            options: ExportOptions | None = None) -> list[str]:
    """The across-report tables as JSON lines (archive.across.export); shape options do not apply."""
    return write_across_jsonl(arc, out, codebook)


EXPORTERS: dict[str, Exporter] = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet,
                                  "across": _across}
