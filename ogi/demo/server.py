"""The loopback HTTP server of the sample portal: one thread, virtual hosts by Host header or proxy-style URI.

``PortalServer(portal)`` serves any object with ``answer(method, host, target, headers, data) -> Answer``, a
``lock`` and a ``bytes_sent`` counter (:class:`ogi.demo.portal.Portal`).
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["PortalServer"]

logger = logging.getLogger(__name__)


class _Failed:
    """The answer when a portal handler raised: a plain 500."""

    status = 500
    body = b"internal error"
    ctype = "text/plain"
    headers: dict[str, str] = {}  # noqa: RUF012 (read only)


class _RequestHandler(BaseHTTPRequestHandler):
    portal: Any
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every
    # keep-alive answer, and a crawl of the loopback portal measures that instead of the crawler
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        logger.debug("portal: " + format, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        target = self.path
        if target.startswith(("http://", "https://")):  # proxy-style absolute URI
            parts = urlsplit(target)
            host = parts.hostname or ""
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        else:
            host = (self.headers.get("Host") or "").split(":")[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.portal.answer(self.command, host.lower(), target, headers, data)
        except Exception:  # the portal must keep serving whatever a handler did
            logger.exception("portal handler failed")
            answer = _Failed()
        body = b"" if self.command == "HEAD" else answer.body
        try:
            self.send_response(answer.status)
            if answer.ctype:
                self.send_header("Content-Type", answer.ctype)
            for k, v in answer.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True
            return
        with self.portal.lock:
            self.portal.bytes_sent += len(body)

    do_GET = do_POST = do_HEAD = _serve


class _PortalHTTPServer(ThreadingHTTPServer):
    # socketserver's default listen backlog of 5 overflows on a crawl's first burst of connections; each
    # dropped SYN then stalls the client for the 1 s retransmission. Real portals do not have this limit.
    request_queue_size = 128


class PortalServer:
    """The portal on 127.0.0.1 in a background thread: ``with PortalServer(Portal()) as srv: srv.port``."""

    def __init__(self, portal: Any, port: int = 0) -> None:
        self.portal = portal
        handler = type("Handler", (_RequestHandler,), {"portal": portal})
        self.httpd = _PortalHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def host_map(self) -> dict[str, str]:
        return {"fixture.test": f"127.0.0.1:{self.port}"}

    def start(self) -> PortalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
