"""The images of a report page whose tables are pictures (``…（图片版）``): fetched, archived, handed to OCR.

The parser classes such a page ``image_only`` and lists its content images in ``images`` (status ``pending``;
page chrome — logos, QR codes, badges — is left out there). The pipeline then asks :class:`PageImages` for
them, as Scrapy's own media pipelines do: each image is requested through the engine, so it passes the same
downloader middlewares as every page (egress and SSRF checks, robots.txt, host map, Retry-After), with the
page as ``Referer``. Every image fetched is archived raw with its provenance (a ``documents`` row, a fetch
row naming its URL, the WARC log) before it is parsed; every image that could not be fetched is a recorded
failure of kind ``image``, a loss (the report's tables are in it): the source is ``partial``. The pipeline
then parses the page again with the image bytes, and the report's ``images`` say, per image, its URL,
sha256 and the OCR pages it gave (:func:`crawler.parsers.ocr_docs.ocr_page_images`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.items import DocumentItem, FailureItem
from crawler.parsers.images import MAX_IMAGE_BYTES
from crawler.parsers.ocr import image_kind
from crawler.reasons import is_loss
from crawler.responses import content_type, failure_reason, header_dict, now_iso
from crawler.spiders import walls

__all__ = ["IMAGE_KIND", "PageImages", "pending_images"]

logger = logging.getLogger(__name__)

IMAGE_KIND = "image"  # the DocumentItem / FailureItem kind of a report page's image
IMAGE_PRIORITY = 50  # ahead of list pages and articles: the page's report waits for its images


def pending_images(parsed: dict[str, Any]) -> list[str]:
    """Given a parse dict, return the URLs of the images it still needs (an ``image_only`` HTML page), in
    page order; [] for anything else."""
    if parsed.get("status") != "image_only":
        return []
    urls = [str(i.get("url")) for i in parsed.get("images") or () if i.get("status") == "pending" and i.get("url")]
    return [u for u in dict.fromkeys(urls) if u.lower().startswith(("http://", "https://"))]


class PageImages:
    """Fetches the images of one report page; archives each through ``archive`` and records each failure
    through ``fail`` (the pipeline's own paths, so counts, the WARC log and commits stay in one place)."""

    def __init__(self, crawler: Any, archive: Callable[[DocumentItem], str | None],
                 fail: Callable[[FailureItem], None]) -> None:
        self.crawler = crawler
        self.archive = archive
        self.fail = fail

    async def fetch(self, page: DocumentItem, urls: list[str]) -> dict[str, bytes]:
        """Given an archived page and the URLs of its images, return URL → bytes of each image fetched and
        archived (the others are recorded failures)."""
        got = await asyncio.gather(*(self._one(page, url) for url in urls))
        out = {url: body for url, body in zip(urls, got, strict=True) if body is not None}
        logger.info("%s: %d of %d report images fetched", page.get("url"), len(out), len(urls))
        return out

    async def _one(self, page: DocumentItem, url: str) -> bytes | None:
        stats = self.crawler.stats
        source = page.get("source") or "?"
        referer = str(page.get("final_url") or page.get("url"))
        request = Request(url, headers={"Referer": referer}, priority=IMAGE_PRIORITY, dont_filter=True,
                          meta={"ogi_kind": IMAGE_KIND, "ogi_source": source})
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # refused (egress, robots), network errors: a recorded reason each
            reason, detail = failure_reason(Failure(exc))
            self._failed(url, source, reason, detail, referer)
            return None
        problem = self._problem(response)
        if problem is not None:
            self._failed(url, source, problem[0], problem[1], referer)
            return None
        stats.inc_value("ogi/images/fetched")
        item = DocumentItem(
            kind=IMAGE_KIND,
            url=(response.meta.get("redirect_urls") or [url])[0],
            final_url=response.url,
            http_status=response.status,
            headers=header_dict(response.headers),
            body=response.body,
            content_type=content_type(response) or None,
            fetched_at=now_iso(),
            not_modified=False,
            source=source,
            family=page.get("family"),
            list_url=page.get("list_url"),
            referer=referer,
            title=page.get("title"),
            request_headers=header_dict(request.headers),
            method=request.method,
        )
        if self.archive(item) is None:  # not stored (a full disk): recorded by the archive path; not parsed
            return None
        return bytes(response.body)

    @staticmethod
    def _problem(response: Response) -> tuple[str, str] | None:
        """(reason, detail) when the answer is not an image we can use, else None."""
        size = f"HTTP {response.status}, {len(response.body)} bytes"
        if response.status != 200:
            return walls.classify(response.status, response.headers, response.body) or walls.http_reason(
                response.status), size
        if len(response.body) > MAX_IMAGE_BYTES:
            return "too-large", f"{size}: an image over {MAX_IMAGE_BYTES} bytes"
        if image_kind(response.body) is None:
            reason = walls.classify(response.status, response.headers, response.body) or "not-image"
            return reason, f"{size}, {content_type(response) or 'no content type'}: not an image"
        return None

    def _failed(self, url: str, source: str, reason: str, detail: str, referer: str) -> None:
        self.crawler.stats.inc_value("ogi/images/failed")
        logger.info("report image %s of %s: %s (%s)", url, referer, reason, detail)
        self.fail(FailureItem(url=url, reason=reason, detail=f"image of {referer}: {detail}"[:500], source=source,
                              kind=IMAGE_KIND, partial=is_loss(IMAGE_KIND, reason)))
