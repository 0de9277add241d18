"""The crawler's one handle on the archive: grouped commits, the crawl-state file, run bookkeeping.

Shared by the pipeline (:mod:`crawler.pipelines`), the conditional-request/304-replay downloader middleware and
the crawl-mode spider middleware (:mod:`crawler.middlewares`); one gateway per crawler
(:meth:`ArchiveGateway.for_crawler`). Spiders never see it.

Settings it reads (in :meth:`ArchiveGateway.for_crawler`):

* ``OGI_DB``: the archive database (default ``ogi.db``); the crawl state lives beside it in
  ``<db>.crawl-state.db``.
* ``OGI_COMMIT_ITEMS``: commit the archive's open write group every N saves (default 500) …
* ``OGI_COMMIT_SECONDS``: … or every S seconds (default 2.0; a ``kill -9`` loses at most that, and the
  resumed crawl redoes it).

The crawl state remembers which documents were fully processed (``processed``: a crawl killed between storing
and parsing a document parses it again next time) and which URL of which source gave which processed document
(``urls``: the ``revisions`` mode's known reports, with the hints a re-check needs).
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler

from archive import Archive, ArchiveError, open_archive
from crawler.items import DocumentItem
from crawler.liveness import owner_tag, parse_owner_tag, process_alive
from crawler.modes import FOUND

__all__ = ["STATE_SUFFIX", "URL_HINTS", "ArchiveGateway"]

logger = logging.getLogger(__name__)

# what the ``urls`` state table keeps of a document's request context (the hints a re-check needs)
URL_HINTS = {"title": "title", "year_hint": "year", "year_source": "year_source", "agency": "agency",
             "region": "region", "level": "level", "list_url": "list_url", "referer": "referer", "family": "family"}
STATE_SUFFIX = ".crawl-state.db"


# what a full disk, a locked file or a damaged archive raises: one line says it (no traceback for a known state)
_WRITE_ERRORS = (ArchiveError, OSError, sqlite3.Error)


def log_write_error(exc: BaseException, message: str, *args: Any) -> None:
    """Given a failed archive or file write and what failed, log it: one line for a known failure (full disk,
    locked or damaged file), with the traceback for anything else (a bug)."""
    if isinstance(exc, _WRITE_ERRORS):
        logger.error(message + ": %s", *args, exc)
    else:
        logger.error(message, *args, exc_info=exc)


class ArchiveGateway:
    """Given an open :class:`archive.Archive`, the crawler's reads and grouped writes on it.

    Writes are grouped: the archive's :meth:`~archive.Archive.batch` is held open and committed every
    ``commit_items`` saves or ``commit_seconds`` (one fsync per commit instead of one per document). The
    crawl-state marks ("this document was parsed and stored") are written only after the archive commit that
    made them true, so a crawl killed between two commits re-fetches and re-parses exactly what was not
    committed.
    """

    def __init__(self, arc: Archive, *, commit_items: int = 500, commit_seconds: float = 2.0) -> None:
        from crawler.parsers.version import parser_version

        self.arc = arc
        self.db_path = str(arc.path)
        arc.parser_version = parser_version()  # every version records which parser code read it
        self.state = sqlite3.connect(self.db_path + STATE_SUFFIX, isolation_level=None, check_same_thread=False)
        self.state.execute("PRAGMA journal_mode=WAL")
        self.state.execute("PRAGMA synchronous=NORMAL")
        self.state.execute("CREATE TABLE IF NOT EXISTS processed (sha256 TEXT PRIMARY KEY, status TEXT, at TEXT)")
        self.state.execute("CREATE TABLE IF NOT EXISTS urls (source TEXT NOT NULL, url TEXT NOT NULL, kind TEXT,"
                           " sha256 TEXT, status TEXT, hints TEXT, at TEXT, PRIMARY KEY (source, url))")
        self.commit_items = max(1, commit_items)
        self.commit_seconds = commit_seconds
        self._batch: AbstractContextManager[Any] | None = None  # the open ``arc.batch()`` group
        self._writes = 0  # saves since the last commit
        self._last_commit = time.monotonic()
        self._pending: dict[str, str] = {}  # sha256 -> status, written to the state file after the next commit
        self._pending_urls: dict[tuple[str, str], tuple[str, str, str, str]] = {}  # (source, url) -> row
        self.commit_time = 0.0  # seconds spent committing (benchmark figure)
        self.arc_batch_broken = False
        self.closed = False
        self.commit_failures = 0  # archive commits that failed (a full disk): the run is not a success
        self.commit_error = ""  # the first failed commit's error line
        self.listeners: list[Any] = []  # callables(ok: bool, error: str), told after every commit of a group

    @classmethod
    def open(cls, db_path: str, *, commit_items: int = 500, commit_seconds: float = 2.0) -> ArchiveGateway:
        """Given a database path, return a gateway on the archive there (created when missing)."""
        return cls(open_archive(db_path), commit_items=commit_items, commit_seconds=commit_seconds)

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ArchiveGateway:
        """Given a crawler, return its one gateway (opened from ``OGI_DB`` on first use)."""
        gateway = getattr(crawler, "_ogi_gateway", None)
        if gateway is None:
            settings = crawler.settings
            gateway = cls.open(settings.get("OGI_DB") or "ogi.db",
                               commit_items=settings.getint("OGI_COMMIT_ITEMS", 500),
                               commit_seconds=settings.getfloat("OGI_COMMIT_SECONDS", 2.0))
            crawler._ogi_gateway = gateway  # type: ignore[attr-defined]
        return gateway

    @staticmethod
    def existing(crawler: Crawler) -> ArchiveGateway | None:
        """Given a crawler, return its gateway when one is open, else None (never opens the archive)."""
        gateway = getattr(crawler, "_ogi_gateway", None)
        return gateway if isinstance(gateway, ArchiveGateway) and not gateway.closed else None

    # ---- grouped commits ---------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start grouping writes (no-op when already grouping, or when the archive refused to group)."""
        if self._batch is not None or self.arc_batch_broken:
            return
        try:
            group = self.arc.batch(size=1 << 30, seconds=1e9)  # never commits by itself: :meth:`commit` does
            group.__enter__()
        except Exception as exc:
            log_write_error(exc, "cannot group archive writes; committing every save")
            self.arc_batch_broken = True
            return
        self._batch = group
        self._last_commit = time.monotonic()

    def wrote(self) -> None:
        """Count one save; commit when the group is full or old enough."""
        self._writes += 1
        if self._batch is None:
            self._flush_state()
        elif self._writes >= self.commit_items or time.monotonic() - self._last_commit >= self.commit_seconds:
            self.commit()

    def commit(self, *, reopen: bool = True) -> None:
        """Commit the archive's open group, then record the crawl-state marks it made true."""
        t0 = time.perf_counter()
        batch, self._batch = self._batch, None
        self._writes = 0
        self._last_commit = time.monotonic()
        if batch is not None:
            try:
                batch.__exit__(None, None, None)
            except Exception as exc:
                logger.error("archive commit failed: %d parsed documents will be fetched again next time: %s",
                             len(self._pending), exc)
                self._pending.clear()
                self._pending_urls.clear()
                self.commit_failures += 1
                self.commit_error = self.commit_error or str(exc)[:300]
                self._tell(False, str(exc)[:300])
            else:
                self._tell(True, "")
        self._flush_state()
        self.commit_time += time.perf_counter() - t0
        if reopen:
            self.begin()

    def _tell(self, ok: bool, error: str) -> None:
        for listener in self.listeners:
            try:
                listener(ok, error)
            except Exception:
                logger.exception("commit listener failed")

    def commit_if_stale(self) -> None:
        """Periodic commit (a slow crawl must not keep saved work uncommitted for long)."""
        if not self.closed and self._writes and time.monotonic() - self._last_commit >= self.commit_seconds:
            self.commit()

    def _flush_state(self) -> None:
        if not self._pending and not self._pending_urls:
            return
        at = datetime.now(UTC).isoformat()
        rows = [(sha, status, at) for sha, status in self._pending.items()]
        urls = [(source, url, *row, at) for (source, url), row in self._pending_urls.items()]
        try:
            with self.state:
                self.state.execute("BEGIN")
                self.state.executemany("INSERT OR REPLACE INTO processed(sha256, status, at) VALUES (?,?,?)", rows)
                self.state.executemany("INSERT OR REPLACE INTO urls(source, url, kind, sha256, status, hints, at)"
                                       " VALUES (?,?,?,?,?,?,?)", urls)
        except sqlite3.Error as exc:  # a full disk, a locked or damaged state file: its one line says which
            logger.error("could not write the crawl state (%d documents): %s", len(rows), exc)
        self._pending.clear()
        self._pending_urls.clear()

    # ---- reads -------------------------------------------------------------------------------------------
    def last_fetch(self, url: str) -> dict[str, Any] | None:
        """Given a URL, return the archive's last fetch of it, or None (also when the archive fails to say)."""
        try:
            return self.arc.last_fetch(url)
        except Exception:  # a damaged archive must not stop the crawl: fetch unconditionally
            logger.exception("last_fetch failed for %s", url)
            return None

    def read_document(self, sha256: str) -> bytes | None:
        """Given a sha256, return the archived bytes of that document, or None (missing or damaged blob)."""
        try:
            return bytes(self.arc.read_document(sha256))
        except Exception as exc:
            logger.warning("cannot read archived document %s: %s", sha256[:12], exc)
            return None

    def processed(self, sha256: str) -> str | None:
        """Given a sha256, return the status its processing ended with, or None when it never ended."""
        if sha256 in self._pending:
            return self._pending[sha256]
        row = self.state.execute("SELECT status FROM processed WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def mark_processed(self, sha256: str, status: str) -> None:
        """Remember that ``sha256`` was processed with ``status`` (written after the next commit)."""
        self._pending[sha256] = status

    def mark_url(self, item: DocumentItem, sha256: str, status: str) -> None:
        """Remember which processed document ``item``'s URL gave, with its hints (written after the next commit)."""
        hints = {key: item.get(field) for field, key in URL_HINTS.items() if item.get(field) is not None}
        row = (str(item.get("kind") or "article"), sha256, status, json.dumps(hints, ensure_ascii=False))
        self._pending_urls[(str(item.get("source") or "?"), str(item["url"]))] = row

    def known_status(self, url: str) -> tuple[bool, str | None]:
        """(fetched before, processed status) of a URL: ``(False, None)`` when the archive never fetched it,
        ``(True, None)`` when it was fetched but not fully processed (a list page, an interrupted crawl)."""
        prev = self.last_fetch(url)
        if not prev or not prev.get("sha256"):
            return False, None
        return True, self.processed(prev["sha256"])

    def known_documents(self, source: str, statuses: Iterable[str] = FOUND) -> list[tuple[str, str, dict[str, Any]]]:
        """(url, kind, hints) of the documents of ``source`` whose processing ended in one of ``statuses``
        (default: the reports), oldest first."""
        wanted = tuple(statuses)
        try:
            rows = self.state.execute(
                f"SELECT url, kind, hints FROM urls WHERE source = ? AND status IN ({','.join('?' * len(wanted))})"
                " ORDER BY at, url", (source, *wanted)).fetchall()
        except sqlite3.Error:
            logger.exception("could not read the known documents of %s", source)
            return []
        out = []
        for url, kind, hints in rows:
            try:
                data = json.loads(hints or "{}")
            except ValueError:
                data = {}
            out.append((url, kind or "article", data if isinstance(data, dict) else {}))
        return out

    # ---- runs --------------------------------------------------------------------------------------------
    def claim_run(self, run_id: int) -> None:
        """Write this process's identity into the run's detail, so a later crawl can tell it died."""
        try:
            self.arc.claim_run(run_id, owner_tag())
        except Exception as exc:
            log_write_error(exc, "could not record the pid of run %s", run_id)

    def interrupt_stale_runs(self) -> list[int]:
        """Mark runs left 'running' by a crawl process that is gone (``kill -9``, a crash) as 'interrupted'.

        Only runs whose detail carries an owner tag (:func:`~crawler.liveness.owner_tag`) from this host are
        judged; runs created by the scheduler (``--run-id``) are the scheduler's to resume."""
        try:
            runs = self.arc.runs(limit=200)
        except Exception:
            logger.exception("could not list runs")
            return []
        marked = []
        host = socket.gethostname()
        for run in runs:
            if run.get("status") != "running":
                continue
            owner = parse_owner_tag(str(run.get("detail") or ""))
            if owner is None or owner[2] != host or process_alive(owner[0], owner[1]):
                continue
            try:
                self.arc.finish_run(run["id"], status="interrupted", counts=run.get("counts") or None,
                                    detail=f"crawl process {owner[0]} ended without finishing (killed?)")
                marked.append(run["id"])
            except Exception as exc:
                log_write_error(exc, "could not mark run %s interrupted", run.get("id"))
        if marked:
            logger.warning("marked stale runs %s as interrupted", marked)
        return marked

    def close(self) -> None:
        """Commit what is pending and close the state file and the archive."""
        if self.closed:
            return
        self.closed = True
        self.commit(reopen=False)
        self.state.close()
        try:
            self.arc.close()
        except Exception as exc:  # a full disk refusing the last sync: what was committed was synced then
            logger.error("could not close the archive cleanly: %s", exc)
