"""Read-only access to what was fetched: a document's original bytes, a download name, the WARC record of a fetch.

Used by the Datasette plugin (raw documents one click away) and by ``ogi doc``. Nothing here writes: the
database is opened with SQLite ``mode=ro`` (so a read-only file or mount works) and the blob packs and WARC
logs beside it are only read. Bytes are checked against their sha256 on every read (``archive.blobs``).
"""

from __future__ import annotations

import mimetypes
import re
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from archive.blobs import BlobError, PackStore
from archive.common import ArchiveError
from archive.store import connect_readonly

ARCHIVE_TABLES = frozenset({"reports", "versions", "documents", "fetches", "t3", "checks"})
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)
# content types whose usual extension ``mimetypes`` does not give (or gives oddly)
_EXTENSIONS = {
    "text/html": ".html",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/octet-stream": ".bin",
    "image/jpeg": ".jpg",
}


@dataclass(frozen=True)
class DocumentRow:
    """A ``documents`` row with the newest fetch URL of its bytes."""

    sha256: str
    size: int
    content_type: str | None
    pack: str
    pack_offset: int
    url: str | None


def blob_dir(db_path: str | Path) -> Path:
    """Given an archive database path, return its blob store folder (``<db>.blobs``)."""
    path = Path(db_path)
    return path.with_name(path.name + ".blobs")


def warc_dir(db_path: str | Path) -> Path:
    """Given an archive database path, return the folder the crawler writes its WARC logs to."""
    return Path(db_path).resolve().parent / "warc"


def connect_ro(db_path: str | Path) -> sqlite3.Connection:
    """Given an archive path, return a read-only connection (``mode=ro``); a missing or foreign file is an
    :class:`ArchiveError`, and the file is never created or changed."""
    path = Path(db_path)
    if not path.is_file():
        raise ArchiveError(f"{path}: no such archive")
    # the archive's own read-only opening (mode=ro beside a writer, else immutable: no -wal/-shm is created,
    # a read-only mount works); the bytes are checked against their sha256, so a torn read is an error
    try:
        conn, _immutable = connect_readonly(path)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"{path}: not an archive database ({exc})") from exc
    if not ARCHIVE_TABLES <= names:
        conn.close()
        raise ArchiveError(f"{path}: not an archive database (tables {', '.join(sorted(ARCHIVE_TABLES - names))} missing)")
    return conn


def is_archive(table_names: set[str] | list[str]) -> bool:
    """Given a database's table names, return whether it has the archive's schema."""
    return ARCHIVE_TABLES <= set(table_names)


DOCUMENT_SQL = (
    "SELECT d.sha256, d.size, d.content_type, d.pack, d.pack_offset,"
    " (SELECT coalesce(f.final_url, f.url) FROM fetches f WHERE f.sha256 = d.sha256"
    "  ORDER BY f.fetched_at DESC, f.id DESC LIMIT 1)"
    " FROM documents d WHERE d.sha256 = ?"
)


def document_row(conn: sqlite3.Connection, sha256: str) -> DocumentRow | None:
    """Given a connection and a sha256, return its document row (None when the archive has no such document)."""
    row = conn.execute(DOCUMENT_SQL, (sha256,)).fetchone()
    return DocumentRow(*row) if row else None


def sha_for_url(conn: sqlite3.Connection, url: str) -> str | None:
    """Given a URL, return the sha256 of its newest fetch (requested or final URL), or None."""
    row = conn.execute(
        "SELECT sha256 FROM fetches WHERE url = ? OR final_url = ? ORDER BY fetched_at DESC, id DESC LIMIT 1",
        (url, url),
    ).fetchone()
    return row[0] if row else None


def read_bytes(db_path: str | Path, doc: DocumentRow) -> bytes:
    """Given the archive path and a document row, return the original bytes (sha256-checked)."""
    try:
        return PackStore(blob_dir(db_path)).get(doc.pack, int(doc.pack_offset), int(doc.size), doc.sha256)
    except BlobError as exc:
        raise ArchiveError(str(exc)) from exc
    except OSError as exc:
        raise ArchiveError(f"{doc.sha256}: cannot read its pack: {exc.strerror or exc}") from exc


