"""End to end: `ogi serve` and plain `datasette` on loopback, Debian's chromium (driven by playwright) shows what a
person sees: the reports list, one report as printed with its checks, its raw document and its source URL."""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ogi() -> list[str]:
    exe = Path(sys.executable).with_name("ogi")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from ogi.cli import main; main()"]


@pytest.fixture
def server(db_path, arc, make_parsed):
    for name in ("001", "007", "008"):
        sha = arc.save_document(name.encode(), url=f"http://example.gov.cn/{name}.html")
        parsed = make_parsed(name)
        if name == "007":
            parsed["checks"] = [{"rule": "I1", "scope": "total", "status": "fail", "lhs": 10, "rhs": 12}]
        arc.save_report(parsed, sha256=sha, url=f"http://example.gov.cn/{name}.html")
    port = _free_port()
    proc = subprocess.Popen(
        [*_ogi(), "serve", "--db", str(db_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/-/versions.json", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    pytest.fail(f"ogi serve did not start: {out[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.browser
def test_person_browses_the_archive(server, need, tmp_path):
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    need(chromium is not None, "Debian chromium is not installed (scripts/setup-system.sh installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "python playwright is not installed")
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server + "/ogi", wait_until="domcontentloaded", timeout=20000)
            body = page.inner_text("body")
            assert "OGI Archive" in body
            assert "年度报告档案" in body
            assert "报告 / reports" in body
            assert "勾稽校验未通过的报告" in body

            page.goto(server + "/ogi/reports", wait_until="domcontentloaded", timeout=20000)
            body = page.inner_text("body")
            assert "焦作市人民政府办公室" in body
            assert "平潭综合实验区" in body
            assert "河南省" in body
            assert "福建省" in body
            facets = page.inner_text(".facet-results")
            assert "year" in facets
            assert "province" in facets
            assert "check_status" in facets
            shots = Path(os.environ.get("OGI_SCREENSHOTS", str(tmp_path)))
            page.screenshot(path=str(shots / "archive-reports.png"), full_page=True)

            # click the province facet and see only that province
            page.click(".facet-results a:has-text('河南省')")
            page.wait_for_load_state("domcontentloaded")
            assert "province=河南省" in urllib.parse.unquote(page.url)
            rows = page.locator("table.rows-and-columns tbody tr")
            assert rows.count() == 1

            page.goto(server + "/ogi/failing_checks", wait_until="domcontentloaded", timeout=20000)
            table = page.inner_text("table.rows-and-columns")
            assert "平潭综合实验区" in table
            assert "I1" in table
            assert "焦作" not in table

            page.goto(server + "/ogi/search?q=政府信息公开条例", wait_until="domcontentloaded", timeout=20000)
            assert page.locator("table.rows-and-columns tbody tr").count() == 3
            page.goto(server + "/ogi/search?q=政策", wait_until="domcontentloaded", timeout=20000)
            assert "政策解读" in page.inner_text("table.rows-and-columns")

            page.goto(server + "/ogi/t3?row_key=t3.received_new", wait_until="load", timeout=20000)
            # the column descriptions are folded away: the data is on the first screen
            assert "列说明" in page.inner_text("details.column-descriptions-toggle summary")
            assert not page.is_visible("dl.column-descriptions")
            page.click("details.column-descriptions-toggle summary")
            assert page.is_visible("dl.column-descriptions")
            text = page.inner_text("table.rows-and-columns")
            assert "一、本年新收政府信息公开申请数量" in text
            assert "58" in text
        finally:
            browser.close()


def _wait(proc: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/-/versions.json", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"server did not start: {out[-2000:]}")
            time.sleep(0.2)


@pytest.fixture
def source_site():
    """A loopback "government portal" serving the report pages the archive fetched (the source URLs)."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", pages
    finally:
        srv.shutdown()


@pytest.fixture(params=["ogi-serve", "datasette"])
def ui_server(request, tmp_path, make_parsed, source_site):
    """The archive served by `ogi serve` or by plain `datasette DB` (the plugin from the entry point)."""
    from archive import open_archive

    site, pages = source_site
    db = tmp_path / "demo.db"
    arc = open_archive(db)
    docs = {}
    for name in ("001", "007", "008"):
        body = (f"<html><head><meta charset='utf-8'><title>{name}</title></head><body><h1>年度报告 {name}</h1>"
                "<p>政府信息公开工作年度报告原文</p></body></html>").encode()
        path = f"/xxgk/{name}/report.html"
        pages[path] = body
        sha = arc.save_document(body, url=site + path, http_status=200,
                                headers={"Content-Type": "text/html; charset=utf-8"})
        parsed = make_parsed(name)
        if name == "007":
            parsed["checks"] = [{"rule": "I1", "scope": "total", "status": "fail", "lhs": 10, "rhs": 12},
                                {"rule": "I3", "scope": "t3.received_new", "status": "fail", "lhs": 3, "rhs": 4}]
        arc.save_report(parsed, sha256=sha, url=site + path)
        docs[name] = (sha, body, site + path)
    arc.close()
    port = _free_port()
    if request.param == "ogi-serve":
        cmd = [*_ogi(), "serve", "--db", str(db), "--port", str(port)]
    else:
        exe = Path(sys.executable).with_name("datasette")
        cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "datasette"]),
               "serve", str(db), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(proc, base)
        yield request.param, base, docs
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.browser
def test_reports_to_printed_report_to_raw_document_and_source(ui_server, need):
    mode, base, docs = ui_server
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    need(chromium is not None, "Debian chromium is not installed (scripts/setup-system.sh installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "python playwright is not installed")
        return
    shots = Path(os.environ.get("OGI_SCREENSHOTS", "/tmp"))
    sha, body, source = docs["007"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(base + "/demo", wait_until="load", timeout=20000)
            assert "__DB__" not in page.content()
            page.click("text=报告 / reports")  # the database page's start link (readable columns)
            page.wait_for_load_state("load")
            assert "/demo/reports" in page.url
            assert "平潭综合实验区" in page.inner_text("table.rows-and-columns")
            page.screenshot(path=str(shots / f"ui-{mode}-reports.png"), full_page=True)

            page.goto(base + "/demo/reports", wait_until="load", timeout=20000)
            row = page.locator("table.rows-and-columns tbody tr", has_text="平潭综合实验区").filter(
                has_text="2020")
            row.locator("a.ogi-report").first.click()  # the report key links to the printed page
            page.wait_for_load_state("load")
            assert re.search(r"/-/ogi/demo/report/\d+$", page.url), page.url
            t3 = page.inner_text("table.printed.t3")
            assert "一、本年新收政府信息公开申请数量" in t3 and "四、结转下年度继续办理" in t3
            assert t3.index("一、本年新收") < t3.index("四、结转下年度")
            assert "自然人" in t3 and "natural persons" in t3 and "总计" in t3
            failing_row = page.locator("table.printed.t3 tr[data-row='t3.received_new']")
            assert "check-fail" in (failing_row.get_attribute("class") or "")
            assert "I3" in failing_row.inner_text()
            assert "✗" in page.inner_text("table.printed.t3 tr[data-rule='I1']")
            assert "行政复议" in page.inner_text("table.printed.t4")
            assert "一、总体情况" in page.inner_text("body")
            page.screenshot(path=str(shots / f"ui-{mode}-report.png"), full_page=True)

            assert page.get_attribute("a.source-url", "href") == source
            with page.expect_navigation():
                page.click("a.raw-document")
            response = page.wait_for_load_state("load") or page.context.request.get(page.url)
            assert f"/-/ogi/demo/doc/{sha}" in page.url
            raw = response.body()
            assert hashlib.sha256(raw).hexdigest() == sha and raw == body  # bytes identical to what was fetched
            assert "年度报告 007" in page.inner_text("h1")
            page.screenshot(path=str(shots / f"ui-{mode}-raw.png"), full_page=True)

            page.go_back()
            page.wait_for_load_state("load")
            page.click("a.source-url")
            page.wait_for_load_state("load")
            assert page.url == source
            live = page.context.request.get(source).body()
            assert live == raw  # the source URL serves what the archive kept

            # the preset chart: applications received and outcomes by year (datasette-vega)
            page.goto(base + "/demo", wait_until="load", timeout=20000)
            page.click("text=图表：各年度申请与办理 / chart: requests by year")
            page.wait_for_load_state("load")
            assert "g.color_column=measure" in page.url
            page.wait_for_selector("canvas, .vega-embed svg", timeout=15000)
            assert "received_new 新收" in page.inner_text("body")
            page.screenshot(path=str(shots / f"ui-{mode}-chart.png"), full_page=True)
        finally:
            browser.close()
