"""The item pipeline: every response archived with its provenance, reports parsed, per-source results recorded.

Every fetched response is archived raw with its provenance (``save_document``) and written to a WARC file
(:mod:`crawler.warc`) before anything is parsed; then article pages and attachments go to ``parse_document``
and the result to ``save_report``. Unchanged bytes (a 304, or the same sha256 as the last fetch) are not parsed
again. Failures are data: every FailureItem becomes a ``failures`` row. When the spider closes, each source gets
a ``run_sources`` row; a source that found nothing where it found reports before is ``suspect``. All archive
access goes through :class:`crawler.gateway.ArchiveGateway`.

Nothing is dropped without a record: a LinkDecisionItem (a candidate link not followed: not-report, duplicate,
page-limit …) and a link-level failure (confusable, offsite, js-link, robots) become ``link_decisions`` rows.
Completeness is measured (:mod:`crawler.completeness`): the ListingItems of a source reconcile what its list
pages gave with what the portal declares; a source that found fewer items is ``partial`` with the number
missing, one whose portal declares nothing is ``unknown``, and a run with a partial source is not ``ok``
(:data:`RUN_PARTIAL`).

Settings it reads:

* ``OGI_DB``: the archive database (required).
* ``OGI_RUN_ID``: an existing run row (the scheduler's); unset, the pipeline starts its own run.
* ``OGI_TRIGGER``: what started the run (``manual``, ``demo``, ``schedule:…``).
* ``OGI_MODE``: the crawl mode (:mod:`crawler.modes`); light mode adds ``new_items``/``known_items``.
* ``OGI_WARC``: write the WARC log (default on).
* ``OGI_PARSE``: parse reports (off: fetch and archive only, re-parse later).
* ``OGI_PARSE_WORKERS``: parse in that many worker processes (0: in this process).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from archive.schema import RUN_STATUSES
from crawler.completeness import Column, source_completeness
from crawler.gateway import ArchiveGateway, log_write_error
from crawler.items import DocumentItem, FailureItem, LinkDecisionItem, ListingItem
from crawler.modes import FOUND, crawl_mode
from crawler.page_images import PageImages, pending_images
from crawler.parsepool import parse_to_json
from crawler.reasons import LINK_REASONS
from crawler.warc import WarcLog

__all__ = ["ArchivePipeline"]

logger = logging.getLogger(__name__)

LIST_STATUS = "list"  # the crawl-state status of an archived list page
# the run status of a finished run in which a source lost items (archive.schema.RUN_STATUSES)
RUN_PARTIAL = "partial"
assert RUN_PARTIAL in RUN_STATUSES
# failures of a link that was never requested, or refused before it was: also a link decision
# link decisions that lose items known to exist (a page cap reached): the source is partial
LOSS_DECISIONS = frozenset({"page-limit"})
# parses of an article page that links attachments and holds no report itself: not a failure (the report is
# in the attachments, each followed and recorded on its own)
ATTACHMENT_PAGE_STATUSES = frozenset({"no_tables", "not_report"})
# a page whose tables are pictures is parsed again with its images: its parse budget grows by this per image
OCR_SECONDS_PER_IMAGE = 30.0


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
        self.loss_reasons: dict[str, Counter[str]] = defaultdict(Counter)  # reasons of list failures and losses
        self.columns: dict[str, dict[str, Column]] = defaultdict(dict)
        self.decisions: dict[str, Counter[str]] = defaultdict(Counter)
        self.list_urls: dict[str, set[str]] = defaultdict(set)  # URLs read as list pages, per source
        self.recorded: dict[str, set[str]] = defaultdict(set)  # URLs recorded with a reason, per source
        self.gateway: ArchiveGateway | None = None
        self.warc: WarcLog | None = None
        self.owns_run = False
        self.seen_failures: set[tuple[str, str]] = set()
        self.parse_workers = settings.getint("OGI_PARSE_WORKERS", 0)
        self.parse_enabled = settings.getbool("OGI_PARSE", True)
        self.pool: Any = None
        self.page_images: PageImages | None = None  # set when the spider opens (OGI_FETCH_IMAGES)
        self.finished = False
        # counted since the last archive commit (a failed commit takes them back: never reported, never stored)
        self.uncommitted: dict[str, Counter[str]] = defaultdict(Counter)
        self.uncommitted_urls: dict[tuple[str, str], None] = {}  # (source, URL) saved since the last commit

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
            from scrapy.utils.misc import load_object

            from crawler.parsepool import ParsePool

            settings = self.crawler.settings
            func = load_object(settings.get("OGI_PARSE_FUNC") or parse_to_json)  # a test hook may replace it
            self.pool = ParsePool(self.parse_workers, func, seconds=settings.getfloat("OGI_PARSE_SECONDS", 90.0),
                                  memory_mb=settings.getint("OGI_PARSE_MEMORY_MB", 2048),
                                  recycle=settings.getint("OGI_PARSE_RECYCLE", 500))
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
        gateway.listeners.append(self._committed)
        if self.crawler.settings.getbool("OGI_FETCH_IMAGES", True):
            self.page_images = PageImages(self.crawler, self._store, self._failure)
        self.crawler.stats.set_value("ogi/run_id", self.run_id)
        for name in names:
            self.counts[name]  # every source gets a row, even one that yields nothing
        if self.warc_enabled:
            self.warc = WarcLog(self.db_path, self.run_id)
        gateway.begin()

    # ---- items -------------------------------------------------------------------------------------------
    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ListingItem):
            self._listing(item)
            return item
        if isinstance(item, LinkDecisionItem):
            source = item["source"] or "?"
            new = self._decision(source, item["url"], item["reason"], title=item.get("title"),
                                 list_url=item.get("list_url"), detail=item.get("detail"))
            if new and item["reason"] in LOSS_DECISIONS:  # a cap reached: pages known and not read
                self.counts[source]["losses"] += 1
                self.reasons[source][item["reason"]] += 1
                self.loss_reasons[source][item["reason"]] += 1
            return item
        if isinstance(item, FailureItem):
            self._failure(item)
        elif isinstance(item, DocumentItem):
            sha = self._document(item)
            if sha is not None and self.parse_enabled:
                await self._parse_and_save(item, sha, item.get("source") or "?")
        if self.gateway is not None:
            self.gateway.wrote()
        return item

    def _listing(self, item: ListingItem) -> None:
        source = item.get("source") or "?"
        column = str(item.get("column") or item.get("list_url") or "?")
        self.columns[source].setdefault(column, Column()).add(item)

    def _decision(self, source: str, url: str, reason: str, *, title: str | None = None,
                  list_url: str | None = None, detail: str | None = None) -> bool:
        """Record one candidate link not followed (once per run, source, URL and reason); True when new."""
        assert self.gateway is not None
        key = (f"decision:{source}", f"{url}\n{reason}")
        if key in self.seen_failures:
            return False
        self.seen_failures.add(key)
        self.recorded[source].add(url)
        self.decisions[source][reason] += 1
        self.crawler.stats.inc_value("ogi/link_decisions")
        try:
            self.gateway.arc.record_link_decision(self.run_id, source, url, reason, title=title,
                                                  list_url=list_url, detail=(detail or "")[:500] or None)
        except Exception as exc:
            log_write_error(exc, "could not record the link decision for %s", url)
        return True

    def _failure(self, item: FailureItem) -> None:
        assert self.gateway is not None
        source = item.get("source") or "?"
        key = (item["url"], item["reason"])
        if key in self.seen_failures:  # a confusable sibling linked from every list page is one failure
            return
        self.seen_failures.add(key)
        self.recorded[source].add(str(item["url"]))
        reason = str(item["reason"])
        if item.get("kind") == "link" or (item.get("kind") != "list" and reason.startswith(LINK_REASONS)):
            self._decision(source, item["url"], reason, detail=item.get("detail"))
        self.counts[source]["failures"] += 1
        if item.get("kind") == "list":
            self.counts[source]["list_failures"] += 1
            self.loss_reasons[source][reason] += 1
        elif item.get("partial"):  # an item known to exist and lost (crawler/losses.py): the source is partial
            self.counts[source]["losses"] += 1
            self.loss_reasons[source][reason] += 1
        self.reasons[source][item["reason"]] += 1
        self.crawler.stats.inc_value("ogi/failures")
        try:
            self.gateway.arc.record_failure(self.run_id, item["url"], item["reason"],
                                            detail=item.get("detail") or "", source=source)
        except Exception as exc:
            log_write_error(exc, "could not record failure for %s", item.get("url"))

    def _document(self, item: DocumentItem) -> str | None:
        """Archive one response; the sha256 when it still has to be parsed, else None."""
        assert self.gateway is not None
        source = item.get("source") or "?"
        stats = self.crawler.stats
        kind = item.get("kind")
        if kind == "list":
            self.counts[source]["pages"] += 1
            self.list_urls[source].update(u for u in (item.get("url"), item.get("final_url")) if u)
        else:
            self.counts[source]["archived"] += 1  # stored now, or unchanged since its stored copy
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
        sha = self._store(item)
        if sha is None:
            return None
        if kind != "list":
            self.uncommitted[source]["archived"] += 1
            self.uncommitted_urls[(source, str(item["url"]))] = None
        if kind == "list":
            # a list page is processed once archived: a re-crawl asks for it conditionally (also when it is
            # reached as a link from a hub) and replays its archived copy on a 304
            self.gateway.mark_processed(sha, LIST_STATUS)
            return None
        if item.get("prev_sha256") == sha and (status := self.gateway.processed(sha)):
            stats.inc_value("ogi/unchanged_bytes")
            self.gateway.mark_url(item, sha, status)
            if status in FOUND:
                self.counts[source]["reports_found"] += 1
                stats.inc_value("ogi/reports_found")
            return None
        return sha

    def _store(self, item: DocumentItem) -> str | None:
        """Write one fetched response to the WARC log and the archive; its sha256, or None (a recorded loss)
        when the archive could not store it."""
        assert self.gateway is not None
        source = item.get("source") or "?"
        stats = self.crawler.stats
        t0 = time.perf_counter()
        if self.warc is not None:
            try:
                self.warc.write(item)
            except Exception as exc:
                log_write_error(exc, "WARC write failed for %s", item.get("url"))
        t1 = time.perf_counter()
        stats.inc_value("ogi/time/warc", t1 - t0)  # type: ignore[arg-type]  # seconds
        try:
            sha = self.gateway.arc.save_document(
                item["body"], url=item["url"], final_url=item.get("final_url"), http_status=item.get("http_status"),
                headers=item.get("headers"), fetched_at=item.get("fetched_at"), run_id=self.run_id, source=source,
                content_type=item.get("content_type"),
            )
        except Exception as exc:
            log_write_error(exc, "could not archive %s", item.get("url"))
            self._failure(FailureItem(url=item["url"], reason="archive-error", detail=str(exc)[:300], source=source,
                                      kind=item.get("kind"), partial=True))  # fetched, not stored: a loss
            return None
        finally:
            stats.inc_value("ogi/time/save_document", time.perf_counter() - t1)  # type: ignore[arg-type]  # seconds
        stats.inc_value("ogi/documents")
        self.uncommitted[source]["documents"] += 1
        return sha

    async def _parse(self, item: DocumentItem, images: dict[str, bytes] | None = None) -> dict[str, Any]:
        args: tuple[Any, ...] = (item["body"], item["url"], item.get("final_url"), item.get("content_type"),
                                 item.get("title"))
        if images is not None:  # a page whose tables are pictures, parsed again with them (OCR)
            args = (*args, images)
        if self.pool is None:
            t0 = time.perf_counter()
            try:
                return parse_to_json(*args)
            finally:
                self.crawler.stats.inc_value("ogi/time/parse_in_process", time.perf_counter() - t0)  # type: ignore[arg-type]  # seconds
        seconds = None if images is None else self.pool.seconds + OCR_SECONDS_PER_IMAGE * len(images)
        return await self.pool.run(*args, seconds=seconds)

    async def _parse_or_fail(self, item: DocumentItem, source: str,
                             images: dict[str, bytes] | None = None) -> dict[str, Any] | None:
        """The parse dict of one document, or None after recording why it could not be parsed."""
        url = item["url"]
        try:
            return await self._parse(item, images)
        except Exception as exc:  # the parser promises not to raise; if it does, it is a recorded failure
            logger.exception("parser raised on %s", url)
            reason = str(getattr(exc, "reason", "") or "parse-error")  # parse_timeout, parse_memory, …
            self._failure(FailureItem(url=url, reason=reason, detail=f"{type(exc).__name__}: {exc}"[:300],
                                      source=source, partial=images is not None))
            return None

    async def _parse_and_save(self, item: DocumentItem, sha: str, source: str) -> None:
        assert self.gateway is not None
        url = item["url"]
        parsed = await self._parse_or_fail(item, source)
        if parsed is None:
            return
        if self.page_images is not None and (wanted := pending_images(parsed)):
            # the page's tables are pictures: fetch them (each archived), then parse the page again with them
            # (with none fetched too: the report then says which images it lacks); if that parse fails, the
            # page's own parse (image_only, its images listed) is what is saved
            fetched = await self.page_images.fetch(item, wanted)
            parsed = await self._parse_or_fail(item, source, fetched) or parsed
        hint = {k: item.get(k) for k in ("agency", "region", "level") if item.get(k)}
        if item.get("year_hint") and not parsed.get("year"):
            hint["year"] = item.get("year_hint")
        t0 = time.perf_counter()
        try:
            res = self.gateway.arc.save_report(parsed, sha256=sha, url=url, source=source, region_hint=hint or None,
                                               run_id=self.run_id)
        except Exception as exc:
            log_write_error(exc, "could not save report %s", url)
            self._failure(FailureItem(url=url, reason="archive-error", detail=str(exc)[:300], source=source,
                                      partial=True))  # parsed, not stored: a loss
            return
        finally:
            self.crawler.stats.inc_value("ogi/time/save_report", time.perf_counter() - t0)  # type: ignore[arg-type]  # seconds
        status = res.status
        self.uncommitted_urls[(source, url)] = None
        self.gateway.mark_processed(sha, status)
        self.gateway.mark_url(item, sha, status)
        self.crawler.stats.inc_value(f"ogi/save/{status}")
        if status in FOUND:
            self.counts[source]["reports_found"] += 1
            self.crawler.stats.inc_value("ogi/reports_found")
            self.uncommitted[source]["reports_found"] += 1
            change = res.change or status
            if change == "new":
                self.counts[source]["new_reports"] += 1
                self.uncommitted[source]["new_reports"] += 1
            elif change == "new_version":
                self.counts[source]["new_versions"] += 1
                self.uncommitted[source]["new_versions"] += 1
        if status not in ("new", "unchanged", "new_version", "pre2019"):
            why = parsed.get("status") or status
            if why in ATTACHMENT_PAGE_STATUSES and item.get("attachments"):
                # an article that carries its report as attachments (详见附件): archived, its attachments are
                # followed and each is a report or a recorded failure of its own; the page itself lost nothing
                self.crawler.stats.inc_value("ogi/attachment_pages")
                logger.debug("%s: no report on the page itself; %d attachments followed", url,
                             len(item["attachments"]))
                return
            reason = {"image_only": "image-only", "error": "parse-error"}.get(why, "not-report")
            self._failure(FailureItem(url=url, reason=reason, source=source,
                                      detail=(res.reason or parsed.get("error") or why or "")[:300]))

    def _committed(self, ok: bool, error: str) -> None:
        """Told by the gateway after each commit: a failed one (a full disk) takes back what it counted, and
        every document it held becomes a recorded loss (``archive-error``): never reported as stored."""
        lost, self.uncommitted_urls = self.uncommitted_urls, {}
        taken, self.uncommitted = self.uncommitted, defaultdict(Counter)
        if ok:
            return
        stats = self.crawler.stats
        for source, delta in taken.items():
            self.counts[source].subtract({k: v for k, v in delta.items() if k != "documents"})
            stats.inc_value("ogi/reports_found", -delta["reports_found"])
            stats.inc_value("ogi/documents", -delta["documents"])
        stats.inc_value("ogi/commit_failures")
        for source, url in lost:
            self.seen_failures.discard((url, "archive-error"))
            self._failure(FailureItem(url=url, reason="archive-error", source=source, partial=True,
                                      detail=f"not stored: archive commit failed: {error}"[:300]))

    # ---- closing -----------------------------------------------------------------------------------------
    def source_status(self, source: str) -> tuple[str, str]:
        """(status, detail) of one source: ok | partial | failed | empty | suspect; ``partial`` also when its
        list pages gave fewer items than the portal declares."""
        assert self.gateway is not None
        c = self.counts[source]
        reasons = ", ".join(f"{r}×{n}" for r, n in self.reasons[source].most_common(6))
        status, detail = self._source_status(source, c, reasons)
        found = self.completeness(source)
        if found.state == "partial" and status == "ok":
            status = "partial"
        if found.state != "ok":
            detail = f"completeness {found.state}: {found.detail}; {detail}".strip("; ")
        return status, detail

    def completeness(self, source: str) -> Any:
        """The completeness of one source so far (:func:`crawler.completeness.source_completeness`)."""
        found = source_completeness(self.columns[source].items(), lists=self.list_urls[source],
                                    recorded=self.recorded[source])
        lost = self.counts[source]["losses"] + self.counts[source]["list_failures"]
        if lost and found.state != "partial":  # a list or an item lost (crawler/losses.py): not complete
            found = replace(found, state="partial", missing=(found.missing or 0) + self.counts[source]["losses"],
                            detail=f"{lost} lost ({', '.join(self.reasons[source])}); {found.detail}".strip("; "))
        return found

    def _source_status(self, source: str, c: Counter[str], reasons: str) -> tuple[str, str]:
        assert self.gateway is not None
        if c["reports_found"] == 0:
            if c["pages"] == 0 and c["list_failures"]:
                return "failed", reasons
            try:
                history = self.gateway.arc.source_history(source, limit=10)
            except Exception:
                history = []
            if any((h.get("reports_found") or 0) > 0 for h in history if h.get("run_id") != self.run_id):
                return "suspect", f"found nothing where earlier runs found reports; {reasons}".strip("; ")
            listed = c["pages"] or c["archived"] or any(col.rows for col in self.columns[source].values())
            if (c["list_failures"] or c["losses"]) and listed:  # something was read, and something was lost
                return "partial", f"0 reports; lost: {self.lost_text(source)}; {reasons}".strip("; ")
            return "empty", reasons
        if c["list_failures"] or c["losses"]:
            return "partial", reasons
        return "ok", reasons

    def lost_text(self, source: str | None = None) -> str:
        """The loss reasons of one source (or of the run) with their counts: ``page-limit×1, http/404×2``."""
        lost: Counter[str] = Counter()
        for name, counter in self.loss_reasons.items():
            if source is None or name == source:
                lost.update(counter)
        return ", ".join(f"{r}×{n}" for r, n in lost.most_common(8))

    def close_spider(self) -> None:
        """Commit what is saved; the run itself is finished by :meth:`spider_closed` (it knows the reason)."""
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
        completeness: list[str] = []
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
            found = self.completeness(source)
            completeness.append(found.state)
            self.crawler.stats.set_value(f"ogi/source/{source}/completeness", found.state)
            self.crawler.stats.set_value(f"ogi/source/{source}/declared", found.declared)
            self.crawler.stats.set_value(f"ogi/source/{source}/listed", found.listed)
            self.crawler.stats.set_value(f"ogi/source/{source}/missing", found.missing)
            try:
                assert self.run_id is not None  # set in open_spider, before any item
                self.gateway.arc.record_source_result(
                    self.run_id, source, pages=c["pages"], reports_found=c["reports_found"],
                    new_reports=c["new_reports"], new_versions=c["new_versions"], failures=c["failures"],
                    status=status, detail=detail[:1000], declared=found.declared, listed=found.listed,
                    followed=int(stats.get_value(f"ogi/links/{source}", 0)), archived=c["archived"],
                    rejected=dict(self.decisions[source]), missing=found.missing, completeness=found.state,
                    declared_pages=found.declared_pages, pages_read=found.pages_read)
            except Exception as exc:
                log_write_error(exc, "could not record the result of source %s", source)
        if interrupted:
            run_status = "interrupted"
        elif self.gateway.commit_failures:  # a failed commit is a failed run, never a success
            run_status = "failed"
        elif "suspect" in statuses:
            run_status = "suspect"
        elif "partial" in statuses or ("partial" in completeness and totals["reports_found"]):
            run_status = RUN_PARTIAL  # a source lost items: the run is not ok
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
        detail = f"finish: {reason}"
        if not interrupted and (losses := self.lost_text()):
            detail += f"; lost: {losses}"
        if self.gateway.commit_failures:
            detail += f"; archive commit failed {self.gateway.commit_failures}×: {self.gateway.commit_error}"
            self.crawler.stats.set_value("ogi/commit_error", self.gateway.commit_error)
        try:
            assert self.run_id is not None
            self.gateway.arc.finish_run(self.run_id, status=run_status, counts=counts, detail=detail[:1000])
        except Exception as exc:
            log_write_error(exc, "could not finish run %s", self.run_id)
        if totals["new_reports"] or totals["new_versions"]:  # the across-report tables follow every crawl
            try:
                from archive.across import recompute_across

                recompute_across(self.gateway.arc)
            except Exception as exc:
                log_write_error(exc, "could not recompute the across-report tables after run %s", self.run_id)
        try:  # a full disk may refuse the WARC log's last bytes: the workers and the archive still close
            if self.warc is not None:
                self.warc.close()
        except OSError as exc:
            logger.error("could not close the WARC log of run %s: %s", self.run_id, exc)
        finally:
            if self.pool is not None:
                self.pool.close()
        before = self.gateway.commit_failures
        self.gateway.close()
        if self.gateway.commit_failures > before:  # the run's own result could not be stored
            logger.error("run %s: its result could not be stored in the archive (%s)", self.run_id,
                         self.gateway.commit_error)
            self.crawler.stats.set_value("ogi/run_status", "failed")
            self.crawler.stats.set_value("ogi/commit_error", self.gateway.commit_error)
