"""Network failures are recorded with the documented reason (docs/crawler.md): dns, timeout,
connection-refused, reset, truncated — over loopback servers that misbehave on purpose; a run where every
source failed exits 1."""

from __future__ import annotations

import os
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crawler.reasons import NETWORK_REASONS, network_reason

BLOCK_DNS = '''
import socket
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host is not None and str(host).endswith(".invalid"):
        raise socket.gaierror(-2, "Name or service not known")
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
'''


def _serve(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        srv.close()


def _read_request(conn: socket.socket) -> None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def _reset(conn: socket.socket) -> None:
    _read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # linger 0: the close is a TCP RST


def _truncated(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html>only a part")
    conn.close()


def _slow(conn: socket.socket) -> None:
    _read_request(conn)
    time.sleep(6)
    conn.close()


@pytest.fixture
def servers() -> Iterator[dict[str, int]]:
    gens = {name: _serve(fn) for name, fn in (("reset", _reset), ("truncated", _truncated), ("slow", _slow))}
    ports = {name: next(gen) for name, gen in gens.items()}
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    ports["refused"] = closed.getsockname()[1]
    closed.close()  # nothing listens there
    yield ports
    for gen in gens.values():
        gen.close()


def test_reasons_over_loopback_and_exit_1_when_every_source_failed(servers: dict[str, int], tmp_path: Path) -> None:
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCK_DNS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(block), os.environ.get("PYTHONPATH")]))}
    urls = {
        "reset": f"http://127.0.0.1:{servers['reset']}/reset/",
        "truncated": f"http://127.0.0.1:{servers['truncated']}/truncated/",
        "timeout": f"http://127.0.0.1:{servers['slow']}/slow/",
        "connection-refused": f"http://127.0.0.1:{servers['refused']}/refused/",
        "dns": "http://nosuch-host.invalid/zfxxgknb/",
    }
    db = tmp_path / "r.db"
    args = [str(Path(sys.executable).with_name("ogi")), "crawl", "--db", str(db), "--allow-private", "--quiet",
            "--download-timeout", "1.5", "-s", "RETRY_TIMES=0", "-s", "ROBOTSTXT_OBEY=False"]
    for url in urls.values():
        args += ["--url", url]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # every source failed: the run failed
    assert "Traceback" not in proc.stderr
    assert "failed: no source could be crawled" in proc.stderr
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    got = {url: reason for url, reason in con.execute("SELECT url, reason FROM failures")}
    con.close()
    assert {url: got.get(url) for url in urls.values()} == {url: reason for reason, url in urls.items()}
    assert set(got.values()) <= set(NETWORK_REASONS)


def test_scrapy_wrapped_errors_are_unwrapped() -> None:
    from scrapy.exceptions import CannotResolveHostError, DownloadFailedError, ResponseDataLossError
    from twisted.internet.error import ConnectionDone, ConnectionLost, DNSLookupError
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    def wrapped(outer: type[Exception], inner: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except BaseException as exc:
                raise outer(str(exc)) from exc
        except BaseException as exc:
            return exc

    assert network_reason(wrapped(CannotResolveHostError, DNSLookupError("x.invalid"))) == "dns"
    assert network_reason(ResponseDataLossError("lost")) == "truncated"
    reset = ResponseNeverReceived([Failure(ConnectionLost("Connection to the other side was lost in a "
                                                          "non-clean fashion."))])
    assert network_reason(wrapped(DownloadFailedError, reset)) == "reset"
    lost = ResponseFailed([Failure(ConnectionDone("closed"))])  # the server closed before answering
    assert network_reason(wrapped(DownloadFailedError, lost)) == "connection"
    assert network_reason(ValueError("?")) == "error"


def test_every_reason_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "crawler.md").read_text(encoding="utf-8")
    for reason in NETWORK_REASONS:
        assert f"| `{reason}` |" in doc, reason


@pytest.mark.parametrize(
    ("kind", "reason", "lost"),
    [
        ("list", "timeout", True),
        ("article", "timeout", True),  # a listed report that could not be fetched: lost, the source is partial
        ("attachment", "http/404", True),
        ("article", "waf", True),
        ("attachment", "too-large", True),
        ("article", "robots", False),  # the crawler's own decisions are link decisions, not losses
        ("attachment", "offsite", False),
        ("article", "unsafe/loopback", False),
        ("link", "confusable", False),
    ],
)
def test_which_failures_are_losses(kind: str, reason: str, lost: bool) -> None:
    from crawler.reasons import is_loss

    assert is_loss(kind, reason) is lost


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Ignored response <200 http://x/gz.html> because its body (98304 B compressed, 16777300 B decompressed so far)"
         " exceeded DOWNLOAD_MAXSIZE (16777216 B) during decompression.", "decompression-bomb"),
        ("max redirections reached", "redirect-limit"),
        ("Forbidden by robots.txt", "robots"),
        ("something else", "ignored"),
    ],
)
def test_scrapy_ignore_messages_get_their_own_reason(message: str, reason: str) -> None:
    """A gzip bomb and a redirect chain were both recorded as `ignored` (issue 12 item 9)."""
    from crawler.reasons import ignored_reason

    assert ignored_reason(message) == reason


@pytest.mark.parametrize(
    ("status", "location", "reason"),
    [(302, b"file:///etc/passwd", "unsafe/scheme"), (301, "ftp://x.test/a.pdf", "unsafe/scheme"),
     (302, b"http://x.test/a", None), (302, b"/relative/path", None), (200, b"file:///x", None), (302, None, None)],
)
def test_a_redirect_to_a_non_http_scheme_is_unsafe_not_http_302(status, location, reason) -> None:
    from crawler.reasons import redirect_reason

    assert redirect_reason(status, location) == reason
