"""`ogi doc`: the original bytes of an archived document, by sha256 or by the URL it was fetched from."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ogi.commands.errors import BadInput

logger = logging.getLogger(__name__)


class DocError(BadInput):
    """One clear line, exit 2."""


@click.command("doc")
@click.argument("sha256", required=False)
@click.option("--url", "url", help="The URL it was fetched from (requested or final); its newest fetch.")
@click.option("--db", "db", default="ogi.db", show_default=True, type=click.Path(dir_okay=False),
              help="Archive database (opened read-only).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of stdout.")
def doc_cmd(sha256: str | None, url: str | None, db: str, output: Path | None) -> None:
    """Write the original bytes of an archived document (exactly as fetched; checked against its sha256).

    Example:

        ogi doc 3f5a…e1 -o report.pdf

        ogi doc --url http://www.example.gov.cn/art/2024/1/20/art_1.html > report.html
    """
    from archive import rawdocs
    from archive.common import ArchiveError

    if bool(sha256) == bool(url):
        raise DocError("give a SHA256 or --url URL (one of them)")
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not rawdocs.SHA256_RE.match(sha256):
            raise DocError(f"{sha256!r} is not a sha256 (64 hex digits)")
    try:
        conn = rawdocs.connect_ro(db)
    except ArchiveError as exc:
        raise DocError(str(exc)) from exc
    try:
        if url is not None:
            sha256 = rawdocs.sha_for_url(conn, url)
            if sha256 is None:
                raise DocError(f"{db}: no fetch of {url}")
        assert sha256 is not None
        row = rawdocs.document_row(conn, sha256)
        if row is None:
            raise DocError(f"{db}: no document {sha256}")
        data = rawdocs.read_bytes(db, row)
    except ArchiveError as exc:
        raise DocError(str(exc)) from exc
    finally:
        conn.close()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise DocError(f"{output}: cannot write: {exc.strerror or exc}") from exc
    click.echo(f"{output}: {len(data)} bytes, sha256 {sha256}, {row.content_type or 'unknown type'}", err=True)


COMMANDS: list[click.Command] = [doc_cmd]
