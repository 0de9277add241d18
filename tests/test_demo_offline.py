"""`ogi demo` on a fresh install with the network cut: no connection outside loopback, no traceback, one
consistent set of counts, and the sample portal's planned traps named as such."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from crawler.cookies import OFFLINE_EXTRACT, OfflineCookiesMiddleware

# imported by Python at start-up (PYTHONPATH): every non-loopback connect or name lookup is refused and logged
BLOCKER = textwrap.dedent('''
    import ipaddress, socket, sys

    def _loopback(host):
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host in ("localhost",)

    def _guard(connect):
        def guarded(self, address):
            if isinstance(address, tuple) and not _loopback(address[0]):
                sys.stderr.write(f"NONLOOPBACK-CONNECT {address!r}\\n")
                raise OSError(101, "Network is unreachable (blocked by the test)")
            return connect(self, address)
        return guarded

    socket.socket.connect = _guard(socket.socket.connect)
    socket.socket.connect_ex = _guard(socket.socket.connect_ex)
    _getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _loopback(str(host)):
            sys.stderr.write(f"NONLOOPBACK-RESOLVE {host!r}\\n")
            raise socket.gaierror(-3, "name resolution blocked by the test")
        return _getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
''')


def test_demo_runs_offline_quietly_with_consistent_counts(tmp_path: Path) -> None:
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    home = tmp_path / "home"  # a fresh user: no tldextract cache from an earlier run
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(block), os.environ.get("PYTHONPATH")]))}
    env.pop("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", None)
    exe = Path(sys.executable).with_name("ogi")
    proc = subprocess.run([str(exe), "demo", "--no-serve", "--db", str(tmp_path / "demo.db")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    assert not [ln for ln in out.splitlines() if " ERROR " in ln or " WARNING " in ln], out  # quiet
    assert "NONLOOPBACK" not in out, [ln for ln in out.splitlines() if "NONLOOPBACK" in ln]
    assert not (home / ".cache" / "python-tldextract").exists()  # nothing fetched, nothing cached
    run = re.search(r"^run \d+: \w+ \(.*responses (\d+), failures (\d+)\)$", proc.stdout, re.M)
    assert run, proc.stdout
    responses, failures = int(run.group(1)), int(run.group(2))
    progress = [int(n) for n in re.findall(r"responses\s+(\d+)\s+documents", proc.stderr)]
    assert progress and max(progress) <= responses  # the progress line counts the same thing
    assert not re.search(r"^\s+[\d.]+s\s+pages", proc.stderr, re.M)  # no second meaning of "pages"
    per_source = [int(n) for n in re.findall(r"^  \S+: \w+  list pages \d+ .*  failures (\d+)", proc.stdout, re.M)]
    assert sum(per_source) == failures, proc.stdout
    reasons = re.search(r"^  failure reasons: (.*)$", proc.stdout, re.M)
    assert reasons, proc.stdout
    assert sum(int(part.rsplit(" ", 1)[1]) for part in reasons.group(1).split(", ")) == failures
    traps = re.search(r"^  (\d+) of (\d+) failures are the sample portal's planned traps", proc.stdout, re.M)
    assert traps and int(traps.group(2)) == failures, proc.stdout
    unplanned = re.findall(r"^  not a planned trap: ", proc.stdout, re.M)
    assert int(traps.group(1)) + len(unplanned) == failures
    assert "planned trap not recorded" not in proc.stdout


def test_cookie_middleware_uses_the_bundled_suffix_list(monkeypatch) -> None:
    """The public-suffix test Scrapy's cookie jar makes answers from tldextract's snapshot, no socket."""
    import socket

    from scrapy.downloadermiddlewares import cookies
    from scrapy.utils.test import get_crawler

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    crawler = get_crawler(settings_dict={"COOKIES_ENABLED": True})
    OfflineCookiesMiddleware.from_crawler(crawler)
    assert cookies._split_domain is OFFLINE_EXTRACT
    assert cookies._is_public_domain("gov.cn") and cookies._is_public_domain("github.io")  # a private suffix
    assert not cookies._is_public_domain("www.beijing.gov.cn")
    parts = OFFLINE_EXTRACT("www.beijing.gov.cn")
    assert (parts.domain, parts.suffix) == ("beijing", "gov.cn")


def test_project_settings_replace_scrapys_cookie_middleware() -> None:
    from scrapy.utils.project import get_project_settings

    mws = get_project_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert mws["scrapy.downloadermiddlewares.cookies.CookiesMiddleware"] is None
    assert "crawler.cookies.OfflineCookiesMiddleware" in mws
