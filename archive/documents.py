"""Documents: raw bytes stored once by sha256 in the blob packs, and the provenance of every fetch.

``save_document`` writes the bytes (synced before the row that points at them commits) and a ``fetches`` row;
``read_document`` / ``verify_blobs`` / ``blob_location`` read them back; ``last_fetch`` serves conditional
re-crawls.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.blobs import BlobError, PackStore
from archive.common import ArchiveError, now_iso, to_json

logger = logging.getLogger(__name__)

# response headers kept with a fetch (the rest are dropped)
KEPT_HEADERS: tuple[str, ...] = (
    "content-type",
    "etag",
    "last-modified",
    "content-length",
    "content-disposition",
    "content-encoding",
    "location",
)


def _headers(headers: dict[str, Any] | None) -> dict[str, str]:
    """Given response headers (names and values as str or bytes), return them with lower-case names, as str."""
    return {
        str(k).lower(): (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in (headers or {}).items()
    }


class DocumentsMixin:
    """Documents and fetches of :class:`archive.store.Archive`."""

    if TYPE_CHECKING:
        _conn: sqlite3.Connection
        blobs: PackStore
        blob_dir: Path
        path: Path

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

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
        hdrs = _headers(headers)
        ctype = content_type or hdrs.get("content-type")
        etag, last_modified = hdrs.get("etag"), hdrs.get("last-modified")
        fingerprint = hashlib.sha256(
            to_json([sha, url, final_url, http_status, etag, last_modified, run_id, source]).encode()  # type: ignore[union-attr]
        ).hexdigest()
        when = fetched_at or now_iso()
        fetch = (sha, url, final_url, http_status, ctype, etag, last_modified,
                 to_json({k: v for k, v in hdrs.items() if k in KEPT_HEADERS} or None), when, run_id, source,
                 fingerprint)  # fmt: skip
        try:
            with self._tx() as conn:
                self._store_blob(conn, sha, data, ctype, when)
                cur = conn.execute(
                    "INSERT OR IGNORE INTO fetches(sha256, url, final_url, http_status, content_type, etag,"
                    " last_modified, headers, fetched_at, run_id, source, fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    fetch,
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

    def _store_blob(self, conn: sqlite3.Connection, sha: str, data: bytes, ctype: str | None, when: str) -> None:
        """Given a document's bytes inside a write transaction, append them to the pack unless they are stored
        already (a blob found missing is stored again); the pack is synced before the transaction commits."""
        row = conn.execute("SELECT pack, pack_offset, size FROM documents WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            pack, offset = self.blobs.put(sha, data)
            conn.execute(
                "INSERT INTO documents(sha256, size, content_type, pack, pack_offset, first_seen) VALUES (?,?,?,?,?,?)",
                (sha, len(data), ctype, pack, offset, when),
            )
        elif not self.blobs.present(*row):
            logger.warning("document %s: blob was missing, stored again", sha)
            pack, offset = self.blobs.put(sha, data)
            conn.execute("UPDATE documents SET pack = ?, pack_offset = ? WHERE sha256 = ?", (pack, offset, sha))

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
        except OSError as exc:
            raise ArchiveError(f"{exc.filename or self.blob_dir}: cannot read: {exc.strerror or exc}") from exc

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
