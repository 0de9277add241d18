"""The archive: documents (raw bytes with provenance), reports with versions, tables, checks, sections, runs.

One :class:`Archive` wraps one SQLite file (WAL, foreign keys) and a content-addressed blob store beside it
(``<db>.blobs/*.pack``, see :mod:`archive.blobs`). Each report is written in one ``BEGIN IMMEDIATE`` transaction, so a reader
(Datasette) never sees half a report and a second writer gets a clear :class:`ArchiveError`.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from archive import schema
from archive.blobs import PackStore
from archive.common import ArchiveError, ReparseResult, SaveResult, now_iso, to_json
from archive.documents import DocumentsMixin
from archive.maintenance import GcResult, MaintenanceMixin
from archive.queries import comparable_parse
from archive.reparse import ReparseMixin
from archive.reports import ReportsMixin, _Plan
from archive.runs import RunsMixin

logger = logging.getLogger(__name__)

REPORT_STATUSES = schema.REPORT_STATUSES
RUN_STATUSES = schema.RUN_STATUSES
PARSE_FIELDS = schema.PARSE_FIELDS
EXPORT_FIELDS = schema.EXPORT_FIELDS
# kept importable from here (they moved with the split of this module)
__all__ = [
    "EXPORT_FIELDS",
    "PARSE_FIELDS",
    "REPORT_STATUSES",
    "RUN_STATUSES",
    "Archive",
    "ArchiveError",
    "GcResult",
    "ReparseResult",
    "SaveResult",
    "comparable_parse",
    "now_iso",
    "open_archive",
    "to_json",
]  # fmt: skip


def seed_keys() -> list[str]:
    """Given the key structure of :mod:`archive.schema`, return every cell key a new archive seeds, in seed
    (key id) order: table 三 rows (all formats and derived sums) by column, table 四, table 二 rows by the
    union of their columns over the formats (gov2021 first)."""
    keys = [f"{row}.{c}" for row in schema.T3_ALL_ROWS for c in schema.T3_COLS]
    keys.extend(schema.T4_KEYS)
    t2_cols: dict[str, dict[str, None]] = {row: {} for row in schema.T2_ROW_LABELS}
    for rows in schema.T2_FORMAT_ROWS.values():
        for row, cols in rows:
            t2_cols[row].update(dict.fromkeys(cols))
    keys.extend(f"{row}.{c}" for row, cols in t2_cols.items() for c in cols)
    return keys


def seed_row_labels() -> list[tuple[str, str, str, str]]:
    """Given the labels of :mod:`archive.schema`, return the ``row_labels`` rows (row_key, table, zh, en)
    a new archive seeds."""
    return [(r, tbl, zh, en) for tbl, rows in schema.ROW_LABELS.items() for r, (zh, en) in rows.items()]


_DISK_ERRORS = (10, 13)  # SQLITE_IOERR, SQLITE_FULL (primary result codes)


def os_error_line(path: Path | str, exc: OSError) -> str:
    """Given the file being written and an OS error, return one clear line (``…: cannot write: No space left
    on device (ENOSPC)``) for an :class:`ArchiveError`."""
    name = errno.errorcode.get(exc.errno or 0)
    where = exc.filename or path
    return f"{where}: cannot write: {exc.strerror or exc}" + (f" ({name})" if name else "")


def _wal_has_frames(path: Path) -> bool:
    """Given a database path, return whether its ``-wal`` file holds frames (pages not yet checkpointed)."""
    try:
        return path.with_name(path.name + "-wal").stat().st_size > 32  # the WAL header is 32 bytes
    except OSError:
        return False


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


class Archive(DocumentsMixin, ReportsMixin, ReparseMixin, RunsMixin, MaintenanceMixin):
    """An open archive. Use :func:`open_archive`."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly  # opened by a read command: never created, migrated or written
        self.immutable = False  # read-only through ``immutable=1`` (no -wal/-shm beside the file)
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
        suspect = None  # a main file shorter than its header says, with pages in the WAL: SQLite decides
        if readonly:
            _readonly_precheck(self.path)
        if self.path.exists():
            problem = _sqlite_header_problem(self.path)
            if problem and problem.startswith("truncated") and _wal_has_frames(self.path):
                suspect, problem = problem, None
            if problem:
                raise ArchiveError(f"{self.path}: {problem}")
        try:
            if readonly:
                conn = self._connect_readonly()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    str(self.path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
                )
            self._conn = conn
            self._db = sqlite_utils.Database(conn)
            conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                mode = _set_wal(conn, busy_timeout)
                if str(mode).lower() != "wal":
                    logger.warning("%s: journal_mode is %s, not WAL", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            self._init_inserts(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
            if suspect is not None:
                self._quick_check(suspect)
            if readonly:
                self._check_readable()
            else:
                self._migrate()
            self._load_keys()
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise ArchiveError(f"{self.path}: cannot open archive: {exc}") from exc
        except OSError as exc:
            self._close_quietly()
            raise ArchiveError(f"{self.path}: cannot open archive: {exc.strerror or exc}") from exc
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

    def _connect_readonly(self) -> sqlite3.Connection:
        """Given an existing archive file, return a connection that cannot write and creates no file
        (:func:`connect_readonly`)."""
        conn, self.immutable = connect_readonly(self.path, self._busy_timeout)
        return conn

    def _check_readable(self) -> None:
        """Given a read-only connection, raise ArchiveError unless the file is an archive of exactly this
        program's schema version (a read command neither creates nor migrates)."""
        latest = max(schema.MIGRATIONS)
        current = self.schema_version
        self._check_migratable(current, latest)
        if current == 0:
            raise ArchiveError(f"{self.path}: not an OGI archive (no archive tables)")
        if current < latest:
            raise ArchiveError(
                f"{self.path}: schema version {current} is older than this program ({latest}); open it once "
                "with a write command (`ogi import`, `ogi crawl`) to migrate it"
            )
        if not self._seeded():
            raise ArchiveError(f"{self.path}: archive has no keys (an unfinished creation): not readable")

    def _quick_check(self, suspect: str) -> None:
        """Given why the file header looked wrong, let SQLite (which reads the WAL) decide: quick_check."""
        rows = [r[0] for r in self._conn.execute("PRAGMA quick_check").fetchall()]
        if rows != ["ok"]:
            raise ArchiveError(f"{self.path}: {suspect}, and quick_check says: {rows[0] if rows else 'nothing'}")
        logger.info("%s: %s, but the WAL holds the pages and quick_check is ok", self.path, suspect)

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
        """Bring the file to the latest schema, creating and seeding a new archive, in ONE write transaction.

        The version is read after ``BEGIN IMMEDIATE``, so two processes creating the same new file serialise
        (the second finds it created) and a kill mid-way leaves the file as it was; an archive left without
        keys by an older, non-atomic creation is seeded here too.
        """
        latest = max(schema.MIGRATIONS)
        if self.schema_version == latest and self._seeded():
            return
        self._begin()
        try:
            current = self.schema_version
            self._check_migratable(current, latest)
            for version in range(current + 1, latest + 1):
                logger.info("%s: migrating schema to version %d", self.path, version)
                self._run_script(schema.MIGRATIONS[version])
                for table, before, after in schema.SCHEMA_EDITS.get(version, ()):
                    self._edit_table_sql(table, before, after)
                self._conn.execute(
                    "INSERT OR REPLACE INTO archive_meta(key, value) VALUES ('schema_version', ?)", (str(version),)
                )
                self._conn.execute(
                    "INSERT OR REPLACE INTO archive_meta(key, value) VALUES (?, ?)", (f"migrated_at_v{version}", now_iso())
                )
                self._conn.execute(f"PRAGMA user_version = {int(version)}")
            if not self._seeded():
                self._seed_keys()
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._key_ids = {}
            raise

    def _edit_table_sql(self, table: str, before: str, after: str) -> None:
        """Given a table and a text edit of its CREATE statement that only widens a constraint, apply it inside
        the open transaction (SQLite's procedure for constraint changes ALTER TABLE cannot make: edit
        sqlite_schema under writable_schema, then bump schema_version so every connection re-reads it)."""
        row = self._conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if row is None or before not in row[0]:
            raise ArchiveError(f"{self.path}: cannot migrate table {table}: its definition is not the expected one")
        version = int(self._conn.execute("PRAGMA schema_version").fetchone()[0])
        self._conn.execute("PRAGMA writable_schema = ON")
        try:
            self._conn.execute(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (row[0].replace(before, after), table)
            )
            self._conn.execute(f"PRAGMA schema_version = {version + 1}")
        finally:
            self._conn.execute("PRAGMA writable_schema = OFF")

    def _check_migratable(self, current: int, latest: int) -> None:
        """Given the file's schema version, raise ArchiveError unless this program can bring it to ``latest``."""
        if current > latest:
            raise ArchiveError(f"{self.path}: schema version {current} is newer than this program ({latest})")
        if current and not self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'reports'").fetchone():
            raise ArchiveError(f"{self.path}: user_version {current} but no archive tables: not an OGI archive")
        if current == 0 and self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone():
            raise ArchiveError(f"{self.path}: database has tables but is not an OGI archive")

    def _run_script(self, script: str) -> None:
        """Given an SQL script, run its statements one by one inside the open transaction (executescript
        would commit it first)."""
        stmt = ""
        for line in script.splitlines(keepends=True):
            stmt += line
            if sqlite3.complete_statement(stmt):
                self._conn.execute(stmt)
                stmt = ""
        if stmt.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in stmt.splitlines()):
            self._conn.execute(stmt)

    def _seeded(self) -> bool:
        """Given an archive at some schema version, return whether its keys are seeded."""
        try:
            return self._conn.execute("SELECT 1 FROM keys LIMIT 1").fetchone() is not None
        except sqlite3.OperationalError:  # no keys table yet
            return False

    def _seed_keys(self) -> None:
        """Seed the keys and row labels, inside the caller's open transaction."""
        for key in seed_keys():
            self._key_id(key)
        self._conn.executemany(
            "INSERT INTO row_labels(row_key, tbl, label_zh, label_en) VALUES (?, ?, ?, ?)", seed_row_labels()
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
        if self.readonly:
            raise ArchiveError(f"{self.path}: opened read-only; this command does not write to the archive")
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
        except (sqlite3.Error, OSError) as exc:
            if self._conn.in_transaction:
                self._rollback("ROLLBACK")
            self._restore_keys(keys_before)
            self._raise_write_error(exc)
            raise ArchiveError(f"{self.path}: commit failed: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): all or nothing; a busy database is an ArchiveError, and so
        is a full disk or another OS error while writing (one clear line, never a raw OSError).

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
            except BaseException as exc:
                self._rollback("ROLLBACK TO report", "RELEASE report")
                self._restore_keys(keys_before)
                self._raise_write_error(exc)
                raise
            self._conn.execute("RELEASE report")
            self._batch_tick()
            return
        self._begin()
        try:
            yield self._conn
        except BaseException as exc:
            self._rollback("ROLLBACK")
            self._restore_keys(keys_before)
            self._raise_write_error(exc)
            raise
        self._commit(keys_before)

    def _rollback(self, *statements: str) -> None:
        """Given the statements that undo the open transaction or savepoint, run them (a failing rollback,
        e.g. on a full disk, leaves SQLite to roll back the journal at the next open)."""
        try:
            for sql in statements:
                self._conn.execute(sql)
        except sqlite3.Error as exc:
            logger.warning("%s: rollback failed: %s", self.path, exc)

    def _raise_write_error(self, exc: BaseException) -> None:
        """Given an exception from inside a write, raise it as one clear ArchiveError when it is an OS error
        or SQLite's disk full / I/O error; return (and let the caller re-raise it) otherwise."""
        if isinstance(exc, OSError):
            raise ArchiveError(os_error_line(self.path, exc)) from exc
        if isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in _DISK_ERRORS:
            raise ArchiveError(f"{self.path}: cannot write: {exc} (disk full or I/O error)") from exc

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
        """Close the blob store (syncing it) and the database; an OS error syncing is an ArchiveError."""
        try:
            self.blobs.close()
        except OSError as exc:
            self._close_quietly()
            raise ArchiveError(os_error_line(self.blob_dir, exc)) from exc
        try:
            if not self._conn.in_transaction and not self.readonly:
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

    # --- queries (see archive.queries for more) ----------------------------------------------------
    def report(self, report_id: int) -> dict[str, Any] | None:
        cur = self._conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,))
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row, strict=True))


