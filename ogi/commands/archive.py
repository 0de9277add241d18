"""`ogi import`, `ogi export`, `ogi serve`, `ogi reparse`: local files into the archive, the archive out,
Datasette over it, stored documents through the current parser again."""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
import sqlite3
import sys
from pathlib import Path
from typing import IO, Any

import click

from crawler.parsers.version import parser_version

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".wps": "application/vnd.ms-works",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _export_formats() -> list[str]:
    """Given the archive's exporters, return the names ``--format`` accepts."""
    from archive.export import EXPORTERS

    return sorted(EXPORTERS)


def _content_type(path: Path) -> str | None:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]


def _open(db: str) -> Any:
    """Given the --db of a write command, return the archive (created or migrated); a database that cannot
    be opened (a directory, another app's database, a newer schema …) is one line, exit 2."""
    from archive import ArchiveError, open_archive
    from ogi.commands.errors import BadInput

    if Path(db).is_dir():
        raise BadInput(f"{db}: is a directory, not an archive database")
    try:
        return open_archive(db)
    except ArchiveError as exc:
        raise BadInput(str(exc)) from None


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--db",
    "db",
    required=True,
    type=click.Path(dir_okay=False),
    help="Archive database (created if missing).",
)
@click.option("--url", default=None, help="Source URL to record (only with a single FILE).")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per file instead of a table.")
def import_cmd(files: tuple[Path, ...], db: str, url: str | None, as_json: bool) -> None:
    """Parse local report files and store them in the archive.

    Idempotent: importing the same file again changes nothing; a changed file becomes a new version of its
    report. A file that is not a report is kept as a document with the reason.

    Example:

        ogi import reports/*.html --db ogi.db
    """
    from archive import ArchiveError
    from archive.across import recompute_across
    from ogi.commands.errors import BadInput

    if url and len(files) > 1:
        raise click.UsageError("--url can only be given with a single FILE")
    arc = _open(db)
    arc.parser_version = parser_version()
    try:
        failed = _import_files(arc, files, url, as_json)
        recompute_across(arc)  # the across-report tables (archive.across) follow every import
    except ArchiveError as exc:  # a full disk, an I/O error: one line, exit 2 (what was printed is stored)
        try:
            arc.close()
        except ArchiveError as also:  # the same full disk again: the first line says it
            logger.debug("%s", also)
        raise BadInput(str(exc)) from None
    try:
        arc.close()
    except ArchiveError as exc:
        raise BadInput(str(exc)) from None
    if failed:
        raise click.ClickException(f"{failed} of {len(files)} files could not be imported")


IMPORT_BATCH = 50  # parsed files stored per write transaction (parsing happens outside it)


def _import_files(arc: Any, files: tuple[Path, ...], url: str | None, as_json: bool) -> int:
    """Parse each file, then store parsed files in small batches; one line per file. Returns the failures."""
    from crawler.parsers import parse_document

    failed = 0
    pending: list[tuple[Path, bytes | None, dict[str, Any]]] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:  # reported in input order, with the batch it falls in
            pending.append((path, None, {"reason": f"cannot read: {exc.strerror or exc}"}))
            continue
        try:
            # same arguments as `ogi parse`, so the archive holds exactly what `ogi parse --json` prints
            parsed = parse_document(data, source=str(path), url=url or path.name).to_json()
        except Exception as exc:  # the parser promises not to raise; keep going if it does
            logger.exception("parser crashed on %s", path)
            parsed = {"ok": False, "status": "error", "error": f"parser crashed: {exc!r}"}
        pending.append((path, data, parsed))
        if len(pending) >= IMPORT_BATCH:
            failed += _store(arc, pending, url, as_json)
            pending = []
    return failed + _store(arc, pending, url, as_json)


