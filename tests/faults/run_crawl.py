"""Run one crawl in this process with a scripted DNS and a socket guard (``python -m tests.faults.run_crawl SPEC``).

SPEC is a JSON object: ``db``, ``urls`` (one source each), ``allow_private``, ``settings`` (Scrapy/OGI settings),
``host_map``, ``dns`` ({name: [answer, answer, …]}: each lookup of the name takes the next answer, the last
one repeats; names not listed do not resolve — no real DNS in tests), ``nat`` ({"ip:port": "127.0.0.1:port"}:
where a connection to a "public" test address really goes). A connection to any other non-loopback address is
refused and recorded (no traffic leaves the machine). Prints one JSON line: the crawl's ``ogi/*`` stats, the
connect-time refusals (:data:`crawler.egress.REFUSED`), the DNS lookups and the connections attempted.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
import threading
from typing import Any

LOOKUPS: list[str] = []
CONNECTS: list[str] = []
_lock = threading.Lock()


def install_shims(dns: dict[str, list[str]], nat: dict[str, str]) -> None:
    """Given scripted DNS answers and NAT rules, patch ``socket.getaddrinfo`` and ``socket.socket.connect*``."""
    real_gai = socket.getaddrinfo
    calls: dict[str, int] = {}

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        name = (host.decode() if isinstance(host, bytes) else str(host or "")).lower().rstrip(".")
        with _lock:
            LOOKUPS.append(name)
            n = calls[name] = calls.get(name, 0) + 1
        answers = dns.get(name)
        if answers is None:
            try:  # numeric hosts (any IPv4/IPv6 form) resolve locally without a query
                return real_gai(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:
                raise socket.gaierror(socket.EAI_NONAME, f"{name}: not in the test DNS") from None
        ip = answers[min(n, len(answers)) - 1]
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        addr: Any = (ip, int(port or 0), 0, 0) if fam == socket.AF_INET6 else (ip, int(port or 0))
        return [(fam, socket.SOCK_STREAM, 6, "", addr)]

    def route(address: Any) -> tuple[Any, bool]:
        ip, port = str(address[0]), int(address[1])
        key = f"{ip}:{port}"
        with _lock:
            CONNECTS.append(key)
        if key in nat:
            host, _, p = nat[key].rpartition(":")
            return (host, int(p)), True
        return address, ip.startswith("127.") or ip in ("::1", "::ffff:127.0.0.1")

    real_connect_ex = socket.socket.connect_ex

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not isinstance(address, tuple):
            return real_connect_ex(self, address)
        target, allowed = route(address)
        if not allowed:
            return errno.ECONNREFUSED
        if self.family == socket.AF_INET6 and ":" not in str(target[0]):
            target = (f"::ffff:{target[0]}", target[1], 0, 0)
        return real_connect_ex(self, target)

    def connect(self: socket.socket, address: Any) -> None:
        code = connect_ex(self, address)
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            raise ConnectionRefusedError(code, "refused by the test socket guard")

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.connect = connect  # type: ignore[method-assign]


def main(spec: dict[str, Any]) -> None:
    install_shims(spec.get("dns") or {}, spec.get("nat") or {})
    from crawler import egress
    from crawler.run import crawl_settings, run_crawl
    from crawler.sources import SourceInfo

    settings = crawl_settings(spec["db"], allow_private=bool(spec.get("allow_private")), run_id=None,
                              trigger="test", host_map=spec.get("host_map") or None, fast=True,
                              extra=spec.get("settings") or {})
    sources = [SourceInfo(name=spec.get("source") or f"s{i}", url=u) for i, u in enumerate(spec["urls"])]
    stats = run_crawl(sources, settings)
    out = {"stats": {k: v for k, v in stats.items() if isinstance(k, str) and k.startswith(("ogi/", "downloader/"))
                     and isinstance(v, int | float | str | None)},
           "refused_at_connect": dict(egress.REFUSED), "lookups": LOOKUPS, "connects": CONNECTS}
    sys.stdout.write(json.dumps(out, default=str) + "\n")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