def _readonly_precheck(path: Path) -> None:
    """Given the path a read command was given, raise a one-line ArchiveError unless it is a non-empty file."""
    if not path.exists():
        raise ArchiveError(f"{path}: no such archive (run `ogi import` or `ogi crawl` first)")
    if path.is_dir():
        raise ArchiveError(f"{path}: is a directory, not an archive database")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if size == 0:
        raise ArchiveError(f"{path}: empty file, not an OGI archive")



def _set_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    """Given a new connection, switch the file to WAL and return the journal mode it has.

    Switching a new file's journal mode needs its exclusive lock, and SQLite answers "database is locked" at
    once, without its busy handler, while another process is creating the same file (two crawls or imports
    started together): retry for the busy timeout, then let the error through."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def connect_readonly(path: Path, busy_timeout: float = 10.0) -> tuple[sqlite3.Connection, bool]:
    """Given an existing database file, return (a connection that cannot write and creates no file, whether
    it was opened ``immutable``).

    ``mode=ro`` when a ``-wal`` file is already there (a writer is, or was, at work: its pages must be read);
    otherwise ``immutable=1``, which opens a checkpointed file without creating ``-wal``/``-shm`` (so a
    read-only file, directory or mount works too). ``mode=ro`` failing (a stale ``-wal`` on a read-only mount)
    falls back to ``immutable=1``. Either way ``query_only`` refuses writes."""
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    tries = ([f"{uri}?mode=ro"] if wal.exists() else []) + [f"{uri}?immutable=1"]
    last: sqlite3.Error | None = None
    for target in tries:
        conn = sqlite3.connect(target, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:  # e.g. cannot open the -shm of a read-only mount
            conn.close()
            last = exc
            continue
        conn.execute("PRAGMA query_only = ON")
        return conn, target.endswith("immutable=1")
    raise sqlite3.OperationalError(str(last))

def open_archive(
    path: str | os.PathLike[str], *, busy_timeout: float = 10.0, readonly: bool = False
) -> Archive:
    """Open (creating or migrating) the archive at ``path``; its blob store is ``<path>.blobs/``.

    ``readonly=True`` (read commands: export, serve, status, sources, doc): the file must already be an
    archive of this program's schema version; nothing is created, migrated, seeded or written (``mode=ro`` or
    ``immutable=1``, ``query_only``), so a read-only file, directory or mount works; any write raises."""
    return Archive(path, busy_timeout=busy_timeout, readonly=readonly)