def _store(
    arc: Any, pending: list[tuple[Path, bytes | None, dict[str, Any]]], url: str | None, as_json: bool
) -> int:
    """Save documents and reports of parsed files in one write transaction (each file all or nothing).

    The lines are printed only after the transaction committed: a line never says ``new`` for a report a
    failed commit (a full disk) did not keep. A failed commit prints each file of the batch as ``error`` (not
    stored) and raises the ArchiveError."""
    from archive import ArchiveError

    failed = 0
    lines: list[dict[str, Any]] = []
    try:
        with arc.batch(size=1 << 30, seconds=1e9):  # one commit, at the end (each save counts as one or more)
            for path, data, parsed in pending:
                line: dict[str, Any] = {"file": str(path)}
                lines.append(line)
                if data is None:
                    failed += 1
                    line.update(status="error", reason=parsed["reason"])
                    continue
                try:
                    sha = arc.save_document(
                        data, url=url, source=f"file:{path}", content_type=_content_type(path)
                    )
                    res = arc.save_report(parsed, sha256=sha, url=url, source=f"file:{path}")
                except ArchiveError as exc:
                    failed += 1
                    line.update(status="error", reason=str(exc))
                    continue
                line.update(status=res.status, report_id=res.report_id, version=res.version, sha256=sha)
                if res.reason:
                    line["reason"] = res.reason
    except ArchiveError as exc:
        for path, _data, _parsed in pending:
            _emit({"file": str(path), "status": "error", "reason": f"not stored: {exc}"}, as_json)
        raise
    for line in lines:
        _emit(line, as_json)
    return failed


def _emit(line: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(line, ensure_ascii=False))
        return
    parts = [line["file"], line["status"]]
    if line.get("report_id") is not None:
        parts.append(f"report {line['report_id']} v{line['version']}")
    if line.get("reason"):
        parts.append(line["reason"])
    click.echo("\t".join(parts))


@click.command("export")
@click.option(
    "--db", "db", required=True, type=click.Path(exists=True, dir_okay=False), help="Archive database."
)
@click.option("--format", "fmt", type=click.Choice(_export_formats()), default="jsonl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File (default stdout).",
)
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV codebook path (csv format; default OUTPUT.codebook.csv when -o is given).",
)
@click.option("--shape", type=click.Choice(["long", "wide"]), default="long", show_default=True,
              help="csv/parquet: one row per cell (long) or one row per report, a column per key (wide).")
@click.option("--excel", is_flag=True, help="csv: start with a UTF-8 BOM so Excel reads the Chinese text.")
def export_cmd(db: str, fmt: str, output: Path | None, codebook: Path | None, shape: str, excel: bool) -> None:
    """Export the current reports (the database is opened read-only and never changed).

    jsonl: one object per current report, the `ogi parse --json` fields plus url, sha256, region.
    csv: the tidy long format (one row per cell, with raw text, flag, document sha256 and the report's
    metadata: scope, formats, title, agency, region_code, published, check summary) and a codebook;
    --shape wide: one row per report. parquet: the same tables as Parquet (needs -o FILE).

    Example:

        ogi export --db ogi.db --format csv -o cells.csv
    """
    from archive import ArchiveError
    from archive.export import BINARY_FORMATS, EXPORTERS, ExportOptions
    from ogi.commands.errors import BadInput, open_output, open_readonly

    if fmt in BINARY_FORMATS and output is None:
        raise BadInput(f"--format {fmt} writes a binary file: give -o FILE")
    arc = open_readonly(db)  # a read command: never creates, migrates or changes the file
    out: IO[Any]
    try:
        out = open_output(output, binary=fmt in BINARY_FORMATS) if output else sys.stdout
    except BadInput:
        arc.close()
        raise
    book = codebook or (output.with_name(output.stem + ".codebook.csv") if output else None)
    options = ExportOptions(shape=shape, excel=excel)
    try:
        for note in EXPORTERS[fmt](arc, out, book, options):
            click.echo(note, err=True)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{db}: the archive is damaged ({exc}); nothing more exported") from exc
    finally:
        if output:
            out.close()
        arc.close()


@click.command("serve")
@click.option(
    "--db", "db", required=True, type=click.Path(exists=True, dir_okay=False), help="Archive database."
)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--allow-download", is_flag=True, help="Offer the whole database for download (/-/ogi/<db>/download).")
@click.option("--debug-pages", is_flag=True, help="Keep Datasette's /-/databases, /-/threads … (they show paths).")
def serve_cmd(db: str, port: int, host: str, allow_download: bool, debug_pages: bool) -> None:
    """Browse the archive with Datasette (read-only; safe while a crawl writes).

    Example:

        ogi serve --db ogi.db --port 8001
    """
    from archive import ArchiveError
    from archive.serve import serve
    from ogi.commands.errors import BadInput, check_listen

    check_listen(host, port)  # a port in use is one line, exit 2 (not the server's error after start-up)
    try:
        serve(db, host=host, port=port, allow_download=allow_download, debug_pages=debug_pages)
    except ArchiveError as exc:  # not an archive (of this schema version): bad input
        raise BadInput(str(exc)) from None


