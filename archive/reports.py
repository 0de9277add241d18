"""Reports: one parse object saved as a new report, a new version of one, or nothing new.

``save_report`` writes one report in one transaction (a savepoint inside :meth:`Archive.batch`), in small
steps: the report row (``_report_fields``, ``_upsert_report``), the version (``_insert_version``), its cells
and the wide tables 二/三/四 (``_insert_cells``, ``_insert_wide``), checks, sections, and for a new version
the differences from the previous one (``_record_changes``). Rows go in with multi-row INSERTs
(:class:`_MultiInsert`) laid out by a row plan cached per cell-key sequence (:class:`_Plan`).
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from archive import schema
from archive.common import ArchiveError, SaveResult, now_iso, to_json
from archive.queries import comparable_parse, main_path, parse_object
from archive.regions import Region, infer_region, region_from_hint

logger = logging.getLogger(__name__)

PARSE_FIELDS = schema.PARSE_FIELDS
REPORT_STATUSES = schema.REPORT_STATUSES


def _as_int_bool(v: Any) -> int:
    """Given any value, return 1 when it is true, else 0 (SQLite booleans)."""
    return 1 if v else 0


def _report_key(parsed: dict[str, Any], sha256: str, url: str | None) -> str:
    """Given a parse, return its report identity: ``agency|year[|aggregate]``, else its URL or sha256."""
    agency = (parsed.get("agency") or "").strip()
    year = parsed.get("year")
    if agency and isinstance(year, int):
        key = f"{agency}|{year}"
        if parsed.get("scope") == "aggregate":
            key += "|aggregate"
        return key
    return f"url:{url}" if url else f"sha256:{sha256}"


def _headline(cells: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """Given the cells and the keys of one headline, return their sum (None if any is missing or not a number)."""
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
    narrative = sum(
        1 for c in checks if c.get("status") == "fail" and schema.rule_kind(str(c.get("rule", ""))) == "narrative"
    )
    status = "fail" if failed else ("unknown" if unknown else "ok")
    return status, failed, unknown, narrative


_WIDE_COLS_SEQ: dict[str, tuple[str, ...]] = {
    "t3": schema.T3_WIDE_COLS,
    "t4": schema.T4_COLS,
    "t2": schema.T2_WIDE_COLS,
}
_WIDE_ORDER: dict[str, dict[str, int]] = {
    "t3": {r: i for i, r in enumerate(schema.T3_ROW_LABELS)},
    "t4": {r: i for i, r in enumerate(schema.T4_GROUP_LABELS)},
    "t2": {r: i for i, r in enumerate(schema.T2_ROW_LABELS)},
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


@dataclass(slots=True)
class _Save:
    """One ``save_report`` call as the insert steps need it: the parse and where it came from, plus what is
    derived once (time, region, checks summary, the version's main reader path)."""

    parsed: dict[str, Any]
    status: str
    sha256: str
    url: str | None
    source: str | None
    run_id: int | None
    parser_version: str | None
    reparse: bool
    now: str
    region: Region
    checks: list[dict[str, Any]]
    check_summary: tuple[str | None, int, int, int]
    cell_path: Any

    @property
    def formats(self) -> dict[str, Any]:
        return self.parsed.get("formats") or {}


def _report_fields(s: _Save) -> dict[str, Any]:
    """Given one save, return the ``reports`` columns it sets (everything but the key and first_seen)."""
    parsed, region, formats = s.parsed, s.region, s.formats
    cells: dict[str, Any] = parsed.get("cells") or {}
    check_status, failed, _unknown, narrative = s.check_summary
    return {
        "agency": parsed.get("agency"),
        "year": parsed.get("year"),
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
        "parse_status": s.status,
        "source_kind": parsed.get("source_kind"),
        "check_status": check_status,
        "checks_failed": failed,
        "narrative_mismatch": 1 if narrative else 0,
        **{col: _headline(cells, keys) for col, keys in schema.HEADLINES.items()},
        "url": s.url,
        "sha256": s.sha256,
        "updated_at": s.now,
    }


_VERSION_INSERT = (
    "INSERT INTO versions(report_id, version, is_current, sha256, url, source, origin, run_id, saved_at, ok,"
    " error, status, source_kind, title, agency, year, year_source, published, scope, t2_format, t3_format,"
    " t4_format, mixed_format, check_status, checks_failed, checks_unknown, cell_path, warnings, extra,"
    " parser_version, reparse)"
    " VALUES (?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_CURRENT_TABLES: tuple[str, ...] = ("t3", "t4", "t2", "checks", "sections")  # rows flagged is_current


def _version_values(s: _Save, report_id: int, version: int) -> tuple[Any, ...]:
    """Given one save, its report and version number, return the ``versions`` row values (_VERSION_INSERT)."""
    parsed, formats = s.parsed, s.formats
    check_status, failed, unknown, _narrative = s.check_summary
    extra = {k: v for k, v in parsed.items() if k not in PARSE_FIELDS}
    return (
        report_id, version, s.sha256, s.url, parsed.get("source"), s.source, s.run_id, s.now,
        None if parsed.get("ok") is None else _as_int_bool(parsed.get("ok")),
        parsed.get("error"), s.status, parsed.get("source_kind"), parsed.get("title"), parsed.get("agency"),
        parsed.get("year"), parsed.get("year_source"), parsed.get("published"), parsed.get("scope"),
        formats.get("t2"), formats.get("t3"), formats.get("t4"), _as_int_bool(parsed.get("mixed_format")),
        check_status, failed, unknown, s.cell_path, to_json(parsed.get("warnings")), to_json(extra or None),
        s.parser_version, 1 if s.reparse else 0,
    )  # fmt: skip


class ReportsMixin:
    """Reports, versions, cells, wide tables, checks, sections and changes of :class:`archive.store.Archive`."""

    if TYPE_CHECKING:
        _conn: sqlite3.Connection
        _plans: dict[tuple[str, ...], _Plan]
        _row_keys: set[str] | None
        _key_info: dict[str, tuple[int, str, str, int]]
        _fts_pending: set[int]
        parser_version: str | None
        path: Any

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _key_id(self, key: str) -> int: ...

    def _info(self, key: str) -> tuple[int, str, str, int]:
        """(key id, table, row key, index of the column in the wide table or -1)."""
        info = self._key_info.get(key)
        if info is None:
            tbl, row, col = schema.split_key(key)
            cols = _WIDE_COLS_SEQ.get(tbl, ())
            info = (self._key_id(key), tbl, row, cols.index(col) if col in cols else -1)
            self._key_info[key] = info
        return info

    def _init_inserts(self, max_vars: int) -> None:
        """Given SQLite's bound-variable limit, prepare the multi-row INSERTs of cells, checks and wide tables."""
        self._ins_cells = _MultiInsert(*_CELLS_INSERT, max_vars)
        self._ins_checks = _MultiInsert(*_CHECKS_INSERT, max_vars)
        self._ins_wide = {t: _MultiInsert(*spec, max_vars) for t, spec in _WIDE_INSERT.items()}

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
        """Store one parsed report (``Report.to_json()``) as a new report, a new version, or nothing new.

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
                return self._save_not_report(parsed, status, sha256, reparse)
            with self._tx() as conn:
                return self._save_report_tx(
                    conn, parsed, status, sha256, url, source, region_hint, run_id, pv, reparse
                )
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path}: report not saved: {exc}") from exc
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ArchiveError(f"report not saved, bad parse object: {exc!r}") from exc

    def _save_not_report(self, parsed: dict[str, Any], status: str, sha256: str, reparse: bool) -> SaveResult:
        """Given a parse that is no report, record why on its document (a re-parse keeps a stored report)."""
        reason = str(parsed.get("error") or status)
        if reparse:
            kept = self._conn.execute("SELECT id FROM reports WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone()
            if kept is not None:  # a parser regression must not hide a stored report
                return SaveResult(
                    "not_report", kept[0], sha256=sha256, reason=f"re-parse: {reason}; the stored report is kept"
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

    def _region(
        self, parsed: dict[str, Any], hint: dict[str, Any] | None, url: str | None, source: str | None
    ) -> Region:
        """Given a parse and a caller's region hint, return the hint when it is known, else the inferred region."""
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
        """Given a stored version and a parse, return whether the parse would be stored exactly as it is."""
        return comparable_parse(parse_object(self, version_id)) == comparable_parse(parsed)  # type: ignore[arg-type]

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
        """Given a report parse inside a write transaction, save it: nothing new, a new report or a new version."""
        key = _report_key(parsed, sha256, url)
        if reparse and (skip := self._reparse_target(conn, key, sha256)) is not None:
            return skip
        row = conn.execute(
            "SELECT id, sha256, current_version_id, versions FROM reports WHERE report_key = ?", (key,)
        ).fetchone()
        out_status = status if status != "report" else None
        if row is not None and row[1] == sha256 and not (reparse and not self._same_parse(conn, row[2], parsed)):
            if not reparse:
                conn.execute("UPDATE documents SET parse_status = ? WHERE sha256 = ?", (status, sha256))
            version = conn.execute("SELECT version FROM versions WHERE id = ?", (row[2],)).fetchone()[0]
            return SaveResult(out_status or "unchanged", row[0], version, sha256, change="unchanged")
        if row is not None and row[1] != sha256 and (known := self._known_content(conn, row, sha256, parsed)):
            conn.execute("UPDATE documents SET parse_status = ? WHERE sha256 = ?", (status, sha256))
            return SaveResult(out_status or "unchanged", row[0], known, sha256, change="unchanged")
        checks = list(parsed.get("checks") or [])
        s = _Save(
            parsed, status, sha256, url, source, run_id, parser_version, reparse, now_iso(),
            self._region(parsed, region_hint, url, source), checks, _check_status(checks),
            main_path(parsed.get("paths") or {}),
        )  # fmt: skip
        fields = _report_fields(s)
        report_id, version, prev_version_id, change = self._upsert_report(conn, key, row, fields, s.now)
        version_id = self._insert_version(conn, s, report_id, version)
        self._insert_cells_and_wide(conn, s, version_id, report_id)
        self._insert_checks(conn, s, version_id, report_id)
        self._insert_sections(conn, s, version_id, report_id)
        changed = self._link_version(conn, s, report_id, prev_version_id, version_id, version, fields)
        if changed:
            logger.info(
                "report %s: version %d differs in %d cells%s", key, version, changed, " (re-parse)" if reparse else ""
            )
        return SaveResult(
            out_status or change, report_id, version, sha256, change=change, reason="re-parse" if reparse else None
        )

    def _known_content(self, conn: sqlite3.Connection, row: Any, sha256: str, parsed: dict[str, Any]) -> int | None:
        """Given a report's row and other bytes of it, return the version number they already are, when the
        bytes are a stored version of the report or parse to exactly the current version's content (the same
        report re-encoded, re-saved or fetched from a mirror: nothing was published anew); else None."""
        hit = conn.execute(
            "SELECT version FROM versions WHERE report_id = ? AND sha256 = ? ORDER BY version DESC LIMIT 1",
            (row[0], sha256),
        ).fetchone()
        if hit is not None:
            return int(hit[0])
        stored = parse_object(self, row[2])  # type: ignore[arg-type]
        if comparable_parse({**stored, "source": None}) == comparable_parse({**parsed, "source": None}):
            return int(conn.execute("SELECT version FROM versions WHERE id = ?", (row[2],)).fetchone()[0])
        return None

    def _upsert_report(
        self, conn: sqlite3.Connection, key: str, row: Any, fields: dict[str, Any], now: str
    ) -> tuple[int, int, int | None, str]:
        """Given a report key, its existing row (or None) and its fields, return (report id, new version
        number, previous current version id, ``new`` | ``new_version``): a new report row is inserted, an
        existing report's rows stop being current (the report row itself is updated in _link_version)."""
        if row is None:
            cols = ", ".join(fields)
            cur = conn.execute(
                f"INSERT INTO reports(report_key, first_seen, {cols}) VALUES (?, ?, {', '.join('?' * len(fields))})",
                (key, now, *fields.values()),
            )
            return int(cur.lastrowid or 0), 1, None, "new"
        report_id = row[0]
        conn.execute("UPDATE versions SET is_current = 0 WHERE report_id = ?", (report_id,))
        for table in _CURRENT_TABLES:
            conn.execute(f"UPDATE {table} SET is_current = 0 WHERE report_id = ? AND is_current = 1", (report_id,))
        return report_id, int(row[3]) + 1, row[2], "new_version"

    def _insert_version(self, conn: sqlite3.Connection, s: _Save, report_id: int, version: int) -> int:
        """Given one save, insert its ``versions`` and ``version_texts`` rows and return the version id."""
        cur = conn.execute(_VERSION_INSERT, _version_values(s, report_id, version))
        version_id = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO version_texts(version_id, text) VALUES (?, ?)", (version_id, s.parsed.get("text") or "")
        )
        return version_id

    def _insert_cells_and_wide(self, conn: sqlite3.Connection, s: _Save, version_id: int, report_id: int) -> None:
        """Given one save, insert its cells (one multi-row INSERT of key id, value, raw, flag, path zipped in C)
        and the rows of the wide tables 二/三/四, laid out by the plan cached for its cell-key sequence."""
        cells: dict[str, Any] = s.parsed.get("cells") or {}
        keys = tuple(cells)
        plan = self._plans.get(keys) or self._plan(conn, keys)
        values = list(cells.values())
        flags: dict[str, Any] = s.parsed.get("flags") or {}
        raws: dict[str, Any] = s.parsed.get("raw") or {}
        paths: dict[str, Any] = s.parsed.get("paths") or {}
        columns = zip(plan.key_ids, values, map(raws.get, keys), map(flags.get, keys), map(paths.get, keys),
                      strict=True)  # fmt: skip
        self._ins_cells.run(conn, [version_id, s.cell_path], list(chain.from_iterable(columns)))
        self._insert_wide(conn, s, plan, values, version_id, report_id)

    def _insert_wide(
        self, conn: sqlite3.Connection, s: _Save, plan: _Plan, values: list[Any], version_id: int, report_id: int
    ) -> None:
        """Given the plan and the cell values (in key order), insert the rows of the wide tables 二/三/四."""
        values.append(None)  # what a wide column that no cell fills reads
        year, province, formats = s.parsed.get("year"), s.region.province, s.formats
        for tbl, rows in plan.wide.items():
            wide_vals: list[Any] = []
            add = wide_vals.extend
            for row_no, row_key, get in rows:
                add((row_no, row_key, *get(values)))
            consts = [version_id, report_id, year, province]
            if tbl != "t4":
                consts.append(formats.get(tbl))
            self._ins_wide[tbl].run(conn, consts, wide_vals)

    def _insert_checks(self, conn: sqlite3.Connection, s: _Save, version_id: int, report_id: int) -> None:
        """Given one save, insert its checks in their order."""
        if not s.checks:
            return
        check_vals: list[Any] = []
        add = check_vals.extend
        for i, c in enumerate(s.checks):
            add((i, c.get("rule") or "", c.get("scope") or "", c.get("status") or "unknown",
                 c.get("lhs"), c.get("rhs"), c.get("detail")))  # fmt: skip
        self._ins_checks.run(conn, [version_id, report_id, s.parsed.get("year"), s.region.province], check_vals)

    def _insert_sections(self, conn: sqlite3.Connection, s: _Save, version_id: int, report_id: int) -> None:
        """Given one save, insert its sections (full-text indexed at commit)."""
        sections = [(version_id, report_id, k, t or "") for k, t in (s.parsed.get("sections") or {}).items()]
        if sections:
            conn.executemany(
                "INSERT INTO sections(version_id, report_id, is_current, key, text) VALUES (?,?,1,?,?)", sections
            )
            self._fts_pending.add(version_id)

    def _link_version(
        self,
        conn: sqlite3.Connection,
        s: _Save,
        report_id: int,
        prev_version_id: int | None,
        version_id: int,
        version: int,
        fields: dict[str, Any],
    ) -> int:
        """Given the new version, make it the report's current one (for a new version: record the changed
        cells and update the report row) and mark the document parsed; return the number of changed cells."""
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
                (*fields.values(), version_id, version, 0 if s.reparse else 1, report_id),
            )
        conn.execute("UPDATE documents SET parse_status = ?, reason = NULL WHERE sha256 = ?", (s.status, s.sha256))
        return changed

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
        """Given a report's previous and new version, record every cell that differs; return how many."""
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
