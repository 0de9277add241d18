"""Re-parse: stored documents through the current parser again, without re-crawling (``ogi reparse``).

Parsing happens outside the write transactions; each document is then saved all or nothing through
``save_report(..., reparse=True)``, and the work is recorded as a run of kind ``reparse``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.common import ArchiveError, ReparseResult, SaveResult

logger = logging.getLogger(__name__)


class ReparseMixin:
    """Re-parsing stored documents, for :class:`archive.store.Archive`."""

    if TYPE_CHECKING:
        _conn: sqlite3.Connection
        parser_version: str | None

        def batch(self, *, size: int = 500, seconds: float = 2.0) -> AbstractContextManager[Any]: ...
        def read_document(self, sha256: str) -> bytes: ...
        def save_report(
            self, parsed: dict[str, Any], *, sha256: str, url: str | None = None, source: str | None = None,
            region_hint: dict[str, Any] | None = None, run_id: int | None = None,
            parser_version: str | None = None, reparse: bool = False,
        ) -> SaveResult: ...
        def start_run(self, *, kind: str = "crawl", trigger: str = "manual",
                      sources: list[str] | None = None) -> int: ...
        def finish_run(self, run_id: int, *, status: str, counts: dict[str, Any] | None = None,
                       detail: str = "") -> None: ...

    def reparse_candidates(
        self, *, since: str | None = None, sha256s: list[str] | tuple[str, ...] | None = None
    ) -> list[str]:
        """Documents a re-parse looks at, oldest first: every document that was parsed before (crawled list
        pages never were) and is the current version of a report or of none; ``since``: first archived on or
        after that date (``YYYY-MM-DD`` or an ISO time); ``sha256s``: exactly these (a unique prefix of at
        least 6 hex digits will do; older versions are included, and are then reported ``skipped``)."""
        if sha256s:
            out: list[str] = []
            for want in sha256s:
                want = want.strip().lower()
                if len(want) < 6:
                    raise ArchiveError(f"sha256 {want!r}: give at least 6 hex digits")
                rows = self._conn.execute(
                    "SELECT sha256 FROM documents WHERE sha256 >= ? AND sha256 < ? LIMIT 2",
                    (want, want + "g"),
                ).fetchall()
                if not rows:
                    raise ArchiveError(f"no document {want}")
                if len(rows) > 1:
                    raise ArchiveError(f"sha256 prefix {want} is not unique")
                out.append(rows[0][0])
            return list(dict.fromkeys(out))
        sql = (
            "SELECT d.sha256 FROM documents d WHERE d.parse_status IS NOT NULL"
            " AND (EXISTS (SELECT 1 FROM reports r WHERE r.sha256 = d.sha256)"
            "      OR NOT EXISTS (SELECT 1 FROM versions v WHERE v.sha256 = d.sha256))"
        )
        args: list[Any] = []
        if since:
            sql += " AND d.first_seen >= ?"
            args.append(since)
        return [r[0] for r in self._conn.execute(sql + " ORDER BY d.first_seen, d.sha256", args)]

    def reparse_context(self, sha256: str) -> dict[str, Any]:
        """What re-parsing a stored document needs besides its bytes, from the stored report version (or
        the newest fetch): ``source``, ``url`` and ``content_type`` for the parser (as the first parse got
        them), ``title_hint`` (the stored title; parsers use it only when the document names none), and
        ``save_url``, ``origin``, ``region_hint`` for :meth:`save_report`."""
        fetch = self._conn.execute(
            "SELECT url, final_url, content_type, source FROM fetches WHERE sha256 = ?"
            " ORDER BY fetched_at DESC, id DESC LIMIT 1",
            (sha256,),
        ).fetchone()
        furl, ffinal, fctype, fsource = fetch or (None, None, None, None)
        doc_ctype = self._conn.execute(
            "SELECT content_type FROM documents WHERE sha256 = ?", (sha256,)
        ).fetchone()
        ver = self._conn.execute(
            "SELECT v.source, v.url, v.origin, v.title, r.province, r.prefecture, r.county, r.region_code"
            " FROM reports r JOIN versions v ON v.id = r.current_version_id WHERE r.sha256 = ? ORDER BY r.id LIMIT 1",
            (sha256,),
        ).fetchone()
        source, save_url, origin, title = (
            (ver[0], ver[1], ver[2], ver[3]) if ver else (None, furl, fsource, None)
        )
        if source is None and fsource and str(fsource).startswith("file:"):
            source = str(fsource)[5:]  # `ogi import` parses with the file path as source
        source = source or furl
        parse_url = ffinal or furl or save_url or (Path(source).name if source else None)
        hint = None
        if ver and (ver[4] or ver[7]):
            hint = {"province": ver[4], "prefecture": ver[5], "county": ver[6], "code": ver[7]}
        return {
            "source": source,
            "url": parse_url,
            "content_type": fctype or (doc_ctype[0] if doc_ctype else None),
            "title_hint": title,
            "save_url": save_url,
            "origin": origin,
            "region_hint": hint,
            "images": self._page_images(sha256),
        }

    def _page_images(self, sha256: str) -> dict[str, str]:
        """For a page whose tables are pictures: image URL → sha256 of the newest archived fetch of each image
        its stored version lists (``images`` of the parse), so a re-parse reads them again; else {}."""
        row = self._conn.execute(
            "SELECT v.extra FROM reports r JOIN versions v ON v.id = r.current_version_id WHERE r.sha256 = ?"
            " ORDER BY r.id LIMIT 1",
            (sha256,),
        ).fetchone()
        try:
            listed = (json.loads(row[0]) or {}).get("images") or [] if row and row[0] else []
        except (ValueError, AttributeError):
            return {}
        out: dict[str, str] = {}
        for entry in listed:
            url = entry.get("url") if isinstance(entry, dict) else None
            if not url:
                continue
            hit = self._conn.execute(
                "SELECT sha256 FROM fetches WHERE url = ? OR final_url = ? ORDER BY fetched_at DESC, id DESC LIMIT 1",
                (url, url),
            ).fetchone()
            if hit is not None:
                out[str(url)] = hit[0]
        return out

    def reparse(
        self,
        parse: Callable[[bytes, dict[str, Any]], dict[str, Any]],
        *,
        parser_version: str | None = None,
        since: str | None = None,
        sha256s: list[str] | tuple[str, ...] | None = None,
        chunk: int = 50,
        on_result: Callable[[ReparseResult], None] | None = None,
    ) -> list[ReparseResult]:
        """Re-parse stored documents with ``parse(data, context) -> parse dict`` (the current parser; see
        :meth:`reparse_context`) and save each through :meth:`save_report` with ``reparse=True``: a parse
        that differs from the stored one becomes a new version flagged ``reparse`` with ``parser_version``,
        an identical one changes nothing. Documents as :meth:`reparse_candidates` selects them (all when
        neither ``since`` nor ``sha256s`` is given). Parsing happens outside the write transactions; each
        document is saved all or nothing, and a document that cannot be read or parsed is reported
        (``status`` ``error``) while the rest goes on. The work is recorded as a run of kind ``reparse``.
        """
        shas = self.reparse_candidates(since=since, sha256s=sha256s)
        pv = parser_version if parser_version is not None else self.parser_version
        run_id = self.start_run(kind="reparse", trigger="manual")
        results: list[ReparseResult] = []
        counts: dict[str, int] = {}

        def done(res: ReparseResult) -> None:
            results.append(res)
            counts[res.status] = counts.get(res.status, 0) + 1
            if on_result is not None:
                on_result(res)

        try:
            for i in range(0, len(shas), max(1, chunk)):
                parsed_docs = self._parse_stored(shas[i : i + chunk], parse, done)
                self._save_reparsed(parsed_docs, run_id, pv, done)
        except BaseException:
            self.finish_run(run_id, status="interrupted", counts=counts)
            raise
        failed = counts.get("error", 0)
        status = "empty" if not results else ("failed" if failed == len(results) else "ok")
        self.finish_run(run_id, status=status, counts=counts, detail=f"parser {pv}" if pv else "")
        return results

    def _parse_stored(
        self,
        shas: list[str],
        parse: Callable[[bytes, dict[str, Any]], dict[str, Any]],
        done: Callable[[ReparseResult], None],
    ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """Given stored documents, return (sha256, context, parse) of each that could be read and parsed;
        the others are reported to ``done`` as ``error``."""
        out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for sha in shas:
            try:
                ctx = self.reparse_context(sha)
                data = self.read_document(sha)
                # the archived images of a page whose tables are pictures, read again (the parse OCRs them)
                ctx["image_bytes"] = {url: self.read_document(isha) for url, isha in ctx["images"].items()} or None
            except ArchiveError as exc:
                done(ReparseResult(sha, "error", reason=str(exc)))
                continue
            try:
                parsed = parse(data, ctx)
            except Exception as exc:  # the parser promises not to raise; keep going if it does
                logger.exception("parser crashed re-parsing %s", sha)
                done(ReparseResult(sha, "error", reason=f"parser crashed: {exc!r}"))
                continue
            out.append((sha, ctx, parsed))
        return out

    def _save_reparsed(
        self,
        parsed_docs: list[tuple[str, dict[str, Any], dict[str, Any]]],
        run_id: int,
        parser_version: str | None,
        done: Callable[[ReparseResult], None],
    ) -> None:
        """Given re-parsed documents, save them in one batch (each all or nothing) and report each to ``done``."""
        with self.batch(size=len(parsed_docs) + 1, seconds=60.0):
            for sha, ctx, parsed in parsed_docs:
                try:
                    res = self.save_report(
                        parsed, sha256=sha, url=ctx["save_url"], source=ctx["origin"], region_hint=ctx["region_hint"],
                        run_id=run_id, parser_version=parser_version, reparse=True,
                    )  # fmt: skip
                except ArchiveError as exc:
                    done(ReparseResult(sha, "error", reason=str(exc)))
                    continue
                status = res.status if res.change is None else res.change
                done(ReparseResult(sha, status, res.report_id, res.version, res.reason))
