"""Scrapy items: fields only. The pipeline (crawler/pipelines.py) archives them."""

from __future__ import annotations

import hashlib
from typing import Any

import scrapy


def body_summary(body: Any) -> Any:
    """Given a response body (bytes), return what a feed export writes instead of the bytes: their size and
    sha256 (``-O items.jsonl`` stays JSON; the bytes themselves are in the archive, ``ogi doc SHA256``)."""
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return body


def text_of(value: Any) -> Any:
    """Given a field value, return it with any bytes decoded (latin-1: headers are bytes on the wire)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict):
        return {text_of(k): text_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [text_of(v) for v in value]
    return value


class DocumentItem(scrapy.Item):
    """One fetched response (list page, article page or attachment), raw bytes plus provenance."""

    kind = scrapy.Field()  # "list" | "article" | "attachment"
    url = scrapy.Field()  # the requested URL
    final_url = scrapy.Field()  # after redirects
    http_status = scrapy.Field()
    headers = scrapy.Field(serializer=text_of)  # dict[str, str]
    # bytes (b"" for a 304) for the pipeline; a feed export (-O items.jsonl) writes {size, sha256} instead
    body = scrapy.Field(serializer=body_summary)
    content_type = scrapy.Field()
    fetched_at = scrapy.Field()  # ISO-8601 UTC
    not_modified = scrapy.Field()  # True for a 304 answer to a conditional request
    prev_sha256 = scrapy.Field()  # sha256 of the last archived copy of this URL, if any
    source = scrapy.Field()  # source name (sources.yaml) or the start URL
    family = scrapy.Field()  # "trs" | "hanweb" | "gkmlpt" | "generic"
    list_url = scrapy.Field()  # the list page the link was found on
    referer = scrapy.Field()  # the article page an attachment was linked from
    title = scrapy.Field()  # full link title
    year_hint = scrapy.Field()  # year inferred from title/url/date
    year_source = scrapy.Field()
    agency = scrapy.Field()
    region = scrapy.Field()
    level = scrapy.Field()
    request_headers = scrapy.Field(serializer=text_of)  # for WARC request records
    method = scrapy.Field()
    attachments = scrapy.Field()  # article pages: the attachment URLs the spider follows from it


class FailureItem(scrapy.Item):
    """A URL that did not yield a report, with its reason (failures are data)."""

    url = scrapy.Field()
    reason = scrapy.Field()  # http/404, timeout, blocked/412-challenge, soft-404, confusable, offsite, …
    detail = scrapy.Field()
    source = scrapy.Field()
    kind = scrapy.Field()  # "list" | "article" | "attachment" | "link"
    partial = scrapy.Field()  # True when a list could not be read to its end


class ListingItem(scrapy.Item):
    """What one list page (or list API answer) of a column declared and listed: the completeness evidence.

    The pipeline reconciles, per source, the items found against what the portal itself declares."""

    source = scrapy.Field()
    column = scrapy.Field()  # the column's landing URL (all pages of one column share it)
    list_url = scrapy.Field()  # this page
    mechanism = scrapy.Field()  # trs/createPageHTML, trs_dynamic/api, hanweb/dataproxy, gkmlpt/api, generic/…
    declared = scrapy.Field()  # items the portal declares for the column (recordCount, totalRecord, total, 共N条)
    declared_pages = scrapy.Field()  # pages the portal declares (createPageHTML, countPage, pageCount, 共N页)
    rows = scrapy.Field()  # item URLs this page lists (None: the family cannot tell rows from navigation)
    hub = scrapy.Field()  # True for a hub page (its rows are columns, not items)


class LinkDecisionItem(scrapy.Item):
    """A candidate link the crawl decided not to follow, with the reason (nothing is dropped unrecorded)."""

    source = scrapy.Field()
    url = scrapy.Field()
    reason = scrapy.Field()  # not-report, confusable, offsite, robots, duplicate, page-limit, js-link, no-title
    title = scrapy.Field()
    list_url = scrapy.Field()
    detail = scrapy.Field()