def _reparse_one(data: bytes, ctx: dict[str, Any]) -> dict[str, Any]:
    """The current parser on stored bytes, called as the first parse was (see ``Archive.reparse_context``)."""
    from crawler.parsers import parse_document

    return parse_document(
        data,
        source=ctx["source"],
        url=ctx["url"],
        content_type=ctx["content_type"],
        title_hint=ctx["title_hint"],
        images=ctx.get("image_bytes"),
    ).to_json()


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--since") from exc
    return value


@click.command("reparse")
@click.option(
    "--db", "db", required=True, type=click.Path(exists=True, dir_okay=False), help="Archive database."
)
@click.option("--all", "all_", is_flag=True, help="Every stored document that was parsed before.")
@click.option("--since", default=None, metavar="DATE", help="Documents first archived on or after DATE.")
@click.option(
    "--sha256",
    "sha256s",
    multiple=True,
    metavar="X",
    help="This document (a unique prefix will do; repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON line per document instead of a table.")
def reparse_cmd(db: str, all_: bool, since: str | None, sha256s: tuple[str, ...], as_json: bool) -> None:
    """Re-parse stored documents with the current parser, without re-crawling.

    A parse that differs from the stored one becomes a new version of its report, flagged as a re-parse
    (versions.reparse = 1) with the parser version recorded; an identical parse changes nothing. Older
    versions of a report stay as they were. Give exactly one of --all, --since, --sha256.

    Example:

        ogi reparse --db ogi.db --all
    """
    from archive import ArchiveError
    from archive.across import recompute_across

    chosen = sum((all_, since is not None, bool(sha256s)))
    if chosen != 1:
        raise click.UsageError("give exactly one of --all, --since DATE, --sha256 X")
    since = _since(since)
    version = parser_version()
    arc = _open(db)

    def emit(res: Any) -> None:
        line = {
            "sha256": res.sha256,
            "status": res.status,
            "report_id": res.report_id,
            "version": res.version,
        }
        if res.reason:
            line["reason"] = res.reason
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False))
            return
        parts = [res.sha256[:12], res.status]
        if res.report_id is not None:
            parts.append(f"report {res.report_id}" + (f" v{res.version}" if res.version else ""))
        if res.reason:
            parts.append(res.reason)
        click.echo("\t".join(parts))

    try:
        results = arc.reparse(
            _reparse_one, parser_version=version, since=since, sha256s=list(sha256s) or None, on_result=emit
        )
        recompute_across(arc)  # the across-report tables (archive.across) follow every reparse
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        arc.close()
    counts: dict[str, int] = {}
    for res in results:
        counts[res.status] = counts.get(res.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to re-parse"
    click.echo(f"re-parsed {len(results)} documents with parser {version}: {summary}", err=True)
    if counts.get("error"):
        raise click.ClickException(f"{counts['error']} of {len(results)} documents could not be re-parsed")


@click.command("gc")
@click.option(
    "--db", "db", required=True, type=click.Path(exists=True, dir_okay=False), help="Archive database."
)
@click.option("--dry-run", is_flag=True, help="Change nothing; report what would be removed or closed.")
@click.option(
    "--warc-min-age", default=600.0, show_default=True, type=float,
    help="Leave .warc.gz.open logs touched less than this many seconds ago.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def gc_cmd(db: str, dry_run: bool, warc_min_age: float, as_json: bool) -> None:
    """Remove orphan blob records and close abandoned WARC logs.

    A pack record that no document row points at (a write that was rolled back or killed) is removed: the
    pack is compacted or deleted, only after checking every row that points into it and never while the
    process that writes it is alive. A .warc.gz.open log of a run that is no longer running gets its torn
    last record cut and the name a clean close gives it.

    Example:

        ogi gc --db ogi.db --dry-run
    """
    from archive import ArchiveError

    arc = _open(db)
    try:
        result = arc.gc(dry_run=dry_run, warc_min_age=warc_min_age)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        arc.close()
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {result.orphan_records} orphan records ({result.bytes_freed} bytes): "
        f"{len(result.packs_deleted)} packs deleted, {len(result.packs_compacted)} compacted; "
        f"{len(result.warc_closed)} WARC logs closed"
    )
    for pack, why in sorted(result.packs_skipped.items()):
        click.echo(f"skipped {pack}: {why}", err=True)


COMMANDS: list[click.Command] = [import_cmd, export_cmd, serve_cmd, reparse_cmd, gc_cmd]
