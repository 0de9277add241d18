"""Egress policy at connect time: every address form, DNS rebinding, redirects and an HTTP proxy.

The crawls run in a subprocess (:mod:`tests.faults.run_crawl`) with a scripted DNS and a socket guard: no
traffic leaves the machine, and the loopback servers count every connection they receive. The figure each
test asserts: 0 requests reach a loopback/private/metadata address without ``--allow-private``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.egress import CheckedResolver, proxy_hosts
from crawler.safety import UnsafeURL, check_host, check_url, registrable_domain, same_site
from tests.faults.server import FaultServer, Page, html, link, report_page

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "93.184.216.34"  # answered by the test DNS for "public" names; connections to it are NATed or refused


def private_forms(port: int) -> list[str]:
    """Given the private recorder's port, return URLs naming it (or other forbidden addresses) in every form."""
    return [f"http://{h}:{port}/x" for h in (
        "127.0.0.1", "localhost", "localhost.", "127.0.0.1.", "[::1]", "[2002:7f00:1::1]", "[::ffff:127.0.0.1]",
        "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]", "2130706433", "0x7f.1",
        "0177.0.0.1", "127.1", "10.0.0.1", "[fd00:ec2::254]", "private.test", "private.test.", "nowhere.test",
        "metadata.google.internal.")] + ["http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/"]


TEST_DNS = {"private.test": ["10.1.2.3"], "loop.test": ["127.0.0.1"]}


def crawl(spec: dict[str, Any], env: dict[str, str] | None = None, timeout: float = 90) -> dict[str, Any]:
    """Run one crawl in a subprocess; return its JSON line."""
    full_env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    full_env.update(PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "tests.faults.run_crawl", json.dumps(spec)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=full_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def recorder():
    """The private service: every connection it receives is a defect."""
    server = FaultServer(fallback=lambda host, path, s: Page(body=html("secret", "<a href='/x'>2023年年度报告</a>")))
    server.start()
    yield server
    server.stop()


# ---- the check, address by address ------------------------------------------------------------------------
@pytest.mark.parametrize("url", private_forms(8080))
def test_every_form_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_gai(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        ip = {"private.test": "10.1.2.3", "localhost": "127.0.0.1"}.get(host.rstrip("."))
        if ip is None:
            raise socket.gaierror(socket.EAI_NONAME, "no such name")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_gai)
    with pytest.raises(UnsafeURL):
        check_url(url)
    resolver = CheckedResolver(None, allow_private=False)
    host = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0] if "]" not in url else url.split("[")[1].split("]")[0]
    assert resolver._checked(host, 8080) == ()


def test_unresolvable_fails_closed_and_nothing_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["gaierror", PUBLIC, "127.0.0.1"])

    def fake_gai(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        ip = next(answers)
        if ip == "gaierror":
            raise socket.gaierror(socket.EAI_AGAIN, "temporary failure")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_gai)
    with pytest.raises(UnsafeURL, match="unresolvable"):
        check_url("http://rebind.test/")
    assert check_host("rebind.test") == (PUBLIC,)
    with pytest.raises(UnsafeURL, match="loopback"):  # the same name, asked again: not a cached "safe" answer
        check_url("http://rebind.test/")


def test_allow_private_allows_loopback_not_metadata() -> None:
    assert check_host("127.0.0.1", allow_private=True) == ("127.0.0.1",)
    assert check_host("[::1]", allow_private=True) == ("::1",)
    with pytest.raises(UnsafeURL, match="metadata"):
        check_host("169.254.169.254", allow_private=True)


def test_ip_addresses_are_their_own_site() -> None:
    assert registrable_domain("127.0.0.1") == "127.0.0.1"
    assert not same_site("http://10.0.0.1/a", "http://127.0.0.1/b")
    assert not same_site("http://10.0.0.1/a", "http://10.1.0.1/b")
    assert same_site("http://127.0.0.1.:8/a", "http://127.0.0.1/b")
    assert registrable_domain("www.gz.gov.cn.") == "gz.gov.cn"


def test_proxy_hosts_are_trusted_only_as_proxies() -> None:
    assert proxy_hosts(environ={"http_proxy": "http://127.0.0.1:3128", "HTTPS_PROXY": "proxy.corp:8080"}) == {
        "127.0.0.1", "proxy.corp"}


