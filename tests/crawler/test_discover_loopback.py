"""`ogi discover` over HTTP: the saved pingtan pages served on 127.0.0.1 (host-mapped), every fetch, refusal
and failure accounted for; the CLI's YAML loads back as a sources file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest

from crawler.discover import detect_family, discover
from crawler.sources import load_sources

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "tests" / "fixtures" / "pages"
SITE = "https://www.pingtan.gov.cn"
DIRECTORY_PATH = "/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/fdzdgknr/10qtwjdzjg/"
# path on www.pingtan.gov.cn -> saved page (everything else answers 404)
SERVED = {
    "/zwgk/": PAGES / "portal" / "pingtan-zwgk-home-excerpt.html",
    DIRECTORY_PATH: PAGES / "directory" / "pingtan-czj-gklist-directory.html",
    "/zwgk/ghxx/gzjzqk/": PAGES / "trs_dynamic" / "pingtan-ghxx-gzjzqk-list.html",
}
# a synthetic test page (not a saved one): a link to a column whose page is the saved 动静结合 list
HUB = ('<html><head><meta name="SiteName" content="测试门户"></head><body>'
       '<a href="/zwgk/ghxx/gzjzqk/">政府信息公开年报</a><a href="/moved/">部门信息公开</a></body></html>')


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []
    robots: ClassVar[str | None] = None  # the /robots.txt to serve (None: 404)

    def do_GET(self) -> None:
        if self.path.startswith("http"):  # a proxy-style request (the crawler's host map): absolute URI
            self.path = urlsplit(self.path).path
        Handler.seen.append((self.headers.get("Host", ""), self.path))
        if self.path == "/robots.txt" and Handler.robots is not None:
            self._send(200, Handler.robots.encode())
        elif self.path == "/empty/":
            self._send(200, "<html><body>没有链接</body></html>".encode())
        elif self.path == "/hub/":
            self._send(200, HUB.encode("utf-8"))
        elif self.path == "/moved/":
            self.send_response(302)
            self.send_header("Location", "http://10.1.2.3/internal/")
            self.end_headers()
        elif self.path in SERVED:
            self._send(200, SERVED[self.path].read_bytes())
        else:
            self._send(404, b"<html><body>404</body></html>")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def portal() -> Iterator[dict[str, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"pingtan.gov.cn": f"127.0.0.1:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()


def test_directory_depth0_fetches_every_column_once_and_records_each_404(portal: dict[str, str]) -> None:
    Handler.seen.clear()
    result = discover(SITE + DIRECTORY_PATH, depth=0, allow_private=True, host_map=portal)
    assert result.pages == [SITE + DIRECTORY_PATH]
    assert len(result.candidates) == 17
    # the zfxxgknb columns are not served (they are kept out of the tests): each is fetched once, answers
    # 404, and is kept with that status instead of being dropped
    assert {c.checked for c in result.candidates} == {"http 404"}
    assert {c.family for c in result.candidates} == {None}
    assert sorted(u for u, _ in result.failures) == sorted(c.url for c in result.candidates)
    paths = [p for _, p in Handler.seen if p != "/robots.txt"]
    assert len(paths) == 18 and len(set(paths)) == 18  # the page + 17 columns, none twice
    assert [p for _, p in Handler.seen].count("/robots.txt") == 1  # asked once for the host
    assert {h for h, _ in Handler.seen} == {"www.pingtan.gov.cn"}  # the Host header is the portal's
    assert len({c.name for c in result.candidates}) == 17


def test_robots_txt_is_obeyed_and_each_refusal_recorded(portal: dict[str, str]) -> None:
    Handler.robots = "User-agent: *\nDisallow: /zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/zfxxgknb/\n"
    try:
        result = discover(SITE + DIRECTORY_PATH, depth=0, allow_private=True, host_map=portal)
    finally:
        Handler.robots = None
    refused = [c for c in result.candidates if (c.checked or "").startswith("robots:")]
    assert [c.url for c in refused] == [SITE + "/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/zfxxgknb/"]
    assert len(result.candidates) == 17  # refused by robots.txt is recorded, not dropped
    assert sum(1 for c in result.candidates if c.checked == "http 404") == 16


def test_portal_depth1_follows_the_directory_link(portal: dict[str, str]) -> None:
    result = discover(SITE + "/zwgk/", depth=1, allow_private=True, host_map=portal)
    assert result.pages == [SITE + "/zwgk/"]
    assert (SITE + "/zwgk/zfxxgk/", "http 404") in result.failures  # followed, not served
    assert [(c.url, c.agency, c.level, c.checked) for c in result.candidates] == [
        (SITE + "/zwgk/zfxxgk/zfxxgknb/", "平潭综合实验区党工委管委会", "zone", "http 404")]
    assert [r[1] for r in result.rejected] == ["政府工作报告"]


def test_family_is_detected_from_the_fetched_column_page(portal: dict[str, str]) -> None:
    result = discover(SITE + "/hub/", depth=1, allow_private=True, host_map=portal)
    assert [(c.url, c.agency, c.checked) for c in result.candidates] == [
        (SITE + "/zwgk/ghxx/gzjzqk/", "测试门户", "ok")]
    expected = detect_family((PAGES / "trs_dynamic" / "pingtan-ghxx-gzjzqk-list.html").read_bytes(),
                             SITE + "/zwgk/ghxx/gzjzqk/")
    assert result.candidates[0].family == expected
    # the followed 部门信息公开 link redirects to an unreachable private address: recorded, not silently dropped
    assert [u for u, _ in result.failures] == [SITE + "/moved/"]


def test_loopback_is_refused_without_allow_private(portal: dict[str, str]) -> None:
    result = discover(SITE + "/zwgk/", depth=1, host_map=portal)
    assert result.pages == [] and result.candidates == []
    assert result.failures[0][0] == SITE + "/zwgk/"
    assert result.failures[0][1].startswith("unsafe:") and "loopback" in result.failures[0][1]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ogi.commands.discover", "discover", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)


def test_cli_yaml_is_a_loadable_sources_file(portal: dict[str, str], tmp_path: Path) -> None:
    host = next(iter(portal.items()))
    proc = run_cli(SITE + DIRECTORY_PATH, "--depth", "0", "--delay", "0", "--allow-private",
                   "--host-map", f"{host[0]}={host[1]}")
    assert proc.returncode == 0, proc.stderr
    assert "17 annual-report column(s) from 1 page(s); 1 confusable link(s) rejected; 17 fetch(es) failed" \
        in proc.stderr
    path = tmp_path / "found.yaml"
    path.write_text(proc.stdout, encoding="utf-8")
    sources = load_sources(path)
    assert len(sources) == 17
    czj = next(s for s in sources if s.name == "pingtan_ptzhsyqczj_zfxxgknb")
    assert (czj.url, czj.agency, czj.level, czj.family) == (
        SITE + "/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/zfxxgknb/", "平潭综合实验区财政金融局",
        "zone-department", None)


def test_cli_json_lines(portal: dict[str, str]) -> None:
    host = next(iter(portal.items()))
    proc = run_cli(SITE + "/zwgk/", "--json", "--delay", "0", "--allow-private", "--host-map", f"{host[0]}={host[1]}")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows == [{"name": "pingtan_zfxxgk_zfxxgknb", "url": SITE + "/zwgk/zfxxgk/zfxxgknb/",
                     "agency": "平潭综合实验区党工委管委会", "level": "zone", "family": None, "via": "link",
                     "evidence": "政府信息公开年报", "page": SITE + "/zwgk/", "checked": "http 404"}]


@pytest.mark.parametrize(("args", "needle"), [
    (["ftp://x.gov.cn/"], "not an http(s) URL"),
    (["http://127.0.0.1:9/zwgk/"], "cannot read http://127.0.0.1:9/zwgk/: unsafe:"),
    (["http://127.0.0.1:9/zwgk/", "--allow-private", "--timeout", "2"], "cannot read http://127.0.0.1:9/zwgk/: fetch error"),
])
def test_cli_errors_are_one_line_exit_2(args: list[str], needle: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_ogi_group_has_discover() -> None:
    from ogi.cli import cli

    assert "discover" in cli.commands


HTTP_HUB = "http://www.pingtan.gov.cn/hub/"  # http: the crawler's host map proxies plain HTTP only


def test_crawl_discover_crawls_the_columns_found(portal: dict[str, str], tmp_path: Path) -> None:
    host = next(iter(portal.items()))
    db = tmp_path / "d.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "ogi.commands.crawl", "crawl", "--discover", HTTP_HUB, "--allow-private",
         "--host-map", f"{host[0]}={host[1]}", "--db", str(db), "--quiet", "--download-timeout", "5"],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"discover {HTTP_HUB}: 1 annual-report column(s) from 1 page(s)" in proc.stderr
    assert "crawling 1 source(s)" in proc.stderr
    # the discovered column is the run's one source and its (real, non-report) list page was crawled
    lines = [line for line in proc.stdout.splitlines() if line.startswith("  pingtan_")]
    assert len(lines) == 1 and lines[0].startswith("  pingtan_ghxx_gzjzqk: ") and "pages 1 " in lines[0]


def test_crawl_discover_finding_nothing_does_not_crawl_the_registry(portal: dict[str, str], tmp_path: Path) -> None:
    host = next(iter(portal.items()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "ogi.commands.crawl", "crawl", "--discover", SITE + "/empty/",
         "--allow-private", "--host-map", f"{host[0]}={host[1]}", "--db", str(tmp_path / "n.db")],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 1
    assert "--discover found no annual-report column to crawl" in proc.stderr
    assert "crawling" not in proc.stderr and "Traceback" not in proc.stderr
