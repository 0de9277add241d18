"""The only place where the crawler calls the archive.

Every fetched response is archived raw with its provenance (``save_document``) and written to a WARC file
before anything is parsed; then article pages and attachments go to ``parse_document`` and the result to
``save_report``. Unchanged bytes (a 304, or the same sha256 as the last fetch) are not parsed again.
Failures are data: every FailureItem becomes a ``failures`` row. When the spider closes, each source gets a
``run_sources`` row; a source that found nothing where it found reports before is ``suspect``.

A small state file beside the database (``<db>.crawl-state.db``) remembers which documents were fully
processed, so a crawl killed between storing and parsing a document parses it again on the next run.
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import DocumentItem, FailureItem

logger = logging.getLogger(__name__)

FOUND = ("new", "unchanged", "new_version", "pre2019", "image_only")
STATE_SUFFIX = ".crawl-state.db"


def parse_to_json(body: bytes, url: str, final_url: str | None, content_type: str | None,
                  title: str | None) -> dict[str, Any]:
    """``parse_document(...).to_json()``; runs in a worker process (module-level so it pickles)."""
    from crawler.parsers import parse_document

    return parse_document(body, source=url, url=final_url or url, content_type=content_type,
                          title_hint=title).to_json()


def _watch_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the crawl process is gone (a ``kill -9`` must not leave workers behind)."""
    import os
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="ogi-parent-watch", daemon=True).start()


def load_factory(dotted: str) -> Any:
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr or "open_archive")


