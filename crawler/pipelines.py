"""The only place where the crawler calls the archive.

Every fetched response is archived raw with its provenance (``save_document``) and written to a WARC file
before anything is parsed; then article pages and attachments go to ``parse_document`` and the result to
``save_report``. Unchanged bytes (a 304, or the same sha256 as the last fetch) are not parsed again.
Failures are data: every FailureItem becomes a ``failures`` row. When the spider closes, each source gets a
``run_sources`` row; a source that found nothing where it found reports before is ``suspect``.

A small state file beside the database (``<db>.crawl-state.db``) remembers which documents were fully
processed, so a crawl killed between storing and parsing a document parses it again on the next run, and which
URL of which source gave which processed document (``urls``), for the ``revisions`` mode.

Crawl modes (``OGI_MODE``, ``ogi crawl --mode``), see :data:`CRAWL_MODES`:

* ``full``: walk the list pages; fetch new links; re-check every listed article and attachment conditionally.
* ``light``: walk the list pages; fetch only article/attachment URLs the archive never fetched (known ones
  are not requested at all); count the ``new_items``.
* ``revisions``: walk no list page; re-check the source's known report URLs conditionally (a changed report
  becomes a new version). A source with no known report is walked as in ``full``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import logging
import os
import re
import socket
import sqlite3
import time
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import DocumentItem, FailureItem
from crawler.parsepool import parse_to_json

logger = logging.getLogger(__name__)

FOUND = ("new", "unchanged", "new_version", "pre2019", "image_only")
CRAWL_MODES = ("full", "light", "revisions")
# what the ``urls`` state table keeps of a document's request context (the hints a re-check needs)
URL_HINTS = {"title": "title", "year_hint": "year", "year_source": "year_source", "agency": "agency",
             "region": "region", "level": "level", "list_url": "list_url", "referer": "referer", "family": "family"}
STATE_SUFFIX = ".crawl-state.db"
URI_SAFE = "%/:=&?~#+!$,;'@()*[]"  # kept as is in WARC-Target-URI; other non-ASCII bytes are percent-encoded


def crawl_mode(settings: Any) -> str:
    """The crawl mode from the ``OGI_MODE`` setting; ValueError naming the choices when it is not one."""
    mode = str(settings.get("OGI_MODE") or "full").strip().lower()
    if mode not in CRAWL_MODES:
        raise ValueError(f"OGI_MODE must be one of {', '.join(CRAWL_MODES)}, got {mode!r}")
    return mode


def load_factory(dotted: str) -> Any:
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr or "open_archive")


class ArchiveGateway:
    """The crawler's handle on one archive (shared by the pipeline, the conditional-request middleware and the
    spider's 304 path).

    Writes are grouped: the archive's :meth:`batch` is held open and committed every ``commit_items`` saves or
    ``commit_seconds`` (one fsync per commit instead of one per document). The crawl-state marks ("this
    document was parsed and stored") are written only after the archive commit that made them true, so a
    crawl killed between two commits re-fetches and re-parses exactly what was not committed.
    """

    def __init__(self, db_path: str, factory: str = "archive:open_archive", *, commit_items: int = 500,
                 commit_seconds: float = 2.0) -> None:
        self.db_path = db_path
        self.arc = load_factory(factory)(db_path)
        if hasattr(self.arc, "parser_version"):  # every version records which parser code read it
            from crawler.parsers.version import parser_version

            self.arc.parser_version = parser_version()
        self.state = sqlite3.connect(db_path + STATE_SUFFIX, isolation_level=None, check_same_thread=False)
        self.state.execute("PRAGMA journal_mode=WAL")
        self.state.execute("PRAGMA synchronous=NORMAL")
        self.state.execute("CREATE TABLE IF NOT EXISTS processed (sha256 TEXT PRIMARY KEY, status TEXT, at TEXT)")
        self.state.execute("CREATE TABLE IF NOT EXISTS urls (source TEXT NOT NULL, url TEXT NOT NULL, kind TEXT,"
                           " sha256 TEXT, status TEXT, hints TEXT, at TEXT, PRIMARY KEY (source, url))")
        self.commit_items = max(1, commit_items)
        self.commit_seconds = commit_seconds
        self._batch: Any = None  # the open ``arc.batch()`` context, when the archive has one
        self._writes = 0  # saves since the last commit
        self._last_commit = time.monotonic()
        self._pending: dict[str, str] = {}  # sha256 -> status, written to the state file after the next commit
        self._pending_urls: dict[tuple[str, str], tuple[str, str, str, str]] = {}  # (source, url) -> row
        self.commit_time = 0.0  # seconds spent committing (benchmark figure)
        self.arc_batch_broken = False

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ArchiveGateway:
        gateway = getattr(crawler, "_ogi_gateway", None)
        if gateway is None:
            settings = crawler.settings
            gateway = cls(settings.get("OGI_DB", "ogi.db"), settings.get("OGI_ARCHIVE_FACTORY", "archive:open_archive"),
                          commit_items=settings.getint("OGI_COMMIT_ITEMS", 500),
                          commit_seconds=settings.getfloat("OGI_COMMIT_SECONDS", 2.0))
            crawler._ogi_gateway = gateway  # type: ignore[attr-defined]
        return gateway

    # ---- grouped commits ---------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start grouping writes (no-op when the archive has no ``batch``, or when already grouping)."""
        batch = getattr(self.arc, "batch", None)
        if batch is None or self._batch is not None or self.arc_batch_broken:
            return
        try:
            group = batch(size=1 << 30, seconds=1e9)  # never commits by itself: :meth:`commit` does
            group.__enter__()
        except Exception:  # an archive whose batch() differs: one commit per save, as before
            logger.exception("cannot group archive writes; committing every save")
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
            except Exception:
                logger.exception("archive commit failed: %d parsed documents will be fetched again next time",
                                 len(self._pending))
                self._pending.clear()
        self._flush_state()
        self.commit_time += time.perf_counter() - t0
        if reopen:
            self.begin()

    def commit_if_stale(self) -> None:
        """Periodic commit (a slow crawl must not keep saved work uncommitted for long)."""
        if self._writes and time.monotonic() - self._last_commit >= self.commit_seconds:
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
        except sqlite3.Error:
            logger.exception("could not write the crawl state (%d documents)", len(rows))
        self._pending.clear()
        self._pending_urls.clear()

    # ---- reads -------------------------------------------------------------------------------------------
    def last_fetch(self, url: str) -> dict[str, Any] | None:
        try:
            return self.arc.last_fetch(url)
        except Exception:  # a damaged archive must not stop the crawl: fetch unconditionally
            logger.exception("last_fetch failed for %s", url)
            return None

    def read_document(self, sha256: str) -> bytes | None:
        """The archived bytes of a document, or None (missing/damaged blob, or an archive without the call)."""
        reader = getattr(self.arc, "read_document", None)
        if reader is None:
            return None
        try:
            return bytes(reader(sha256))
        except Exception as exc:
            logger.warning("cannot read archived document %s: %s", sha256[:12], exc)
            return None

    def processed(self, sha256: str) -> str | None:
        if sha256 in self._pending:
            return self._pending[sha256]
        row = self.state.execute("SELECT status FROM processed WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def mark_processed(self, sha256: str, status: str) -> None:
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
        db = getattr(self.arc, "db", None)
        if db is None:
            return
        try:
            db["runs"].update(run_id, {"detail": owner_tag()})
        except Exception:
            logger.exception("could not record the pid of run %s", run_id)

    def interrupt_stale_runs(self) -> list[int]:
        """Mark runs left 'running' by a crawl process that is gone (``kill -9``, a crash) as 'interrupted'.

        Only runs whose detail carries an owner tag (:func:`owner_tag`) from this host are judged; runs created
        by the scheduler (``--run-id``) are the scheduler's to resume."""
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
            except Exception:
                logger.exception("could not mark run %s interrupted", run.get("id"))
        if marked:
            logger.warning("marked stale runs %s as interrupted", marked)
        return marked

    def close(self) -> None:
        self.commit(reopen=False)
        self.state.close()
        self.arc.close()


def _proc_start(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a process, from /proc; None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def owner_tag(pid: int | None = None) -> str:
    """``running: pid=N start=T host=H`` for this process (T: its start time, to survive pid reuse)."""
    pid = os.getpid() if pid is None else pid
    start = _proc_start(pid)
    return f"running: pid={pid} start={start if start is not None else '-'} host={socket.gethostname()}"


OWNER_RE = re.compile(r"pid=(\d+) start=(\d+|-) host=(\S+)")


def parse_owner_tag(text: str) -> tuple[int, int | None, str] | None:
    m = OWNER_RE.search(text)
    if m is None:
        return None
    return int(m.group(1)), None if m.group(2) == "-" else int(m.group(2)), m.group(3)


def process_alive(pid: int, start: int | None) -> bool:
    """True when process ``pid`` exists and (when known) is the same process that started at ``start``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if start is not None:
        now = _proc_start(pid)
        if now is not None and now != start:
            return False  # the pid was reused by another process
    return True


class WarcLog:
    """Appends every fetch (request + response records) to ``warc/<db>-run<N>-<time>.warc.gz`` beside the DB.

    Each record is its own gzip member (the usual ``.warc.gz`` layout, read by warcio and other tools) and is
    flushed as soon as it is written; the file is renamed from ``.open`` when the crawl closes cleanly. The
    records are built here rather than with warcio's writer, which costs ~3x more per record (profiled at
    ~10 % of the crawl process on the benchmark)."""

    def __init__(self, db_path: str, run_id: int | None) -> None:
        folder = Path(db_path).resolve().parent / "warc"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = folder / f"{Path(db_path).stem}-run{run_id or 0}-{stamp}.warc.gz"
        self.tmp = self.path.with_suffix(".gz.open")
        self.fh = self.tmp.open("ab")

    @staticmethod
    def _digest(data: bytes) -> str:
        return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")

    @staticmethod
    def _header_lines(pairs: Iterable[tuple[str, str]]) -> bytes:
        out = []
        for name, value in pairs:
            clean = str(value).replace("\r", " ").replace("\n", " ")
            out.append(f"{name}: {clean}\r\n".encode("latin-1", "replace"))
        return b"".join(out)

    def _record(self, rec_type: str, uri: str, date: str, content_type: str, block: bytes,
                payload: bytes | None) -> bytes:
        headers = [("WARC-Type", rec_type), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"), ("WARC-Date", date),
                   ("WARC-Target-URI", uri)]
        if payload is not None:
            headers.append(("WARC-Payload-Digest", self._digest(payload)))
        headers += [("WARC-Block-Digest", self._digest(block)), ("Content-Type", content_type),
                    ("Content-Length", str(len(block)))]
        record = b"WARC/1.0\r\n" + self._header_lines(headers) + b"\r\n" + block + b"\r\n\r\n"
        gz = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return gz.compress(record) + gz.flush()

    def write(self, item: DocumentItem) -> None:
        body: bytes = item["body"] or b""
        status = int(item.get("http_status") or 200)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        headers = [(k, v) for k, v in (item.get("headers") or {}).items()
                   if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")]
        headers.append(("Content-Length", str(len(body))))
        response = f"HTTP/1.1 {status} {phrase}\r\n".encode() + self._header_lines(headers) + b"\r\n" + body
        url = quote(item.get("final_url") or item["url"], safe=URI_SAFE)
        date = item.get("fetched_at") or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = list((item.get("request_headers") or {}).items())
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        request = (f"{item.get('method') or 'GET'} {target} HTTP/1.1\r\n".encode("latin-1", "replace")
                   + self._header_lines(req_headers) + b"\r\n")
        self.fh.write(self._record("response", url, date, "application/http; msgtype=response", response, body)
                      + self._record("request", url, date, "application/http; msgtype=request", request, None))
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()
        self.tmp.replace(self.path)


class ArchivePipeline:
    """Archives documents and failures; parses reports; records per-source results."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.db_path: str = settings.get("OGI_DB") or ""
        if not self.db_path:
            raise NotConfigured("OGI_DB must name the archive database")
        self.run_id: int | None = settings.getint("OGI_RUN_ID") or None
        self.trigger = settings.get("OGI_TRIGGER", "manual")
        self.warc_enabled = settings.getbool("OGI_WARC", True)
        try:
            self.mode = crawl_mode(settings)
        except ValueError as exc:
            raise ValueError(f"cannot start the crawl: {exc}") from None
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.reasons: dict[str, Counter[str]] = defaultdict(Counter)
        self.gateway: ArchiveGateway | None = None
        self.warc: WarcLog | None = None
        self.owns_run = False
        self.seen_failures: set[tuple[str, str]] = set()
        self.parse_workers = settings.getint("OGI_PARSE_WORKERS", 0)
        self.parse_enabled = settings.getbool("OGI_PARSE", True)
        self.pool: Any = None
        self.ticker: Any = None
        self.finished = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        pipeline = cls(crawler)
        # Scrapy closes pipelines before it sends spider_closed, and sets the finish_reason stat only after
        # both: the run is finished from the signal, which carries the real reason (finished / shutdown / …).
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        if self.parse_workers > 0 and self.parse_enabled and self.pool is None:
            # first: the workers import the parsers while this process opens the archive (sqlite_utils, pandas)
            from crawler.parsepool import ParsePool

            self.pool = ParsePool(self.parse_workers, parse_to_json)
        try:
            self._open()
        except BaseException:
            if self.pool is not None:  # the crawl cannot start: do not leave the workers behind
                self.pool.close()
                self.pool = None
            raise

    def _open(self) -> None:
        self.gateway = gateway = ArchiveGateway.for_crawler(self.crawler)
        spider = self.crawler.spider
        names = [s.name for s in getattr(spider, "sources", [])]
        if self.run_id is None:
            gateway.interrupt_stale_runs()
            self.run_id = gateway.arc.start_run(kind="crawl", trigger=self.trigger, sources=names)
            self.owns_run = True
            gateway.claim_run(self.run_id)
        self.crawler.stats.set_value("ogi/run_id", self.run_id)
        for name in names:
            self.counts[name]  # every source gets a row, even one that yields nothing
        if self.warc_enabled:
            self.warc = WarcLog(self.db_path, self.run_id)
        gateway.begin()
        import gc

        gc.freeze()  # the imported modules never die: keep them out of the collections done by _tick
        from twisted.internet import task

        self.ticker = task.LoopingCall(self._tick)
        self.ticker.start(max(min(gateway.commit_seconds, 1.0), 0.1), now=False)

    def _tick(self) -> None:
        """Every second: commit saved work that waited too long; collect garbage cycles (responses and their
        parsed trees sit in reference cycles; left to the generational GC, a fast crawl's RSS doubles)."""
        import gc

        if self.gateway is not None:
            self.gateway.commit_if_stale()
        t0 = time.perf_counter()
        gc.collect()
        self.crawler.stats.inc_value("ogi/time/gc", time.perf_counter() - t0)

    # ---- items -------------------------------------------------------------------------------------------
    async def process_item(self, item: Any) -> Any:
        if isinstance(item, FailureItem):
            self._failure(item)
        elif isinstance(item, DocumentItem):
            sha = self._document(item)
            if sha is not None and self.parse_enabled:
                await self._parse_and_save(item, sha, item.get("source") or "?")
        if self.gateway is not None:
            self.gateway.wrote()
        return item

    def _failure(self, item: FailureItem) -> None:
        assert self.gateway is not None
        source = item.get("source") or "?"
        key = (item["url"], item["reason"])
        if key in self.seen_failures:  # a confusable sibling linked from every list page is one failure
            return
        self.seen_failures.add(key)
        self.counts[source]["failures"] += 1
        if item.get("kind") == "list":
            self.counts[source]["list_failures"] += 1
        self.reasons[source][item["reason"]] += 1
        self.crawler.stats.inc_value("ogi/failures")
        try:
            self.gateway.arc.record_failure(self.run_id, item["url"], item["reason"],
                                            detail=item.get("detail") or "", source=source)
        except Exception:
            logger.exception("could not record failure for %s", item.get("url"))

    def _document(self, item: DocumentItem) -> str | None:
        """Archive one response; the sha256 when it still has to be parsed, else None."""
        assert self.gateway is not None
        source = item.get("source") or "?"
        stats = self.crawler.stats
        kind = item.get("kind")
        if kind == "list":
            self.counts[source]["pages"] += 1
        stats.inc_value("ogi/bytes", len(item.get("body") or b""))
        if item.get("not_modified"):
            prev = item.get("prev_sha256")
            status = self.gateway.processed(prev) if prev else None
            stats.inc_value("ogi/not_modified")
            if prev and status and kind != "list":
                self.gateway.mark_url(item, prev, status)
            if status in FOUND:
                self.counts[source]["reports_found"] += 1
                stats.inc_value("ogi/reports_found")
            return None
        if self.mode == "light" and kind != "list" and self.gateway.last_fetch(item["url"]) is None:
            self.counts[source]["new_items"] += 1  # an article or attachment the archive never fetched
            stats.inc_value("ogi/new_items")
        t0 = time.perf_counter()
        if self.warc is not None:
            try:
                self.warc.write(item)
            except Exception:
                logger.exception("WARC write failed for %s", item.get("url"))
        t1 = time.perf_counter()
        stats.inc_value("ogi/time/warc", t1 - t0)
        try:
            sha = self.gateway.arc.save_document(
                item["body"], url=item["url"], final_url=item.get("final_url"), http_status=item.get("http_status"),
                headers=item.get("headers"), fetched_at=item.get("fetched_at"), run_id=self.run_id, source=source,
                content_type=item.get("content_type"),
            )
        except Exception as exc:
            logger.exception("could not archive %s", item.get("url"))
            self._failure(FailureItem(url=item["url"], reason="archive-error", detail=str(exc)[:300], source=source))
            return None
        finally:
            stats.inc_value("ogi/time/save_document", time.perf_counter() - t1)
        stats.inc_value("ogi/documents")
        if kind == "list":
            return None
        if item.get("prev_sha256") == sha and (status := self.gateway.processed(sha)):
            stats.inc_value("ogi/unchanged_bytes")
            self.gateway.mark_url(item, sha, status)
            if status in FOUND:
                self.counts[source]["reports_found"] += 1
                stats.inc_value("ogi/reports_found")
            return None
        return sha

    async def _parse(self, item: DocumentItem) -> dict[str, Any]:
        args = (item["body"], item["url"], item.get("final_url"), item.get("content_type"), item.get("title"))
        if self.pool is None:
            t0 = time.perf_counter()
            try:
                return parse_to_json(*args)
            finally:
                self.crawler.stats.inc_value("ogi/time/parse_in_process", time.perf_counter() - t0)
        return await self.pool.run(*args)

    async def _parse_and_save(self, item: DocumentItem, sha: str, source: str) -> None:
        assert self.gateway is not None
        url = item["url"]
        try:
            parsed = await self._parse(item)
        except Exception as exc:  # the parser promises not to raise; if it does, it is a recorded failure
            logger.exception("parser raised on %s", url)
            self._failure(FailureItem(url=url, reason="parse-error", detail=f"{type(exc).__name__}: {exc}"[:300],
                                      source=source))
            return
        hint = {k: item.get(k) for k in ("agency", "region", "level") if item.get(k)}
        if item.get("year_hint") and not parsed.get("year"):
            hint["year"] = item.get("year_hint")
        t0 = time.perf_counter()
        try:
            res = self.gateway.arc.save_report(parsed, sha256=sha, url=url, source=source, region_hint=hint or None,
                                               run_id=self.run_id)
        except Exception as exc:
            logger.exception("could not save report %s", url)
            self._failure(FailureItem(url=url, reason="archive-error", detail=str(exc)[:300], source=source))
            return
        finally:
            self.crawler.stats.inc_value("ogi/time/save_report", time.perf_counter() - t0)
        status = res.status
        self.gateway.mark_processed(sha, status)
        self.gateway.mark_url(item, sha, status)
        self.crawler.stats.inc_value(f"ogi/save/{status}")
        if status in FOUND:
            self.counts[source]["reports_found"] += 1
            self.crawler.stats.inc_value("ogi/reports_found")
            change = res.change or status
            if change == "new":
                self.counts[source]["new_reports"] += 1
            elif change == "new_version":
                self.counts[source]["new_versions"] += 1
        if status not in ("new", "unchanged", "new_version", "pre2019"):
            why = parsed.get("status") or status
            reason = {"image_only": "image-only", "error": "parse-error"}.get(why, "not-report")
            self._failure(FailureItem(url=url, reason=reason, source=source,
                                      detail=(res.reason or parsed.get("error") or why or "")[:300]))

    # ---- closing -----------------------------------------------------------------------------------------
    def source_status(self, source: str) -> tuple[str, str]:
        """(status, detail) of one source: ok | partial | failed | empty | suspect."""
        assert self.gateway is not None
        c = self.counts[source]
        reasons = ", ".join(f"{r}×{n}" for r, n in self.reasons[source].most_common(6))
        if c["reports_found"] == 0:
            if c["pages"] == 0 and c["list_failures"]:
                return "failed", reasons
            try:
                history = self.gateway.arc.source_history(source, limit=10)
            except Exception:
                history = []
            if any((h.get("reports_found") or 0) > 0 for h in history if h.get("run_id") != self.run_id):
                return "suspect", f"found nothing where earlier runs found reports; {reasons}".strip("; ")
            return "empty", reasons
        if c["list_failures"]:
            return "partial", reasons
        return "ok", reasons

    def close_spider(self) -> None:
        """Commit what is saved; the run itself is finished by :meth:`spider_closed` (it knows the reason)."""
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if self.gateway is not None:
            self.gateway.commit()

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Record every source's result and finish the run; a crawl that did not finish (SIGTERM/Ctrl-C:
        ``shutdown``, a close-spider extension, …) is ``interrupted``, and so are its sources."""
        if self.gateway is None or self.finished:
            return
        self.finished = True
        self.close_spider()
        interrupted = reason != "finished"
        totals: Counter[str] = Counter()
        statuses = []
        stats = self.crawler.stats
        for source in list(self.counts):
            c = self.counts[source]
            if self.mode == "light":  # listed links the light pass did not request: known, still listed
                c["known_items"] = int(stats.get_value(f"ogi/known_items/{source}", 0))
                c["reports_found"] += int(stats.get_value(f"ogi/known_reports/{source}", 0))
            status, detail = self.source_status(source)
            if interrupted:
                status, detail = "interrupted", f"crawl stopped ({reason}); {detail}".strip("; ")
            statuses.append(status)
            totals.update(c)
            self.crawler.stats.set_value(f"ogi/source/{source}/status", status)
            for key in ("pages", "reports_found", "new_reports", "new_versions", "failures", "new_items",
                        "known_items"):
                self.crawler.stats.set_value(f"ogi/source/{source}/{key}", c[key])
            try:
                self.gateway.arc.record_source_result(
                    self.run_id, source, pages=c["pages"], reports_found=c["reports_found"],
                    new_reports=c["new_reports"], new_versions=c["new_versions"], failures=c["failures"],
                    status=status, detail=detail[:1000])
            except Exception:
                logger.exception("could not record the result of source %s", source)
        if interrupted:
            run_status = "interrupted"
        elif "suspect" in statuses:
            run_status = "suspect"
        elif statuses and all(s == "failed" for s in statuses):
            run_status = "failed"
        elif totals["reports_found"] == 0:
            run_status = "empty"
        else:
            run_status = "ok"
        counts: dict[str, Any] = {k: totals[k] for k in ("pages", "reports_found", "new_reports", "new_versions",
                                                         "failures")}
        counts["mode"] = self.mode
        if self.mode == "light":
            counts.update(new_items=totals["new_items"], known_items=totals["known_items"])
        self.crawler.stats.set_value("ogi/mode", self.mode)
        self.crawler.stats.set_value("ogi/run_status", run_status)
        self.crawler.stats.set_value("ogi/finish_reason", reason)
        self.crawler.stats.set_value("ogi/time/commit", round(self.gateway.commit_time, 3))
        try:
            self.gateway.arc.finish_run(self.run_id, status=run_status, counts=counts, detail=f"finish: {reason}")
        except Exception:
            logger.exception("could not finish run %s", self.run_id)
        if self.warc is not None:
            self.warc.close()
        if self.pool is not None:
            self.pool.close()
        self.gateway.close()
