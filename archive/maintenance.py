"""Maintenance: ``integrity()`` (for ``ogi status --check``) and ``gc()`` (``ogi gc``).

``gc`` removes pack records no database row points at: a blob appended by a transaction that was rolled back
or killed before it committed, or a blob stored again because its first copy was lost. Packs are append-only,
so a pack with orphans is compacted: its referenced records are copied to this process's pack, the rows are
pointed at the copies and committed, and only then is the old pack deleted (a crash in between leaves an old
pack that is wholly orphan, which the next ``gc`` deletes). A pack is touched only when every row pointing at it
was matched to one of its records, and never when the process that writes it is alive. ``gc`` also closes
abandoned WARC logs (``warc/<db>-run<N>-<time>.warc.gz.open`` of a run that is no longer running): a torn last
record is cut off and the file gets the name a clean close gives it.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
import zlib
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.blobs import OPEN_PACKS, BlobError, PackStore, iter_pack
from archive.common import ArchiveError

logger = logging.getLogger(__name__)

_PACK_PID = re.compile(r"^\d{8}T\d{6}-(\d+)-[0-9a-f]+\.pack$")


@dataclass
class GcResult:
    """What :meth:`MaintenanceMixin.gc` did (or, with ``dry_run``, would do)."""

    dry_run: bool = False
    packs_deleted: list[str] = field(default_factory=list)
    packs_compacted: list[str] = field(default_factory=list)
    packs_skipped: dict[str, str] = field(default_factory=dict)  # pack -> why it was left alone
    orphan_records: int = 0
    bytes_freed: int = 0
    warc_closed: list[str] = field(default_factory=list)
    warc_truncated_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        """Given the result, return it as a JSON-able dict."""
        return asdict(self)


def _pid_alive(pid: int) -> bool:
    """Given a process id, return whether that process exists (a pid we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def complete_gzip_end(path: Path, chunk: int = 1 << 20) -> int:
    """Given a file of concatenated gzip members (a ``.warc.gz``), return the offset where its last complete
    member ends (the file size when nothing is torn)."""
    end = 0
    pos = 0
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with path.open("rb") as fh:
        while True:
            data = fh.read(chunk)
            if not data:
                return end
            pos += len(data)
            while data:
                try:
                    d.decompress(data)
                except zlib.error:
                    return end
                if not d.eof:
                    break
                rest = d.unused_data
                end = pos - len(rest)
                data = rest
                d = zlib.decompressobj(zlib.MAX_WBITS | 16)


class MaintenanceMixin:
    """``integrity`` and ``gc`` of :class:`archive.store.Archive`."""

    if TYPE_CHECKING:
        _conn: sqlite3.Connection
        blobs: PackStore
        blob_dir: Path
        path: Path

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def verify_blobs(self, *, full: bool = False) -> list[str]: ...

    # --- integrity ---------------------------------------------------------------------------------
    def integrity(self, *, full: bool = False) -> dict[str, Any]:
        """Given nothing (``full``: also re-hash every blob), return the archive's health: ``ok``,
        ``sqlite`` (PRAGMA integrity_check lines, ``["ok"]`` when sound), ``foreign_keys`` (violations),
        ``missing_blobs`` (sha256 of documents whose bytes are missing or damaged), ``orphan_records``
        (pack records no row points at; ``ogi gc`` removes them) and ``problems`` (one line each)."""
        sqlite_lines = [str(r[0]) for r in self._conn.execute("PRAGMA integrity_check").fetchall()]
        fk = [f"{r[0]} row {r[1]} -> {r[2]}" for r in self._conn.execute("PRAGMA foreign_key_check").fetchall()]
        missing = self.verify_blobs(full=full)
        orphans = sum(n for n, _ in self._orphans_by_pack().values())
        problems = [] if sqlite_lines == ["ok"] else [f"sqlite: {line}" for line in sqlite_lines[:20]]
        problems += [f"foreign key: {v}" for v in fk[:20]]
        problems += [f"document {sha}: bytes missing or damaged" for sha in missing[:20]]
        return {
            "ok": not problems, "sqlite": sqlite_lines, "foreign_keys": fk, "missing_blobs": missing,
            "orphan_records": orphans, "problems": problems,
        }  # fmt: skip

    def _orphans_by_pack(self) -> dict[str, tuple[int, int]]:
        """Given the packs on disk, return pack -> (orphan records, orphan bytes) for packs that have any."""
        refs = self._pack_refs()
        out: dict[str, tuple[int, int]] = {}
        for pack in sorted(self.blob_dir.glob("*.pack")) if self.blob_dir.exists() else []:
            records = iter_pack(pack)
            keep = refs.get(pack.name, {})
            orphan = [(o, s) for sha, o, s in records if keep.get(o) != sha]
            if orphan:
                out[pack.name] = (len(orphan), sum(s for _, s in orphan))
        return out

    def _pack_refs(self) -> dict[str, dict[int, str]]:
        """Given the documents table, return pack -> {offset: sha256} of every stored blob."""
        refs: dict[str, dict[int, str]] = {}
        for sha, pack, offset in self._conn.execute("SELECT sha256, pack, pack_offset FROM documents"):
            refs.setdefault(pack, {})[int(offset)] = sha
        return refs

    # --- gc ----------------------------------------------------------------------------------------
    def gc(self, *, dry_run: bool = False, warc_min_age: float = 600.0) -> GcResult:
        """Given nothing, remove orphan pack records (compacting or deleting their packs) and close abandoned
        WARC logs; return what was done. ``dry_run``: change nothing, report what would be done.
        ``warc_min_age``: a ``.open`` WARC untouched for fewer seconds is left alone."""
        result = GcResult(dry_run=dry_run)
        delete: list[Path] = []
        if dry_run:
            self._gc_packs(self._conn, result, delete)
        else:
            with self._tx() as conn:  # no other writer commits while the references are checked
                self._gc_packs(conn, result, delete)
            for pack in delete:  # after the commit: nothing points at them any more
                pack.unlink(missing_ok=True)
        self._gc_warc(result, dry_run=dry_run, min_age=warc_min_age)
        return result

    def _gc_packs(self, conn: sqlite3.Connection, result: GcResult, delete: list[Path]) -> None:
        """Given a connection (in a write transaction unless a dry run), handle every pack on disk."""
        refs = self._pack_refs()
        for pack in sorted(self.blob_dir.glob("*.pack")) if self.blob_dir.exists() else []:
            self._gc_pack(conn, pack, refs.get(pack.name, {}), result, delete)

    def _gc_pack(
        self, conn: sqlite3.Connection, pack: Path, refs: dict[int, str], result: GcResult, delete: list[Path]
    ) -> None:
        """Given one pack and the rows pointing into it, compact or schedule deleting it when it has orphans."""
        name = pack.name
        if pack.resolve() in OPEN_PACKS:  # its records may belong to a write not committed yet
            result.packs_skipped[name] = "open for writing in this process"
            return
        m = _PACK_PID.match(name)
        if m and int(m.group(1)) != os.getpid() and _pid_alive(int(m.group(1))):
            result.packs_skipped[name] = f"its writer (pid {m.group(1)}) is running"
            return
        records = iter_pack(pack)
        size = pack.stat().st_size
        keep = [(sha, o, s) for sha, o, s in records if refs.get(o) == sha and o + s <= size]
        if len(keep) != len(refs):
            result.packs_skipped[name] = f"{len(refs) - len(keep)} rows point at no record of it; not touched"
            return
        orphan = len(records) - len(keep)
        kept_bytes = sum(48 + s for _, _, s in keep)
        if not orphan and kept_bytes == size:
            return
        result.orphan_records += orphan
        result.bytes_freed += size - kept_bytes
        if not keep:
            result.packs_deleted.append(name)
        else:
            result.packs_compacted.append(name)
            if not result.dry_run:
                self._copy_records(conn, pack, keep)
        if not result.dry_run:
            delete.append(pack)

    def _copy_records(self, conn: sqlite3.Connection, pack: Path, keep: list[tuple[str, int, int]]) -> None:
        """Given a pack and its referenced records, copy them to this process's pack and re-point their rows."""
        for sha, offset, size in keep:
            try:
                data = self.blobs.get(pack.name, offset, size, sha)
            except BlobError as exc:
                raise ArchiveError(f"gc: {exc}; nothing changed") from exc
            new_pack, new_offset = self.blobs.put(sha, data)
            conn.execute(
                "UPDATE documents SET pack = ?, pack_offset = ? WHERE sha256 = ? AND pack = ? AND pack_offset = ?",
                (new_pack, new_offset, sha, pack.name, offset),
            )

    def _gc_warc(self, result: GcResult, *, dry_run: bool, min_age: float) -> None:
        """Given the WARC folder beside the database, close the ``.open`` logs of runs no longer running."""
        folder = self.path.resolve().parent / "warc"
        if not folder.is_dir():
            return
        pattern = re.compile(rf"^{re.escape(self.path.stem)}-run(\d+)-\d{{8}}T\d{{6}}\.warc\.gz\.open$")
        running = {int(r[0]) for r in self._conn.execute("SELECT id FROM runs WHERE status = 'running'")}
        now = time.time()
        for path in sorted(folder.glob("*.warc.gz.open")):
            m = pattern.match(path.name)
            if m is None or int(m.group(1)) in running or now - path.stat().st_mtime < min_age:
                continue
            target = path.with_name(path.name.removesuffix(".open"))
            if target.exists():
                logger.warning("gc: %s exists; %s left as it is", target.name, path.name)
                continue
            end = complete_gzip_end(path)
            result.warc_truncated_bytes += path.stat().st_size - end
            result.warc_closed.append(target.name)
            if dry_run:
                continue
            with path.open("r+b") as fh:
                fh.truncate(end)
                fh.flush()
                os.fsync(fh.fileno())
            path.replace(target)
            logger.info("gc: closed abandoned WARC %s (%d bytes of a torn record cut)", target.name, end)