class ArchiveGateway:
    """The crawler's handle on one archive (shared by the pipeline and the conditional-request middleware)."""

    def __init__(self, db_path: str, factory: str = "archive:open_archive") -> None:
        self.db_path = db_path
        self.arc = load_factory(factory)(db_path)
        self.state = sqlite3.connect(db_path + STATE_SUFFIX, isolation_level=None, check_same_thread=False)
        self.state.execute("PRAGMA journal_mode=WAL")
        self.state.execute("CREATE TABLE IF NOT EXISTS processed (sha256 TEXT PRIMARY KEY, status TEXT, at TEXT)")

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ArchiveGateway:
        gateway = getattr(crawler, "_ogi_gateway", None)
        if gateway is None:
            settings = crawler.settings
            gateway = cls(settings.get("OGI_DB", "ogi.db"), settings.get("OGI_ARCHIVE_FACTORY", "archive:open_archive"))
            crawler._ogi_gateway = gateway  # type: ignore[attr-defined]
        return gateway

    def last_fetch(self, url: str) -> dict[str, Any] | None:
        try:
            return self.arc.last_fetch(url)
        except Exception:  # a damaged archive must not stop the crawl: fetch unconditionally
            logger.exception("last_fetch failed for %s", url)
            return None

    def processed(self, sha256: str) -> str | None:
        row = self.state.execute("SELECT status FROM processed WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def mark_processed(self, sha256: str, status: str) -> None:
        self.state.execute(
            "INSERT OR REPLACE INTO processed(sha256, status, at) VALUES (?,?,?)",
            (sha256, status, datetime.now(UTC).isoformat()),
        )

    def close(self) -> None:
        self.state.close()
        self.arc.close()


class WarcLog:
    """Appends every fetch (request + response records) to ``warc/<db>-run<N>-<time>.warc.gz`` beside the DB.

    Records are flushed one by one; the file is renamed from ``.open`` when the crawl closes cleanly."""

    def __init__(self, db_path: str, run_id: int | None) -> None:
        from warcio.warcwriter import WARCWriter

        folder = Path(db_path).resolve().parent / "warc"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = folder / f"{Path(db_path).stem}-run{run_id or 0}-{stamp}.warc.gz"
        self.tmp = self.path.with_suffix(".gz.open")
        self.fh = self.tmp.open("ab")
        self.writer = WARCWriter(self.fh, gzip=True)

    def write(self, item: DocumentItem) -> None:
        from warcio.statusandheaders import StatusAndHeaders

        body: bytes = item["body"] or b""
        headers = [(k, v) for k, v in (item.get("headers") or {}).items()
                   if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")]
        headers.append(("Content-Length", str(len(body))))
        status = int(item.get("http_status") or 200)
        http_headers = StatusAndHeaders(f"{status} OK", headers, protocol="HTTP/1.1")
        url = item.get("final_url") or item["url"]
        date = item.get("fetched_at")
        warc_headers = {"WARC-Date": date} if date else None
        record = self.writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http_headers,
                                                warc_headers_dict=warc_headers)
        self.writer.write_record(record)
        req_headers = StatusAndHeaders(f"{item.get('method') or 'GET'} {url} HTTP/1.1",
                                       list((item.get("request_headers") or {}).items()), is_http_request=True)
        request = self.writer.create_warc_record(url, "request", payload=BytesIO(b""), http_headers=req_headers)
        self.writer.write_record(request)
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
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.reasons: dict[str, Counter[str]] = defaultdict(Counter)
        self.gateway: ArchiveGateway | None = None
        self.warc: WarcLog | None = None
        self.owns_run = False
        self.seen_failures: set[tuple[str, str]] = set()
        self.parse_workers = settings.getint("OGI_PARSE_WORKERS", 0)
        self.parse_enabled = settings.getbool("OGI_PARSE", True)
        self.pool: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.gateway = ArchiveGateway.for_crawler(self.crawler)
        spider = self.crawler.spider
        names = [s.name for s in getattr(spider, "sources", [])]
        if self.run_id is None:
            self.run_id = self.gateway.arc.start_run(kind="crawl", trigger=self.trigger, sources=names)
            self.owns_run = True
        self.crawler.stats.set_value("ogi/run_id", self.run_id)
        for name in names:
            self.counts[name]  # every source gets a row, even one that yields nothing
        if self.warc_enabled:
            self.warc = WarcLog(self.db_path, self.run_id)
        if self.parse_workers > 0:
            import multiprocessing
            import os
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(self.parse_workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_watch_parent, initargs=(os.getpid(),))

    # ---- items -------------------------------------------------------------------------------------------
    async def process_item(self, item: Any) -> Any:
        if isinstance(item, FailureItem):
            self._failure(item)
        elif isinstance(item, DocumentItem):
            sha = self._document(item)
            if sha is not None and self.parse_enabled:
                await self._parse_and_save(item, sha, item.get("source") or "?")
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
            if status in FOUND:
                self.counts[source]["reports_found"] += 1
                stats.inc_value("ogi/reports_found")
            return None
        if self.warc is not None:
            try:
                self.warc.write(item)
            except Exception:
                logger.exception("WARC write failed for %s", item.get("url"))
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
        stats.inc_value("ogi/documents")
        if kind == "list":
            return None
        if item.get("prev_sha256") == sha and (status := self.gateway.processed(sha)):
            stats.inc_value("ogi/unchanged_bytes")
            if status in FOUND:
                self.counts[source]["reports_found"] += 1
                stats.inc_value("ogi/reports_found")
            return None
        return sha

    async def _parse(self, item: DocumentItem) -> dict[str, Any]:
        args = (item["body"], item["url"], item.get("final_url"), item.get("content_type"), item.get("title"))
        if self.pool is None:
            return parse_to_json(*args)
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.pool, parse_to_json, *args)

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
        try:
            res = self.gateway.arc.save_report(parsed, sha256=sha, url=url, source=source, region_hint=hint or None,
                                               run_id=self.run_id)
        except Exception as exc:
            logger.exception("could not save report %s", url)
            self._failure(FailureItem(url=url, reason="archive-error", detail=str(exc)[:300], source=source))
            return
        status = res.status
        self.gateway.mark_processed(sha, status)
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
        if self.gateway is None:
            return
        reason = self.crawler.stats.get_value("finish_reason") or "finished"
        totals: Counter[str] = Counter()
        statuses = []
        for source in list(self.counts):
            c = self.counts[source]
            status, detail = self.source_status(source)
            statuses.append(status)
            totals.update(c)
            self.crawler.stats.set_value(f"ogi/source/{source}/status", status)
            for key in ("pages", "reports_found", "new_reports", "new_versions", "failures"):
                self.crawler.stats.set_value(f"ogi/source/{source}/{key}", c[key])
            try:
                self.gateway.arc.record_source_result(
                    self.run_id, source, pages=c["pages"], reports_found=c["reports_found"],
                    new_reports=c["new_reports"], new_versions=c["new_versions"], failures=c["failures"],
                    status=status, detail=detail[:1000])
            except Exception:
                logger.exception("could not record the result of source %s", source)
        if reason not in ("finished",):
            run_status = "interrupted"
        elif "suspect" in statuses:
            run_status = "suspect"
        elif statuses and all(s == "failed" for s in statuses):
            run_status = "failed"
        elif totals["reports_found"] == 0:
            run_status = "empty"
        else:
            run_status = "ok"
        counts = {k: totals[k] for k in ("pages", "reports_found", "new_reports", "new_versions", "failures")}
        self.crawler.stats.set_value("ogi/run_status", run_status)
        try:
            self.gateway.arc.finish_run(self.run_id, status=run_status, counts=counts, detail=f"finish: {reason}")
        except Exception:
            logger.exception("could not finish run %s", self.run_id)
        if self.warc is not None:
            self.warc.close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.gateway.close()