def base_type(content_type: str | None) -> str:
    """Given a Content-Type header value, return the bare lower-case type (``text/html``)."""
    return (content_type or "application/octet-stream").split(";", 1)[0].strip().lower() or "application/octet-stream"


def download_name(doc: DocumentRow) -> str:
    """Given a document row, return a file name for its bytes: the URL's last path segment when it has one,
    else the sha256, with an extension that matches the content type."""
    stem = ""
    if doc.url:
        segment = unquote(urlsplit(doc.url).path.rstrip("/").rsplit("/", 1)[-1])
        stem = _SAFE_NAME.sub("_", segment).strip("._")
    ctype = base_type(doc.content_type)
    ext = _EXTENSIONS.get(ctype) or mimetypes.guess_extension(ctype) or ".bin"
    if not stem:
        return doc.sha256 + ext
    return stem if Path(stem).suffix else stem + ext


# --- WARC: the crawler's ``warc/<db>-run<N>-<time>.warc.gz`` logs (one gzip member per record) ----------------


@dataclass(frozen=True)
class WarcMember:
    """One gzip member of a WARC log: where it is and the record's headers."""

    offset: int
    length: int
    headers: dict[str, str]


def _members(path: Path) -> Iterator[WarcMember]:
    """Given a ``.warc.gz`` of concatenated gzip members, yield each member's span and WARC headers."""
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            record = d.decompress(data[pos:])
        except zlib.error:
            return  # a torn last record (crash): stop at the last complete one
        if not d.eof:
            return
        end = len(data) - len(d.unused_data)
        head = record.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}
        yield WarcMember(pos, end - pos, headers)
        pos = end


@lru_cache(maxsize=64)
def _index(path: str, size: int, mtime_ns: int) -> tuple[WarcMember, ...]:
    return tuple(_members(Path(path)))


def warc_index(path: Path) -> tuple[WarcMember, ...]:
    """Given a WARC log, return its members (cached until the file changes)."""
    st = path.stat()
    return _index(str(path), st.st_size, st.st_mtime_ns)


def _warc_digest(data: bytes) -> str:
    import base64
    import hashlib

    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_record(db_path: str | Path, fetch: dict[str, object], body: bytes) -> tuple[bytes, str] | None:
    """Given the archive path, a ``fetches`` row (run_id, url, final_url, fetched_at) and the fetched bytes,
    return (the response record and its request record as gzip members, the WARC file name), or None when no
    WARC log beside the archive holds that fetch. A record matches on its run's file, its target URI and the
    payload digest of the bytes (the date too when several match)."""
    folder = warc_dir(db_path)
    if not folder.is_dir():
        return None
    stem = Path(db_path).stem
    run = fetch.get("run_id") or 0
    files = sorted(folder.glob(f"{stem}-run{run}-*.warc.gz")) + sorted(folder.glob(f"{stem}-run{run}-*.warc.gz.open"))
    digest = _warc_digest(body)
    urls = {str(u) for u in (fetch.get("final_url"), fetch.get("url")) if u}
    from urllib.parse import quote

    from_crawler = {quote(u, safe="%/:=&?~#+!$,;'@()*[]") for u in urls} | urls
    for path in files:
        members = warc_index(path)
        hits = [
            (i, m) for i, m in enumerate(members)
            if m.headers.get("warc-type") == "response" and m.headers.get("warc-payload-digest") == digest
            and m.headers.get("warc-target-uri") in from_crawler
        ]
        if not hits:
            continue
        dated = [h for h in hits if h[1].headers.get("warc-date") == fetch.get("fetched_at")]
        i, m = (dated or hits)[0]
        span = [m]
        if i + 1 < len(members) and members[i + 1].headers.get("warc-type") == "request":
            span.append(members[i + 1])
        with path.open("rb") as fh:
            fh.seek(span[0].offset)
            data = fh.read(sum(s.length for s in span))
        return data, path.name.removesuffix(".open")
    return None
