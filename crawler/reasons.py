"""Failure reasons of a request that got no HTTP answer: the exception (and what it wraps) -> one reason.

Scrapy 2.13+ wraps Twisted's errors in its own (``CannotResolveHostError``, ``DownloadTimeoutError``,
``DownloadFailedError`` around a ``ResponseFailed`` whose ``reasons`` hold the real cause …), so the cause
is looked for through ``__cause__``/``__context__`` and those ``reasons``. The reasons are documented in
docs/crawler.md ("Failure reasons"); :data:`NETWORK_REASONS` lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

NETWORK_REASONS: dict[str, str] = {
    "dns": "the host name did not resolve",
    "timeout": "no complete answer within DOWNLOAD_TIMEOUT (or the TCP connect timed out)",
    "connection-refused": "the server refused the TCP connection",
    "reset": "the server reset the connection (TCP RST)",
    "truncated": "the answer ended before its declared length (Content-Length / chunked)",
    "too-large": "the answer is larger than DOWNLOAD_MAXSIZE",
    "tls": "the TLS handshake or certificate failed",
    "connection": "the connection was closed or lost before an answer",
    "error": "anything else (the detail column holds the exception)",
}


# Reasons that are the crawler's own decision not to fetch a link (recorded as link decisions), not a loss
LINK_REASONS: tuple[str, ...] = ("confusable", "offsite", "js-link", "robots", "robots/401", "robots/403", "unsafe/")


def is_loss(kind: str | None, reason: str) -> bool:
    """Given a failed request's kind (list, article, attachment, image, link) and reason, return whether a
    listed item was lost: every fetch of a list page, an article, an attachment or an image of a report page
    whose tables are pictures that failed, except the crawler's own decisions not to fetch
    (:data:`LINK_REASONS`). A loss makes the source ``partial``."""
    if kind == "list":
        return True
    return kind in ("article", "attachment", "image") and not reason.startswith(LINK_REASONS)


# what Scrapy's own IgnoreRequest messages mean (its middlewares give no reason attribute): message fragment
# -> reason; anything else stays ``ignored`` with the message as detail
IGNORED_REASONS: tuple[tuple[str, str], ...] = (
    ("robots.txt", "robots"),
    ("during decompression", "decompression-bomb"),  # HttpCompressionMiddleware: DOWNLOAD_MAXSIZE after inflating
    ("max redirections reached", "redirect-limit"),  # RedirectMiddleware: REDIRECT_MAX_TIMES hops
)


def redirect_reason(status: int, location: bytes | str | None) -> str | None:
    """Given an HTTP status and its Location header, return ``unsafe/scheme`` for a redirect to something that
    is not http(s) (``file://``, ``ftp://`` …: Scrapy does not follow it and hands back the 3xx), else None."""
    if not 300 <= status < 400 or not location:
        return None
    text = location.decode("latin-1") if isinstance(location, bytes) else location
    scheme = text.split(":", 1)[0].lower() if ":" in text.split("/", 1)[0] else ""
    return "unsafe/scheme" if scheme and scheme not in ("http", "https") else None


def ignored_reason(message: str) -> str:
    """Given the message of an IgnoreRequest raised by one of Scrapy's middlewares, return the reason."""
    return next((reason for fragment, reason in IGNORED_REASONS if fragment in message), "ignored")


def _causes(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """Given an exception, yield it and everything it wraps (cause, context, a ResponseFailed's reasons)."""
    if depth > 6:
        return
    yield exc
    for reason in getattr(exc, "reasons", None) or ():
        inner = getattr(reason, "value", reason)
        if isinstance(inner, BaseException):
            yield from _causes(inner, depth + 1)
    for inner in (exc.__cause__, exc.__context__):
        if inner is not None and inner is not exc:
            yield from _causes(inner, depth + 1)


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def network_reason(exc: BaseException) -> str:
    """Given the exception of a request that got no HTTP answer, return its reason (see NETWORK_REASONS)."""
    chain = list(_causes(exc))
    names: set[str] = set().union(*(_names(e) for e in chain))
    text = " ".join(str(e) for e in chain)
    low = text.lower()
    if names & {"CannotResolveHostError", "DNSLookupError", "gaierror"} or "unresolvable" in low:
        return "dns"
    if names & {"ResponseDataLossError", "_DataLoss", "PotentialDataLoss"}:
        return "truncated"
    if "max size" in low or "maxsize" in low or "larger than download" in low:
        return "too-large"
    if names & {"DownloadTimeoutError", "TimeoutError", "TCPTimedOutError"} or "took longer than" in low:
        return "timeout"
    if names & {"DownloadConnectionRefusedError", "ConnectionRefusedError"}:
        return "connection-refused"
    # Twisted reports a TCP RST (ECONNRESET, EPIPE) as ConnectionLost ("lost in a non-clean fashion"); a close
    # by the server is ConnectionDone (clean), which stays "connection"
    if names & {"ConnectionResetError", "ConnectionLost", "BrokenPipeError"} or "connection reset" in low:
        return "reset"
    if "SSL" in text or "TLS" in text or "certificate" in low:
        return "tls"
    if names & {"ConnectionLost", "ConnectionDone", "ConnectError", "ResponseNeverReceived",
                "DownloadFailedError", "ConnectionClosed"} or any("Connection" in n for n in names):
        return "connection"
    return "error"


def describe(exc: Any) -> str:
    """Given an exception, return ``Type: message`` (at most 500 characters) for the failure's detail."""
    return f"{type(exc).__name__}: {exc}"[:500]
