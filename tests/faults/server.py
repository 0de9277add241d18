"""A fault-injecting loopback portal (and HTTP proxy) for crawl tests.

:class:`FaultServer` listens on 127.0.0.1 only and records every request it receives (``hits``: host, path,
whether it came as a proxy request) and every TCP connection (``connections``). It answers plain requests and
proxy requests (an absolute URI) alike, so it can stand for a public portal (reached through the tests' DNS and
socket shims), a private service that must never be reached, or an HTTP proxy that must never see a private
target.

Pages are served by a route table ``{path: Page}``; :func:`fault_portal` builds one list with an item per fault
(5xx bursts, resets, truncation, slow bodies, a 200-status error page as list page 2, redirect loops, redirects
to private addresses, gzip and flate bombs, an endless pager, a deep next-chain). Every loop is bounded: an
endless pager ends at :data:`PAGER_LIMIT` served pages, a slow body sends at most :data:`SLOW_SECONDS`.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

PAGER_LIMIT = 400  # an endless pager serves at most this many pages (a crawl cap must stop earlier)
SLOW_SECONDS = 6.0
REPORT_TEXT = ("{year}年政府信息公开工作年度报告\n一、总体情况\n本年度主动公开政府信息{n}条。\n"
               "二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n四、政府信息公开行政复议、行政诉讼情况\n"
               "五、存在的主要问题及改进情况\n六、其他需要报告的事项\n")


@dataclass
class Page:
    """One answer: status, headers, body, and a fault mode (``ok``, ``reset``, ``truncate``, ``slow``,
    ``burst:N`` — N 503 answers before the page)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    mode: str = "ok"


def html(title: str, body: str) -> bytes:
    """Given a title and an HTML body fragment, return a UTF-8 page."""
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}"
            "</body></html>").encode()


def report_page(year: int, n: int = 1) -> Page:
    """An article page carrying one annual report as text."""
    text = REPORT_TEXT.format(year=year, n=n).replace("\n", "</p><p>")
    return Page(body=html(f"{year}年政府信息公开工作年度报告", f"<div class='content'><p>{text}</p></div>"))


def link(path: str, title: str) -> str:
    return f"<li><a href='{path}' title='{title}'>{title}</a><span>2024-01-0{len(title) % 9 + 1}</span></li>"


class FaultServer:
    """Given a route table (path -> Page, or a callable (host, path) -> Page | None), a recording loopback
    HTTP server; ``start()`` returns self, ``stop()`` ends it."""

    def __init__(self, routes: dict[str, Any] | None = None, fallback: Any = None) -> None:
        self.routes: dict[str, Any] = dict(routes or {})
        self.fallback = fallback
        self.hits: list[tuple[str, str, bool]] = []  # (host, path, proxied)
        self.connections = 0
        self.served: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return int(self.httpd.server_address[1])

    def page(self, host: str, path: str) -> Page:
        route = self.routes.get(path)
        if callable(route):
            route = route(host, path, self)
        if route is None and self.fallback is not None:
            route = self.fallback(host, path, self)
        return route if isinstance(route, Page) else Page(status=404, body=html("404", "not found"))

    def start(self) -> FaultServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                with server.lock:
                    server.connections += 1
                super().setup()

            def do_GET(self) -> None:
                proxied = self.path.startswith(("http://", "https://"))
                parts = urlsplit(self.path)
                host = (parts.hostname if proxied else (self.headers.get("Host") or "").split(":")[0]) or ""
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                with server.lock:
                    server.hits.append((host, path, proxied))
                    server.served[path] += 1
                    count = server.served[path]
                self.answer(server.page(host, path), count)

            do_POST = do_GET

            def answer(self, page: Page, count: int) -> None:
                mode = page.mode
                if mode.startswith("burst:") and count <= int(mode.split(":")[1]):
                    page = Page(status=503, body=html("503", "busy"))
                    mode = "ok"
                if mode == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return
                self.send_response(page.status)
                for key, value in page.headers.items():
                    self.send_header(key, value)
                declared = len(page.body) * (4 if mode == "truncate" else 1)
                self.send_header("Content-Length", str(declared))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(page.body[: len(page.body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if mode == "slow":
                    deadline = time.monotonic() + SLOW_SECONDS
                    for i in range(0, len(page.body), 64):
                        if time.monotonic() > deadline:
                            self.close_connection = True
                            return
                        self.wfile.write(page.body[i:i + 64])
                        self.wfile.flush()
                        time.sleep(0.5)
                    return
                self.wfile.write(page.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


def gzip_bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """Given a decompressed size, return a gzip body of zeros (200 MB -> ~200 KB)."""
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    parts = [out.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + out.flush()


def flate_bomb_pdf(size: int = 200 * 1024 * 1024) -> bytes:
    """Given a decompressed size, return a small PDF whose one content stream inflates to ``size`` bytes."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = b"".join(comp.compress(chunk) for _ in range(size >> 20)) + comp.flush()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def gzip_page(page: Page) -> Page:
    """The same page sent gzip-encoded."""
    return Page(page.status, gzip.compress(page.body), {**page.headers, "Content-Encoding": "gzip"}, page.mode)