# ---- whole crawls ---------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("public_answers", [1, 2, 3])
def test_rebinding_reaches_nothing(recorder: FaultServer, tmp_path: Path, public_answers: int) -> None:
    """The name answers a public address for the first ``public_answers`` lookups, then 127.0.0.1."""
    port = recorder.port
    out = crawl({"db": str(tmp_path / "a.db"), "urls": [f"http://rebind.test:{port}/list.html"],
                 "dns": {"rebind.test": [PUBLIC] * public_answers + ["127.0.0.1"]},
                 "settings": {"RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 5}})
    assert recorder.connections == 0, recorder.hits
    assert out["stats"].get("ogi/failures", 0) >= 1  # the source's list page is recorded as a failure
    assert out["lookups"].count("rebind.test") > public_answers  # every step resolved again (no cache)
    if public_answers >= 2:  # both request-time checks saw the public answer: the connect-time check refused
        assert out["refused_at_connect"].get("loopback", 0) >= 1


@pytest.mark.slow
def test_start_urls_in_every_form_reach_nothing(recorder: FaultServer, tmp_path: Path) -> None:
    out = crawl({"db": str(tmp_path / "a.db"), "urls": private_forms(recorder.port), "dns": TEST_DNS,
                 "settings": {"RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 5}})
    assert recorder.connections == 0, recorder.hits
    assert out["stats"]["ogi/failures"] == len(private_forms(recorder.port))  # each one recorded with a reason
    assert not [c for c in out["connects"] if not c.startswith(PUBLIC)], out["connects"]


@pytest.mark.slow
def test_redirects_are_checked_at_every_hop(recorder: FaultServer, tmp_path: Path) -> None:
    """A public portal whose report links redirect to forbidden addresses (same-site names included)."""
    q = recorder.port
    targets = [*private_forms(q), f"http://evil.portal.test:{q}/x", f"http://loop.portal.test.:{q}/x"]
    routes: dict[str, Any] = {}
    rows = []
    for i, target in enumerate(targets):
        routes[f"/r/{i}"] = Page(status=302, headers={"Location": target}, body=b"")
        rows.append(link(f"/r/{i}", f"{2000 + i}年政府信息公开工作年度报告"))
    routes["/list.html"] = Page(body=html("年报", f"<ul>{''.join(rows)}</ul>"))
    routes["/ok.html"] = report_page(2024)
    portal = FaultServer(routes).start()
    try:
        p = portal.port
        out = crawl({"db": str(tmp_path / "a.db"), "urls": [f"http://portal.test:{p}/list.html"],
                     "dns": {"portal.test": [PUBLIC], "evil.portal.test": ["127.0.0.1"],
                             "loop.portal.test": ["10.9.9.9"], **TEST_DNS},
                     "nat": {f"{PUBLIC}:{p}": f"127.0.0.1:{p}"},
                     "settings": {"RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 5}})
    finally:
        portal.stop()
    assert recorder.connections == 0, recorder.hits
    assert sum(1 for _, path, _ in portal.hits if path.startswith("/r/")) == len(targets)
    assert out["stats"]["ogi/failures"] >= len(targets)  # every redirected item recorded with a reason
    assert out["stats"].get("ogi/refused/unsafe/loopback", 0) >= 1  # a same-site name checked by address


@pytest.mark.slow
def test_nothing_forbidden_reaches_the_proxy(tmp_path: Path) -> None:
    """Behind an HTTP proxy: robots.txt and pages of forbidden targets never reach it; a public one does."""
    proxy = FaultServer({"/list.html": Page(body=html("年报", link("/a.html", "2024年政府信息公开工作年度报告"))),
                         "/a.html": report_page(2024)}).start()
    try:
        urls = [*private_forms(9), "http://portal.test/list.html"]
        out = crawl({"db": str(tmp_path / "a.db"), "urls": urls, "dns": {"portal.test": [PUBLIC], **TEST_DNS},
                     "settings": {"RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 5}},
                    env={"http_proxy": f"http://127.0.0.1:{proxy.port}", "no_proxy": ""})
    finally:
        proxy.stop()
    forbidden = [h for h in proxy.hits if h[0] != "portal.test"]
    assert forbidden == []
    assert {path for host, path, proxied in proxy.hits if proxied} >= {"/robots.txt", "/list.html"}
    assert out["stats"]["ogi/failures"] >= len(private_forms(9))
