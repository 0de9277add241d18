"""The archive: documents (raw bytes with provenance), reports with versions, tables, checks, sections, runs.

One :class:`Archive` wraps one SQLite file (WAL, foreign keys) and a content-addressed blob store beside it
(``<db>.blobs/*.pack``, see :mod:`archive.blobs`). Each report is written in one ``BEGIN IMMEDIATE`` transaction, so a reader
(Datasette) never sees half a report and a second writer gets a clear :class:`ArchiveError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlite_utils

from archive import schema
from archive.blobs import BlobError, PackStore
from archive.common import ArchiveError, ReparseResult, SaveResult, now_iso, to_json
from archive.regions import Region, infer_region, region_from_hint
from archive.runs import RunsMixin

logger = logging.getLogger(__name__)

REPORT_STATUSES = schema.REPORT_STATUSES
RUN_STATUSES = schema.RUN_STATUSES
# top-level fields of the `ogi parse --json` object that the archive stores in columns / child tables
PARSE_FIELDS = (
    "source",
    "ok",
    "error",
    "status",
    "source_kind",
    "title",
    "agency",
    "year",
    "year_source",
    "published",
    "scope",
    "formats",
    "mixed_format",
    "cells",
    "flags",
    "raw",
    "paths",
    "checks",
    "sections",
    "warnings",
    "text",
)


# fields `ogi export` adds to the parse object (never part of a parse)
EXPORT_FIELDS = ("url", "sha256", "region")


def _sqlite_header_problem(path: Path) -> str | None:
    """Cheap corruption/truncation test on the file header (no full scan)."""
    size = path.stat().st_size
    if size == 0:
        return None
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "not an SQLite database"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    change = int.from_bytes(head[24:28], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    if page_size < 512 or page_size & (page_size - 1):
        return "corrupt header (page size)"
    if pages and change == valid_for and size < pages * page_size:
        return f"truncated: {size} bytes on disk, header says {pages * page_size}"
    return None


def _canon_raw(value: Any, raw: Any) -> Any:
    """Raw text stored only when it differs from the plain rendering of an integer value (saves space)."""
    if raw is not None and type(value) is int and raw == str(value):
        return None
    return raw


def _main_path(paths: dict[str, Any]) -> Any:
    """The most common reader path (stored once per version; cells store only paths that differ)."""
    if not paths:
        return None
    return Counter(paths.values()).most_common(1)[0][0]  # ties: the first seen, as max() over a dict


def _plain(obj: Any) -> Any:
    """JSON-shaped copy (tuples become lists, keys sorted) so that a parse compares equal to its stored form."""
    return json.loads(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str))


def comparable_parse(parsed: dict[str, Any]) -> tuple[Any, ...]:
    """What the archive stores of a parse object, in a form that compares equal exactly when two parses
    would be stored the same way (``queries.parse_object`` of a stored version gives back an equal form)."""
    cells: dict[str, Any] = parsed.get("cells") or {}
    flags: dict[str, Any] = parsed.get("flags") or {}
    raws: dict[str, Any] = parsed.get("raw") or {}
    paths: dict[str, Any] = parsed.get("paths") or {}
    cell_path = _main_path(paths)
    formats = parsed.get("formats") or {}
    ok = parsed.get("ok")
    scalars = tuple(
        parsed.get(k)
        for k in (
            "source",
            "error",
            "source_kind",
            "title",
            "agency",
            "year",
            "year_source",
            "published",
            "scope",
        )
    )
    return (
        parsed.get("status") or ("report" if ok else "error"),
        None if ok is None else bool(ok),
        scalars,
        (formats.get("t2"), formats.get("t3"), formats.get("t4")),
        bool(parsed.get("mixed_format")),
        {
            k: (v, _canon_raw(v, raws.get(k)), flags.get(k) or "num", paths.get(k) or cell_path)
            for k, v in cells.items()
        },
        [
            (
                c.get("rule") or "",
                c.get("scope") or "",
                c.get("status") or "unknown",
                c.get("lhs"),
                c.get("rhs"),
                c.get("detail") or None,
            )
            for c in parsed.get("checks") or []
        ],
        {k: t or "" for k, t in (parsed.get("sections") or {}).items()},
        _plain(parsed.get("warnings") or []),
        _plain({k: v for k, v in parsed.items() if k not in PARSE_FIELDS and k not in EXPORT_FIELDS}),
        parsed.get("text") or "",
    )


def _as_int_bool(v: Any) -> int:
    return 1 if v else 0


def _report_key(parsed: dict[str, Any], sha256: str, url: str | None) -> str:
    agency = (parsed.get("agency") or "").strip()
    year = parsed.get("year")
    if agency and isinstance(year, int):
        key = f"{agency}|{year}"
        if parsed.get("scope") == "aggregate":
            key += "|aggregate"
        return key
    return f"url:{url}" if url else f"sha256:{sha256}"


def _headline(cells: dict[str, Any], keys: tuple[str, ...]) -> Any:
    values = [cells.get(k) for k in keys]
    if any(v is None or isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return None
    return sum(values)


def _check_status(checks: list[dict[str, Any]]) -> tuple[str | None, int, int, int]:
    """(overall status, failed, unknown, narrative failures) over the arithmetic checks."""
    if not checks:
        return None, 0, 0, 0
    failed = sum(1 for c in checks if c.get("status") == "fail")
    unknown = sum(1 for c in checks if c.get("status") == "unknown")
    narrative = sum(1 for c in checks if c.get("status") == "fail" and str(c.get("rule", "")).startswith("S"))
    status = "fail" if failed else ("unknown" if unknown else "ok")
    return status, failed, unknown, narrative


_WIDE_COLS_SEQ: dict[str, tuple[str, ...]] = {
    "t3": schema.T3_WIDE_COLS,
    "t4": schema.T4_COLS,
    "t2": tuple(schema.T2_COLS),
}
_WIDE_ORDER: dict[str, dict[str, int]] = {
    "t3": {r: i for i, r in enumerate(schema.T3_ROWS)},
    "t4": {r: i for i, r in enumerate(schema.T4_GROUPS)},
    "t2": {r: i for i, r in enumerate(schema.T2_ROWS)},
}
_ROW_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "t3": schema.T3_ROWS,
    "t4": schema.T4_GROUPS,
    "t2": schema.T2_ROWS,
}
_WIDE_HEAD = {"t3": "format, row_key", "t4": "grp", "t2": "format, row_key"}


def _wide_template(tbl: str) -> tuple[str, int, int]:
    """(INSERT template, values per row, constant parameters) of a wide table: the version, report, year,
    province (and format) are bound once per statement, the row number, row key and columns per row."""
    cols = _WIDE_COLS_SEQ[tbl]
    consts = "?1, column1, ?2, 1, ?3, ?4" + (", ?5" if tbl != "t4" else "")
    per_row = 2 + len(cols)
    picks = ", ".join(f"column{i}" for i in range(2, per_row + 1))
    sql = (
        f"INSERT INTO {tbl}(version_id, row_no, report_id, is_current, year, province, {_WIDE_HEAD[tbl]}, "
        + ", ".join(cols)
        + f") SELECT {consts}, {picks} FROM (VALUES {{rows}})"
    )
    return sql, per_row, 4 if tbl == "t4" else 5


_WIDE_INSERT: dict[str, tuple[str, int, int]] = {t: _wide_template(t) for t in _WIDE_COLS_SEQ}
# raw text is kept only when it differs from the plain rendering of an integer value, the flag only when it is
# not "num", the reader path only when it differs from the version's main path (?2): the same rules as
# _canon_raw and the reconstruction in archive.queries.parse_object, done by SQLite while inserting
_CELLS_INSERT = (
    "INSERT INTO cells(version_id, key_id, value, raw, flag, path) SELECT ?1, column1, column2,"
    " CASE WHEN typeof(column2) = 'integer' AND column3 = CAST(column2 AS TEXT) THEN NULL ELSE column3 END,"
    " nullif(column4, 'num'), nullif(column5, ?2) FROM (VALUES {rows})",
    5,
    2,
)
_CHECKS_INSERT = (
    "INSERT INTO checks(version_id, ord, report_id, is_current, year, province, rule, scope, status, lhs, rhs,"
    " detail) SELECT ?1, column1, ?2, 1, ?3, ?4, column2, column3, column4, column5, column6, column7"
    " FROM (VALUES {rows})",
    7,
    4,
)
MULTI_ROWS = 64  # rows per multi-row INSERT statement (at most; see _MultiInsert)


class _MultiInsert:
    """``INSERT INTO t(...) SELECT ?1, column1, ... FROM (VALUES (...), (...), ...)``: many rows per statement.

    One statement per chunk of rows instead of one per row (``executemany``) saves SQLite's per-statement work
    (step, reset) and Python's per-row handling: the rows come as one flat list of values, and the values
    every row shares (version, report, ...) are bound once per statement (``?1``, ``?2``, ...). Chunks are
    powers of two, so a table needs at most ``log2(max_rows) + 1`` distinct SQL texts, which stay prepared
    in the connection's statement cache.
    """

    __slots__ = ("_sql", "consts", "max_rows", "template", "width")

    def __init__(
        self, template: str, width: int, consts: int, max_vars: int, max_rows: int = MULTI_ROWS
    ) -> None:
        self.template = template
        self.width = width
        self.consts = consts
        rows = 1
        while rows * 2 <= max_rows and consts + rows * 2 * width <= max_vars:
            rows *= 2
        self.max_rows = rows
        self._sql: dict[int, str] = {}

    def sql(self, n: int) -> str:
        sql = self._sql.get(n)
        if sql is None:
            one = "(" + ",".join("?" * self.width) + ")"
            sql = self._sql[n] = self.template.format(rows=",".join([one] * n))
        return sql

    def run(self, conn: sqlite3.Connection, consts: list[Any], flat: list[Any]) -> None:
        """Insert the rows whose values are concatenated in ``flat`` (``width`` values per row, in order);
        ``consts`` are the ``consts`` values shared by every row."""
        width, total = self.width, len(flat)
        left = total // width
        if left * width != total or len(consts) != self.consts:
            raise ValueError(f"{total} values are not whole rows of {width}")
        start, chunk = 0, self.max_rows
        while left:
            while chunk > left:
                chunk >>= 1
            end = start + chunk * width
            conn.execute(self.sql(chunk), consts + flat[start:end])
            start, left = end, left - chunk


@dataclass(slots=True)
class _Plan:
    """How the cells of one key sequence (one table layout) map to rows: key ids in cell order, and for each
    wide table its rows as (row number, row key, getter of the row's column values from the cell values)."""

    key_ids: list[int]
    wide: dict[str, list[tuple[int, str, Any]]]


class Archive(RunsMixin):
    """An open archive. Use :func:`open_archive`."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.blob_dir = self.path.with_name(self.path.name + ".blobs")
        self._key_ids: dict[str, int] = {}
        self._busy_timeout = busy_timeout
        self._batch: dict[str, Any] | None = None
        self.blobs = PackStore(self.blob_dir)
        self._fts_pending: set[int] = set()  # version ids whose sections are indexed at commit
        # key -> (key_id, table, row_key, col_key): one dict lookup per cell on the hot path
        self._key_info: dict[str, tuple[int, str, str, int]] = {}
        self._row_keys: set[str] | None = None  # row_labels.row_key, loaded lazily
        self._plans: dict[tuple[str, ...], _Plan] = {}  # cell-key sequence -> row plan (see _plan)
        # recorded on each version saved without an explicit parser_version (set once by the caller)
        self.parser_version: str | None = None
        if self.path.exists():
            problem = _sqlite_header_problem(self.path)
            if problem:
                raise ArchiveError(f"{self.path}: {problem}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(self.path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._conn = conn
            self._db = sqlite_utils.Database(conn)
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                logger.warning("%s: journal_mode is %s, not WAL", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            max_vars = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self._ins_cells = _MultiInsert(*_CELLS_INSERT, max_vars)
            self._ins_checks = _MultiInsert(*_CHECKS_INSERT, max_vars)
            self._ins_wide = {t: _MultiInsert(*spec, max_vars) for t, spec in _WIDE_INSERT.items()}
            self._migrate()
            self._load_keys()
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise ArchiveError(f"{self.path}: cannot open archive: {exc}") from exc
        except ArchiveError:
            self._close_quietly()
            raise

    @property
    def conn(self) -> sqlite3.Connection:
        """The SQLite connection (kept public for tests and tools that read the archive directly)."""
        return self._conn

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the connection (kept public for tests that edit rows directly)."""
        return self._db

    def _close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass

    # --- setup -------------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        latest = max(schema.MIGRATIONS)
        if current > latest:
            raise ArchiveError(f"{self.path}: schema version {current} is newer than this program ({latest})")
        if current and not self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'reports'").fetchone():
            raise ArchiveError(
                f"{self.path}: user_version {current} but no archive tables: not an OGI archive"
            )
        if (
            current == 0
            and self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchone()
        ):
            raise ArchiveError(f"{self.path}: database has tables but is not an OGI archive")
        for version in range(current + 1, latest + 1):
            script = schema.MIGRATIONS[version]
            logger.info("%s: migrating schema to version %d", self.path, version)
            try:
                self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n"
                    f"INSERT OR REPLACE INTO archive_meta(key, value) VALUES ('schema_version', '{version}');\n"
                    f"INSERT OR REPLACE INTO archive_meta(key, value) VALUES ('migrated_at_v{version}', '{now_iso()}');\n"
                    f"PRAGMA user_version = {version};\nCOMMIT;"
                )
            except sqlite3.Error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        if current == 0:
            self._seed_keys()

    def _seed_keys(self) -> None:
        keys: list[str] = []
        for row in schema.T3_ROWS:
            keys.extend(f"{row}.{c}" for c in schema.T3_COLS)
        for grp in schema.T4_GROUPS:
            keys.extend(f"{grp}.{c}" for c in schema.T4_COLS)
        two = {
            "t2.regulation": (
                "issued",
                "repealed",
                "in_force",
                "made_new",
                "published_new",
                "published_total",
            ),
            "t2.normative_doc": (
                "issued",
                "repealed",
                "in_force",
                "made_new",
                "published_new",
                "published_total",
            ),
            "t2.licensing": ("decisions", "prev_items", "delta"),
            "t2.other_service": ("prev_items", "delta", "decisions"),
            "t2.penalty": ("decisions", "prev_items", "delta"),
            "t2.coercion": ("decisions", "prev_items", "delta"),
            "t2.admin_fee": ("amount_wan", "prev_items", "delta"),
            "t2.procurement": ("items", "amount"),
        }
        for row, cols in two.items():
            keys.extend(f"{row}.{c}" for c in cols)
        with self._tx() as conn:
            for key in keys:
                self._key_id(key)
            conn.executemany(
                "INSERT INTO row_labels(row_key, tbl, label_zh, label_en) VALUES (?, ?, ?, ?)",
                [(r, tbl, zh, en) for tbl, rows in _ROW_LABELS.items() for r, (zh, en) in rows.items()],
            )

    def _load_keys(self) -> None:
        self._key_ids = {k: i for i, k in self._conn.execute("SELECT id, key FROM keys")}

    def _restore_keys(self, keys: dict[str, int]) -> None:
        """After a rollback: forget key ids that were inserted by the rolled-back transaction."""
        self._key_ids = keys
        self._key_info.clear()
        self._plans.clear()
        if not self._conn.in_transaction:
            self._fts_pending.clear()
        self._row_keys = None

    def _info(self, key: str) -> tuple[int, str, str, int]:
        """(key id, table, row key, index of the column in the wide table or -1)."""
        info = self._key_info.get(key)
        if info is None:
            tbl, row, col = schema.split_key(key)
            cols = _WIDE_COLS_SEQ.get(tbl, ())
            info = (self._key_id(key), tbl, row, cols.index(col) if col in cols else -1)
            self._key_info[key] = info
        return info

    def _key_id(self, key: str) -> int:
        kid = self._key_ids.get(key)
        if kid is None:
            tbl, row, col = schema.split_key(key)
            zh, en, unit = schema.key_labels(key)
            cur = self._conn.execute(
                "INSERT INTO keys(key, tbl, row_key, col_key, label_zh, label_en, unit) VALUES (?,?,?,?,?,?,?)",
                (key, tbl, row, col, zh, en, unit),
            )
            kid = int(cur.lastrowid or 0)
            self._key_ids[key] = kid
        return kid

    def _begin(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise ArchiveError(
                    f"{self.path}: another process is writing to the archive (waited {self._busy_timeout:g}s)"
                ) from exc
            raise ArchiveError(f"{self.path}: {exc}") from exc

    def _commit(self, keys_before: dict[str, int]) -> None:
        try:
            if self._fts_pending:
                ids = sorted(self._fts_pending)
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    self._conn.execute(
                        "INSERT INTO sections_fts(rowid, text) SELECT id, text FROM sections"
                        f" WHERE version_id IN ({','.join('?' * len(chunk))})",
                        chunk,
                    )
                self._fts_pending.clear()
            self.blobs.sync()  # bytes durable before the rows that point at them
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._restore_keys(keys_before)
            raise ArchiveError(f"{self.path}: commit failed: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): all or nothing; a busy database is an ArchiveError.

        Inside :meth:`batch` it is a SAVEPOINT of the batch's transaction instead: still all or nothing.
        """
        keys_before = dict(self._key_ids)
        if self._batch is not None:
            if not self._conn.in_transaction:  # the batch committed: open its next transaction
                self._begin()
                self._batch.update(n=0, t=time.monotonic(), keys=dict(self._key_ids))
            self._conn.execute("SAVEPOINT report")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK TO report")
                self._conn.execute("RELEASE report")
                self._restore_keys(keys_before)
                raise
            self._conn.execute("RELEASE report")
            self._batch_tick()
            return
        self._begin()
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._restore_keys(keys_before)
            raise
        self._commit(keys_before)

    @contextmanager
    def batch(self, *, size: int = 500, seconds: float = 2.0) -> Iterator[Archive]:
        """Group many saves into few commits (bulk import). Each save stays all or nothing (a savepoint);
        the batch commits every ``size`` saves or ``seconds``, and at the end (also when interrupted: what
        was saved is whole). Readers (WAL) are never blocked; other writers wait at most one commit.
        """
        if self._batch is not None:
            yield self
            return
        self._batch = {
            "n": 0,
            "t": time.monotonic(),
            "size": size,
            "seconds": seconds,
            "keys": dict(self._key_ids),
        }
        try:
            yield self
        finally:
            state, self._batch = self._batch, None
            if self._conn.in_transaction:
                self._commit(state["keys"])

    def _batch_tick(self) -> None:
        state = self._batch
        assert state is not None
        state["n"] += 1
        if state["n"] >= state["size"] or time.monotonic() - state["t"] >= state["seconds"]:
            self._commit(state["keys"])

    def close(self) -> None:
        self.blobs.close()
        try:
            if not self._conn.in_transaction:
                # keeps query-planner statistics fresh for Datasette (cheap: bounded, only when needed)
                self._conn.execute("PRAGMA analysis_limit = 1000")
                self._conn.execute("PRAGMA optimize")
        except sqlite3.Error as exc:  # pragma: no cover - a read-only or damaged file
            logger.debug("PRAGMA optimize failed: %s", exc)
        try:
            self._conn.close()
        except sqlite3.Error:  # pragma: no cover - closing twice
            pass

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- documents ---------------------------------------------------------------------------------
    def blob_location(self, sha256: str) -> tuple[Path, int, int]:
        """(pack file, offset, size) of a stored document's bytes."""
        row = self._conn.execute(
            "SELECT pack, pack_offset, size FROM documents WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if row is None:
            raise ArchiveError(f"no document {sha256}")
        return self.blob_dir / row[0], int(row[1]), int(row[2])

    def save_document(
        self,
        data: bytes,
        *,
        url: str | None = None,
        final_url: str | None = None,
        http_status: int | None = None,
        headers: dict[str, Any] | None = None,
        fetched_at: str | None = None,
        run_id: int | None = None,
        source: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """Store raw bytes once (by sha256) and record this fetch's provenance. Returns the sha256 hex."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ArchiveError(f"save_document needs bytes, got {type(data).__name__}")
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        hdrs = {
            str(k).lower(): (v.decode("latin-1") if isinstance(v, bytes) else str(v))
            for k, v in (headers or {}).items()
        }
        ctype = content_type or hdrs.get("content-type")
        etag = hdrs.get("etag")
        last_modified = hdrs.get("last-modified")
        kept = {
            k: v
            for k, v in hdrs.items()
            if k
            in (
                "content-type",
                "etag",
                "last-modified",
                "content-length",
                "content-disposition",
                "content-encoding",
                "location",
            )
        }
        fingerprint = hashlib.sha256(
            to_json([sha, url, final_url, http_status, etag, last_modified, run_id, source]).encode()  # type: ignore[union-attr]
        ).hexdigest()
        when = fetched_at or now_iso()
        try:
            with self._tx() as conn:
                row = conn.execute(
                    "SELECT pack, pack_offset, size FROM documents WHERE sha256 = ?", (sha,)
                ).fetchone()
                if row is None:
                    pack, offset = self.blobs.put(sha, data)  # synced before this transaction commits
                    conn.execute(
                        "INSERT INTO documents(sha256, size, content_type, pack, pack_offset, first_seen)"
                        " VALUES (?,?,?,?,?,?)",
                        (sha, len(data), ctype, pack, offset, when),
                    )
                elif not self.blobs.present(*row):
                    logger.warning("document %s: blob was missing, stored again", sha)
                    pack, offset = self.blobs.put(sha, data)
                    conn.execute(
                        "UPDATE documents SET pack = ?, pack_offset = ? WHERE sha256 = ?", (pack, offset, sha)
                    )
                cur = conn.execute(
                    "INSERT OR IGNORE INTO fetches(sha256, url, final_url, http_status, content_type, etag,"
                    " last_modified, headers, fetched_at, run_id, source, fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        sha,
                        url,
                        final_url,
                        http_status,
                        ctype,
                        etag,
                        last_modified,
                        to_json(kept or None),
                        when,
                        run_id,
                        source,
                        fingerprint,
                    ),
                )
                if cur.rowcount == 0 and fetched_at:
                    conn.execute(
                        "UPDATE fetches SET fetched_at = ? WHERE fingerprint = ? AND fetched_at < ?",
                        (fetched_at, fingerprint, fetched_at),
                    )
        except sqlite3.IntegrityError as exc:
            raise ArchiveError(f"cannot record document {sha[:12]}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path}: {exc}") from exc
        return sha

    def read_document(self, sha256: str) -> bytes:
        """The raw bytes of a stored document; a missing or damaged blob is an ArchiveError."""
        row = self._conn.execute(
            "SELECT pack, pack_offset, size FROM documents WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if row is None:
            raise ArchiveError(f"no document {sha256}")
        try:
            return self.blobs.get(row[0], int(row[1]), int(row[2]), sha256)
        except BlobError as exc:
            raise ArchiveError(str(exc)) from exc

    def verify_blobs(self, *, full: bool = False) -> list[str]:
        """The sha256 of every document whose bytes are missing (``full``: or do not match their sha256)."""
        bad = []
        for sha, pack, offset, size in self._conn.execute(
            "SELECT sha256, pack, pack_offset, size FROM documents"
        ):
            if not self.blobs.present(pack, offset, size):
                bad.append(sha)
            elif full:
                try:
                    self.blobs.get(pack, offset, size, sha)
                except BlobError:
                    bad.append(sha)
        return bad

    def last_fetch(self, url: str) -> dict[str, Any] | None:
        """The newest fetch of ``url`` (or of a fetch that ended at ``url``), for conditional re-crawls."""
        row = self._conn.execute(
            "SELECT sha256, etag, last_modified, fetched_at, http_status FROM fetches"
            " WHERE url = ? OR final_url = ? ORDER BY fetched_at DESC, id DESC LIMIT 1",
            (url, url),
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("sha256", "etag", "last_modified", "fetched_at", "http_status"), row, strict=True))

    # --- reports -----------------------------------------------------------------------------------
    def save_report(
        self,
        parsed: dict[str, Any],
        *,
        sha256: str,
        url: str | None = None,
        source: str | None = None,
        region_hint: dict[str, Any] | None = None,
        run_id: int | None = None,
        parser_version: str | None = None,
        reparse: bool = False,
    ) -> SaveResult:
        """Store one parsed report (``Report.toto_json()``) as a new report, a new version, or nothing new.

        ``parser_version`` is recorded on the version (default :attr:`parser_version`). ``reparse=True`` says
        the parse is a re-parse of stored bytes (see :meth:`reparse`): a parse that differs from the stored
        one becomes a new version flagged ``reparse``, an identical one changes nothing.
        """
        if not isinstance(parsed, dict):
            raise ArchiveError(f"save_report needs the parse dict, got {type(parsed).__name__}")
        status = parsed.get("status") or ("report" if parsed.get("ok") else "error")
        pv = parser_version if parser_version is not None else self.parser_version
        try:
            doc = self._conn.execute("SELECT 1 FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
            if doc is None:
                raise ArchiveError(f"no document {sha256}: call save_document first")
            if status not in REPORT_STATUSES:
                reason = str(parsed.get("error") or status)
                if reparse:
                    kept = self._conn.execute(
                        "SELECT id FROM reports WHERE sha256 = ? LIMIT 1", (sha256,)
                    ).fetchone()
                    if kept is not None:  # a parser regression must not hide a stored report
                        return SaveResult(
                            "not_report",
                            kept[0],
                            sha256=sha256,
                            reason=f"re-parse: {reason}; the stored report is kept",
                        )
                    skip = self._reparse_target(self._conn, "", sha256)  # no owner: only reads
                    if skip is not None:
                        return skip
                with self._tx() as conn:
                    conn.execute(
                        "UPDATE documents SET parse_status = ?, reason = ? WHERE sha256 = ?",
                        ("not_report" if status != "error" else "error", reason, sha256),
                    )
                return SaveResult("not_report", sha256=sha256, reason=reason)
            with self._tx() as conn:
                result = self._save_report_tx(
                    conn, parsed, status, sha256, url, source, region_hint, run_id, pv, reparse
                )
            return result
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path}: report not saved: {exc}") from exc
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ArchiveError(f"report not saved, bad parse object: {exc!r}") from exc

    def _region(
        self, parsed: dict[str, Any], hint: dict[str, Any] | None, url: str | None, source: str | None
    ) -> Region:
        region = region_from_hint(hint)
        if not region.known:
            region = infer_region(parsed.get("agency"), parsed.get("title"), source)
        return region

    def _reparse_target(self, conn: sqlite3.Connection, key: str, sha256: str) -> SaveResult | None:
        """Before a re-parse is saved: find the report these bytes are the current version of.

        When the new parse gives that report another key (a better agency or year), the report is re-keyed,
        unless another report already has the key (``conflict``, nothing saved). Bytes that are only an older
        version of a report are left alone (``skipped``). None: go on with the normal path.
        """
        owners = conn.execute("SELECT id, report_key FROM reports WHERE sha256 = ?", (sha256,)).fetchall()
        if not owners:
            old = conn.execute(
                "SELECT report_id FROM versions WHERE sha256 = ? LIMIT 1", (sha256,)
            ).fetchone()
            if old is not None:
                return SaveResult(
                    "skipped",
                    old[0],
                    sha256=sha256,
                    reason=f"an older version of report {old[0]}; kept as stored",
                )
            return None
        if any(k == key for _, k in owners):
            return None
        report_id, old_key = owners[0]
        other = conn.execute("SELECT id FROM reports WHERE report_key = ?", (key,)).fetchone()
        if other is not None:
            return SaveResult(
                "conflict",
                report_id,
                sha256=sha256,
                reason=f"re-parse gives report key {key!r}, which report {other[0]} already has; not saved",
            )
        logger.info("report %d: re-parse changes its key %r -> %r", report_id, old_key, key)
        conn.execute("UPDATE reports SET report_key = ? WHERE id = ?", (key, report_id))
        return None

    def _same_parse(self, conn: sqlite3.Connection, version_id: int, parsed: dict[str, Any]) -> bool:
        """Whether ``parsed`` would be stored exactly as version ``version_id`` is."""
        from archive.queries import parse_object  # queries imports this module

        return comparable_parse(parse_object(self, version_id)) == comparable_parse(parsed)

    def _save_report_tx(
        self,
        conn: sqlite3.Connection,
        parsed: dict[str, Any],
        status: str,
        sha256: str,
        url: str | None,
        source: str | None,
        region_hint: dict[str, Any] | None,
        run_id: int | None,
        parser_version: str | None = None,
        reparse: bool = False,
    ) -> SaveResult:
        key = _report_key(parsed, sha256, url)
        if reparse and (skip := self._reparse_target(conn, key, sha256)) is not None:
            return skip
        now = now_iso()
        row = conn.execute(
            "SELECT id, sha256, current_version_id, versions FROM reports WHERE report_key = ?", (key,)
        ).fetchone()
        out_status = status if status != "report" else None
        if (
            row is not None
            and row[1] == sha256
            and not (reparse and not self._same_parse(conn, row[2], parsed))
        ):
            if not reparse:
                conn.execute("UPDATE documents SET parse_status = ? WHERE sha256 = ?", (status, sha256))
            version = conn.execute("SELECT version FROM versions WHERE id = ?", (row[2],)).fetchone()[0]
            return SaveResult(out_status or "unchanged", row[0], version, sha256, change="unchanged")
        region = self._region(parsed, region_hint, url, source)
        cells: dict[str, Any] = parsed.get("cells") or {}
        formats = parsed.get("formats") or {}
        checks = list(parsed.get("checks") or [])
        check_status, failed, unknown, narrative = _check_status(checks)
        year = parsed.get("year")
        fields = {
            "agency": parsed.get("agency"),
            "year": year,
            "title": parsed.get("title"),
            "province": region.province,
            "prefecture": region.prefecture,
            "county": region.county,
            "region_code": region.code,
            "published": parsed.get("published"),
            "scope": parsed.get("scope"),
            "t2_format": formats.get("t2"),
            "t3_format": formats.get("t3"),
            "t4_format": formats.get("t4"),
            "mixed_format": _as_int_bool(parsed.get("mixed_format")),
            "parse_status": status,
            "source_kind": parsed.get("source_kind"),
            "check_status": check_status,
            "checks_failed": failed,
            "narrative_mismatch": 1 if narrative else 0,
            **{col: _headline(cells, keys) for col, keys in schema.HEADLINES.items()},
            "url": url,
            "sha256": sha256,
            "updated_at": now,
        }
        if row is None:
            cols = ", ".join(fields)
            cur = conn.execute(
                f"INSERT INTO reports(report_key, first_seen, {cols}) VALUES (?, ?, {', '.join('?' * len(fields))})",
                (key, now, *fields.values()),
            )
            report_id = int(cur.lastrowid or 0)
            version, prev_version_id, change = 1, None, "new"
        else:
            report_id, prev_version_id = row[0], row[2]
            version, change = int(row[3]) + 1, "new_version"
            conn.execute("UPDATE versions SET is_current = 0 WHERE report_id = ?", (report_id,))
            for table in ("t3", "t4", "t2", "checks", "sections"):
                conn.execute(
                    f"UPDATE {table} SET is_current = 0 WHERE report_id = ? AND is_current = 1", (report_id,)
                )
        flags: dict[str, Any] = parsed.get("flags") or {}
        raws: dict[str, Any] = parsed.get("raw") or {}
        paths: dict[str, Any] = parsed.get("paths") or {}
        cell_path = _main_path(paths)
        extra = {k: v for k, v in parsed.items() if k not in PARSE_FIELDS}
        cur = conn.execute(
            "INSERT INTO versions(report_id, version, is_current, sha256, url, source, origin, run_id, saved_at, ok,"
            " error, status, source_kind, title, agency, year, year_source, published, scope, t2_format, t3_format,"
            " t4_format, mixed_format, check_status, checks_failed, checks_unknown, cell_path, warnings, extra,"
            " parser_version, reparse)"
            " VALUES (?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                report_id, version, sha256, url, parsed.get("source"), source, run_id, now,
                None if parsed.get("ok") is None else _as_int_bool(parsed.get("ok")),
                parsed.get("error"), status, parsed.get("source_kind"), parsed.get("title"), parsed.get("agency"),
                year, parsed.get("year_source"), parsed.get("published"), parsed.get("scope"),
                formats.get("t2"), formats.get("t3"), formats.get("t4"), fields["mixed_format"],
                check_status, failed, unknown, cell_path, to_json(parsed.get("warnings")), to_json(extra or None),
                parser_version, 1 if reparse else 0,
            ),
        )  # fmt: skip
        version_id = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO version_texts(version_id, text) VALUES (?, ?)",
            (version_id, parsed.get("text") or ""),
        )
        # cells: one multi-row INSERT of (key id, value, raw, flag, path) columns zipped in C; the layout of the
        # wide tables 二/三/四 comes from a plan cached per cell-key sequence (reports of one format share it)
        keys = tuple(cells)
        plan = self._plans.get(keys) or self._plan(conn, keys)
        values = list(cells.values())
        self._ins_cells.run(
            conn,
            [version_id, cell_path],
            list(
                chain.from_iterable(
                    zip(
                        plan.key_ids,
                        values,
                        map(raws.get, keys),
                        map(flags.get, keys),
                        map(paths.get, keys),
                        strict=True,
                    )
                )
            ),
        )
        values.append(None)  # what a wide column that no cell fills reads
        province = region.province
        for tbl, rows in plan.wide.items():
            wide_vals: list[Any] = []
            add = wide_vals.extend
            for row_no, row_key, get in rows:
                add((row_no, row_key, *get(values)))
            consts = [version_id, report_id, year, province]
            if tbl != "t4":
                consts.append(formats.get(tbl))
            self._ins_wide[tbl].run(conn, consts, wide_vals)
        if checks:
            check_vals: list[Any] = []
            add = check_vals.extend
            for i, c in enumerate(checks):
                add(
                    (
                        i, c.get("rule") or "", c.get("scope") or "", c.get("status") or "unknown",
                        c.get("lhs"), c.get("rhs"), c.get("detail"),
                    )
                )  # fmt: skip
            self._ins_checks.run(conn, [version_id, report_id, year, province], check_vals)
        sections = [(version_id, report_id, k, t or "") for k, t in (parsed.get("sections") or {}).items()]
        if sections:
            conn.executemany(
                "INSERT INTO sections(version_id, report_id, is_current, key, text) VALUES (?,?,1,?,?)",
                sections,
            )
            self._fts_pending.add(version_id)
        changed = 0
        if prev_version_id is None:
            # the report row was just written with these fields: only the version link is new
            conn.execute("UPDATE reports SET current_version_id = ? WHERE id = ?", (version_id, report_id))
        else:
            changed = self._record_changes(conn, report_id, prev_version_id, version_id)
            sets = ", ".join(f"{k} = ?" for k in fields)
            conn.execute(
                f"UPDATE reports SET {sets}, current_version_id = ?, versions = ?,"
                " changed_after_publication = max(changed_after_publication, ?) WHERE id = ?",
                # a re-parse of the same bytes is not a change of the published document
                (*fields.values(), version_id, version, 0 if reparse else 1, report_id),
            )
        conn.execute(
            "UPDATE documents SET parse_status = ?, reason = NULL WHERE sha256 = ?", (status, sha256)
        )
        if changed:
            logger.info(
                "report %s: version %d differs in %d cells%s",
                key,
                version,
                changed,
                " (re-parse)" if reparse else "",
            )
        return SaveResult(
            out_status or change,
            report_id,
            version,
            sha256,
            change=change,
            reason="re-parse" if reparse else None,
        )

    def _plan(self, conn: sqlite3.Connection, keys: tuple[str, ...]) -> _Plan:
        """The row plan of a cell-key sequence (new keys and row labels are added to the archive here)."""
        if self._row_keys is None:
            self._row_keys = {r for (r,) in conn.execute("SELECT row_key FROM row_labels")}
        missing = len(keys)  # index of the None appended to the cell values
        key_ids: list[int] = []
        wide: dict[str, dict[str, list[int]]] = {"t3": {}, "t4": {}, "t2": {}}
        for i, k in enumerate(keys):
            kid, tbl, row_key, col_idx = self._key_info.get(k) or self._info(k)
            key_ids.append(kid)
            if col_idx >= 0:
                idx = wide[tbl].get(row_key)
                if idx is None:
                    idx = wide[tbl][row_key] = [missing] * len(_WIDE_COLS_SEQ[tbl])
                idx[col_idx] = i
        plan_wide: dict[str, list[tuple[int, str, Any]]] = {}
        for tbl, rows in wide.items():
            if not rows:
                continue
            for r in rows.keys() - self._row_keys:  # a row the archive has no label for yet
                conn.execute("INSERT OR IGNORE INTO row_labels VALUES (?, ?, ?, ?)", (r, tbl, r, r))
                self._row_keys.add(r)
            order = _WIDE_ORDER[tbl]
            plan_wide[tbl] = [
                (order.get(r, 100 + n), r, itemgetter(*idx)) for n, (r, idx) in enumerate(rows.items())
            ]
        if len(self._plans) >= 4096:  # bounded: layouts repeat, odd ones come and go
            self._plans.clear()
        plan = self._plans[keys] = _Plan(key_ids, plan_wide)
        return plan

    def _record_changes(self, conn: sqlite3.Connection, report_id: int, old_id: int, new_id: int) -> int:
        rows = conn.execute(
            """
            SELECT k.key, o.value, n.value, coalesce(o.raw, CAST(o.value AS TEXT)), coalesce(n.raw, CAST(n.value AS TEXT))
            FROM keys k
            LEFT JOIN cells o ON o.key_id = k.id AND o.version_id = ?
            LEFT JOIN cells n ON n.key_id = k.id AND n.version_id = ?
            WHERE (o.key_id IS NOT NULL OR n.key_id IS NOT NULL)
              AND (o.key_id IS NULL OR n.key_id IS NULL OR o.value IS NOT n.value
                   OR coalesce(o.raw, CAST(o.value AS TEXT)) IS NOT coalesce(n.raw, CAST(n.value AS TEXT)))
            """,
            (old_id, new_id),
        ).fetchall()
        conn.executemany(
            "INSERT INTO changes(report_id, from_version_id, to_version_id, key, old_value, new_value, old_raw, new_raw)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [(report_id, old_id, new_id, *r) for r in rows],
        )
        return len(rows)

    # --- re-parse ----------------------------------------------------------------------------------
    def reparse_candidates(
        self, *, since: str | None = None, sha256s: list[str] | tuple[str, ...] | None = None
    ) -> list[str]:
        """Documents a re-parse looks at, oldest first: every document that was parsed before (crawled list
        pages never were) and is the current version of a report or of none; ``since``: first archived on or
        after that date (``YYYY-MM-DD`` or an ISO time); ``sha256s``: exactly these (a unique prefix of at
        least 6 hex digits will do; older versions are included, and are then reported ``skipped``)."""
        if sha256s:
            out: list[str] = []
            for want in sha256s:
                want = want.strip().lower()
                if len(want) < 6:
                    raise ArchiveError(f"sha256 {want!r}: give at least 6 hex digits")
                rows = self._conn.execute(
                    "SELECT sha256 FROM documents WHERE sha256 >= ? AND sha256 < ? LIMIT 2",
                    (want, want + "g"),
                ).fetchall()
                if not rows:
                    raise ArchiveError(f"no document {want}")
                if len(rows) > 1:
                    raise ArchiveError(f"sha256 prefix {want} is not unique")
                out.append(rows[0][0])
            return list(dict.fromkeys(out))
        sql = (
            "SELECT d.sha256 FROM documents d WHERE d.parse_status IS NOT NULL"
            " AND (EXISTS (SELECT 1 FROM reports r WHERE r.sha256 = d.sha256)"
            "      OR NOT EXISTS (SELECT 1 FROM versions v WHERE v.sha256 = d.sha256))"
        )
        args: list[Any] = []
        if since:
            sql += " AND d.first_seen >= ?"
            args.append(since)
        return [r[0] for r in self._conn.execute(sql + " ORDER BY d.first_seen, d.sha256", args)]

    def reparse_context(self, sha256: str) -> dict[str, Any]:
        """What re-parsing a stored document needs besides its bytes, from the stored report version (or
        the newest fetch): ``source``, ``url`` and ``content_type`` for the parser (as the first parse got
        them), ``title_hint`` (the stored title; parsers use it only when the document names none), and
        ``save_url``, ``origin``, ``region_hint`` for :meth:`save_report`."""
        fetch = self._conn.execute(
            "SELECT url, final_url, content_type, source FROM fetches WHERE sha256 = ?"
            " ORDER BY fetched_at DESC, id DESC LIMIT 1",
            (sha256,),
        ).fetchone()
        furl, ffinal, fctype, fsource = fetch or (None, None, None, None)
        doc_ctype = self._conn.execute(
            "SELECT content_type FROM documents WHERE sha256 = ?", (sha256,)
        ).fetchone()
        ver = self._conn.execute(
            "SELECT v.source, v.url, v.origin, v.title, r.province, r.prefecture, r.county, r.region_code"
            " FROM reports r JOIN versions v ON v.id = r.current_version_id WHERE r.sha256 = ? ORDER BY r.id LIMIT 1",
            (sha256,),
        ).fetchone()
        source, save_url, origin, title = (
            (ver[0], ver[1], ver[2], ver[3]) if ver else (None, furl, fsource, None)
        )
        if source is None and fsource and str(fsource).startswith("file:"):
            source = str(fsource)[5:]  # `ogi import` parses with the file path as source
        source = source or furl
        parse_url = ffinal or furl or save_url or (Path(source).name if source else None)
        hint = None
        if ver and (ver[4] or ver[7]):
            hint = {"province": ver[4], "prefecture": ver[5], "county": ver[6], "code": ver[7]}
        return {
            "source": source,
            "url": parse_url,
            "content_type": fctype or (doc_ctype[0] if doc_ctype else None),
            "title_hint": title,
            "save_url": save_url,
            "origin": origin,
            "region_hint": hint,
        }

    def reparse(
        self,
        parse: Callable[[bytes, dict[str, Any]], dict[str, Any]],
        *,
        parser_version: str | None = None,
        since: str | None = None,
        sha256s: list[str] | tuple[str, ...] | None = None,
        chunk: int = 50,
        on_result: Callable[[ReparseResult], None] | None = None,
    ) -> list[ReparseResult]:
        """Re-parse stored documents with ``parse(data, context) -> parse dict`` (the current parser; see
        :meth:`reparse_context`) and save each through :meth:`save_report` with ``reparse=True``: a parse
        that differs from the stored one becomes a new version flagged ``reparse`` with ``parser_version``,
        an identical one changes nothing. Documents as :meth:`reparse_candidates` selects them (all when
        neither ``since`` nor ``sha256s`` is given). Parsing happens outside the write transactions; each
        document is saved all or nothing, and a document that cannot be read or parsed is reported
        (``status`` ``error``) while the rest goes on. The work is recorded as a run of kind ``reparse``.
        """
        shas = self.reparse_candidates(since=since, sha256s=sha256s)
        pv = parser_version if parser_version is not None else self.parser_version
        run_id = self.start_run(kind="reparse", trigger="manual")
        results: list[ReparseResult] = []
        counts: dict[str, int] = {}

        def done(res: ReparseResult) -> None:
            results.append(res)
            counts[res.status] = counts.get(res.status, 0) + 1
            if on_result is not None:
                on_result(res)

        try:
            for i in range(0, len(shas), max(1, chunk)):
                parsed_docs: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
                for sha in shas[i : i + chunk]:
                    try:
                        ctx = self.reparse_context(sha)
                        data = self.read_document(sha)
                    except ArchiveError as exc:
                        done(ReparseResult(sha, "error", reason=str(exc)))
                        continue
                    try:
                        parsed = parse(data, ctx)
                    except Exception as exc:  # the parser promises not to raise; keep going if it does
                        logger.exception("parser crashed re-parsing %s", sha)
                        done(ReparseResult(sha, "error", reason=f"parser crashed: {exc!r}"))
                        continue
                    parsed_docs.append((sha, ctx, parsed))
                with self.batch(size=len(parsed_docs) + 1, seconds=60.0):
                    for sha, ctx, parsed in parsed_docs:
                        try:
                            res = self.save_report(
                                parsed, sha256=sha, url=ctx["save_url"], source=ctx["origin"],
                                region_hint=ctx["region_hint"], run_id=run_id, parser_version=pv, reparse=True,
                            )  # fmt: skip
                        except ArchiveError as exc:
                            done(ReparseResult(sha, "error", reason=str(exc)))
                            continue
                        status = res.status if res.change is None else res.change
                        done(ReparseResult(sha, status, res.report_id, res.version, res.reason))
        except BaseException:
            self.finish_run(run_id, status="interrupted", counts=counts)
            raise
        failed = counts.get("error", 0)
        status = "empty" if not results else ("failed" if failed == len(results) else "ok")
        self.finish_run(run_id, status=status, counts=counts, detail=f"parser {pv}" if pv else "")
        return results

    # --- queries (see archive.queries for more) ----------------------------------------------------
    def report(self, report_id: int) -> dict[str, Any] | None:
        cur = self._conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,))
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row, strict=True))


def open_archive(path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> Archive:
    """Open (creating or migrating) the archive at ``path``; its blob store is ``<path>.blobs/``."""
    return Archive(path, busy_timeout=busy_timeout)
