"""What a response or a failed request says, in the archive's terms: provenance fields and failure reasons.

Shared by the spiders (article pages, attachments) and the pipeline's image fetcher (:mod:`crawler.page_images`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.spiders import walls


def now_iso() -> str:
    """The current UTC time as ISO-8601 with seconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def header_dict(headers: Any) -> dict[str, str]:
    """Scrapy headers -> a plain ``{name: value}`` dict (values joined with ', ')."""
    out: dict[str, str] = {}
    for key, values in headers.items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        vals = values if isinstance(values, list) else [values]
        out[name] = ", ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in vals)
    return out


def content_type(response: Response) -> str:
    """The media type of a response's Content-Type header, lower-cased, without parameters ('' when absent)."""
    raw = response.headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").split(";")[0].strip().lower()


def failure_reason(failure: Failure) -> tuple[str, str]:
    """(reason, detail) for a Twisted failure of a request."""
    from scrapy.exceptions import IgnoreRequest

    from crawler.reasons import ignored_reason, network_reason, redirect_reason

    exc = failure.value
    detail = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, HttpError):
        response = exc.response
        if scheme := redirect_reason(response.status, response.headers.get("Location")):
            return scheme, f"HTTP {response.status} to {(response.headers.get('Location') or b'').decode('latin-1')[:200]}"
        reason = walls.classify(response.status, response.headers, response.body) or walls.http_reason(
            response.status
        )
        return reason, f"HTTP {response.status}, {len(response.body)} bytes"
    if isinstance(exc, IgnoreRequest):
        refusal = getattr(exc, "reason", None)
        if refusal:
            return str(refusal), str(exc)
        return ignored_reason(str(exc)), detail
    # dns, timeout, connection-refused, reset, truncated, too-large, tls, connection, error (crawler/reasons.py)
    return network_reason(exc), detail
