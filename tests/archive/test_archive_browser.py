"""End to end: `ogi serve` on loopback, Debian's chromium (driven by playwright) shows what a person sees."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
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
