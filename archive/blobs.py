"""Raw document bytes beside the database: append-only pack files, content-addressed through the database.

``<db>.blobs/<name>.pack`` files are only ever appended to, never rewritten. Each record is a 48-byte header
(``OGIB``, 4 reserved bytes, the sha256 digest, the size as 8 bytes big-endian) followed by the raw bytes,
so a pack can be re-indexed without the database. The database row of a document holds (pack, offset, size)
of its bytes; the sha256 is checked on every read. Each writer process appends to its own pack, which it
fsyncs before the database transaction that refers to it commits.

Why packs rather than one file per document: creating a file costs more than writing a typical report
(0.5–1 ms per file on this kind of filesystem, against ~0.05 ms for an append), and 10^5 small files are
slow to copy and back up. ``archive.blobs.unpack`` writes one file per document when someone wants that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

MAGIC = b"OGIB\x00\x00\x00\x00"
HEADER = len(MAGIC) + 32 + 8
MAX_PACK = 1 << 30  # start a new pack after 1 GiB


# packs this process has open for appending (any PackStore): their records may belong to uncommitted writes
OPEN_PACKS: set[Path] = set()


class BlobError(Exception):
    """A blob is missing, truncated or does not match its sha256."""


class PackStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._fh: BinaryIO | None = None
        self._name: str | None = None
        self._size = 0
        self._dirty = False
        self._lock = threading.RLock()

    def _open_pack(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        self._name = f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}.pack"
        self._fh = open(self.root / self._name, "ab")  # kept open for appends
        self._size = self._fh.tell()
        OPEN_PACKS.add((self.root / self._name).resolve())

    def put(self, sha256: str, data: bytes) -> tuple[str, int]:
        """Append ``data``; returns (pack name, offset of the bytes). Call :meth:`sync` before committing."""
        with self._lock:
            if self._fh is None or self._size >= MAX_PACK:
                self.close()
                self._open_pack()
            assert self._fh is not None
            assert self._name is not None
            self._fh.write(MAGIC + bytes.fromhex(sha256) + len(data).to_bytes(8, "big"))
            self._fh.write(data)
            offset = self._size + HEADER
            self._size += HEADER + len(data)
            self._dirty = True
            return self._name, offset

    def sync(self) -> None:
        """Make appended bytes durable (before the database rows that point at them commit)."""
        with self._lock:
            if self._fh is not None and self._dirty:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._dirty = False

    def get(self, pack: str, offset: int, size: int, sha256: str) -> bytes:
        path = self.root / pack
        if self._fh is not None and pack == self._name:
            with self._lock:
                self._fh.flush()
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                data = fh.read(size)
        except FileNotFoundError as exc:
            raise BlobError(f"blob missing for document {sha256}: pack {path} not found") from exc
        if len(data) != size:
            raise BlobError(f"blob missing for document {sha256}: pack {path} is truncated")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobError(f"blob damaged for document {sha256}: bytes in {path} do not match")
        return data

    def present(self, pack: str, offset: int, size: int) -> bool:
        """Cheap check (no read): the pack exists and is long enough."""
        if pack == self._name:
            return True
        try:
            return (self.root / pack).stat().st_size >= offset + size
        except OSError:
            return False

    def close(self) -> None:
        if self._fh is not None:
            self.sync()
            self._fh.close()
            OPEN_PACKS.discard((self.root / str(self._name)).resolve())
            self._fh = None
            self._name = None


def iter_pack(path: Path) -> list[tuple[str, int, int]]:
    """(sha256, offset, size) of every record in a pack (re-indexing without the database)."""
    out = []
    with open(path, "rb") as fh:
        pos = 0
        while True:
            head = fh.read(HEADER)
            if len(head) < HEADER or not head.startswith(b"OGIB"):
                break
            sha = head[8:40].hex()
            size = int.from_bytes(head[40:48], "big")
            out.append((sha, pos + HEADER, size))
            fh.seek(size, os.SEEK_CUR)
            pos += HEADER + size
    return out


def unpack(store_root: Path, target: Path) -> int:
    """Write every blob of every pack as ``target/<sha256>``; returns how many were written."""
    target.mkdir(parents=True, exist_ok=True)
    n = 0
    for pack in sorted(store_root.glob("*.pack")):
        with open(pack, "rb") as fh:
            for sha, offset, size in iter_pack(pack):
                dest = target / sha
                if dest.exists():
                    continue
                fh.seek(offset)
                dest.write_bytes(fh.read(size))
                n += 1
    return n
