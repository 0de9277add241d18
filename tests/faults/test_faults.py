"""Crawl the fault-injecting portal: every listed item is archived or recorded with a reason, and the source
and run status say so (never ``ok`` when something was lost)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.crawler.test_egress import crawl
from tests.faults.server import (
    FaultServer,
    Page,
    flate_bomb_pdf,
    gzip_bomb,
    gzip_page,
    html,
    link,
    report_page,
)

ITEMS = {  # item path -> fault
    "/ok1.html": report_page(2019),
    "/burst.html": Page(body=report_page(2020).body, mode="burst:2"),  # two 503s, then the page
    "/reset.html": Page(body=report_page(2021).body, mode="reset"),
    "/trunc.html": Page(body=report_page(2022).body * 20, mode="truncate"),
    "/slow.html": Page(body=report_page(2023).body * 4, mode="slow"),
    "/loop/a.html": Page(status=302, headers={"Location": "/loop/b.html"}),
    "/priv.html": Page(status=302, headers={"Location": "http://10.0.0.1/x.html"}),
    "/gz.html": gzip_page(Page(body=b"")),  # replaced by the bomb below
    "/bomb.pdf": Page(body=b"", headers={"Content-Type": "application/pdf"}),
}
ITEMS["/loop/b.html"] = Page(status=302, headers={"Location": "/loop/a.html"})
LISTED = [p for p in ITEMS if p != "/loop/b.html"]


NAV = "".join(f"<a href='/nav{i}.html'>栏目导航{i}</a>" for i in range(60))  # a real page's length, not a stub


def portal_routes() -> dict[str, Any]:
    routes: dict[str, Any] = dict(ITEMS)
    routes["/gz.html"] = Page(body=gzip_bomb(96 * 1024 * 1024),
                              headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    routes["/bomb.pdf"] = Page(body=flate_bomb_pdf(300 * 1024 * 1024), headers={"Content-Type": "application/pdf"})
    rows = "".join(link(p, f"{2010 + i}年政府信息公开工作年度报告") for i, p in enumerate(LISTED))
    routes["/list.html"] = Page(body=html("年报", f"<ul>{rows}</ul><a href='/list_2.html'>下一页</a>"))
    routes["/list_2.html"] = Page(body=html("系统繁忙 error", f"{NAV}<ul></ul><p>服务器异常，请稍后再试</p>"))
    return routes


def deep_chain(host: str, path: str, server: FaultServer) -> Page | None:
    """``/deep/N.html``: one report per page and a 下一页 to N+1, endlessly (bounded by the server)."""
    if not path.startswith("/deep/"):
        return None
    n = int(path.rsplit("/", 1)[1].split(".")[0].lstrip("r"))
    if path.startswith("/deep/r"):
        return report_page(2000 + n % 25)
    if n > 400:
        return Page(status=404, body=html("404", "end"))
    return Page(body=html("年报", NAV + link(f"/deep/r{n}.html", f"{1990 + n}年度政府信息公开工作年度报告第{n}篇")
                          + f"<a href='/deep/{n + 1}.html'>下一页</a><p>共1000000页</p>"))


def outcome(db: Path) -> dict[str, Any]:
    con = sqlite3.connect(db)
    try:
        fetched = {u for (u,) in con.execute("SELECT url FROM fetches")} | {
            u for (u,) in con.execute("SELECT final_url FROM fetches")}
        failures = con.execute("SELECT url, reason, detail, source FROM failures").fetchall()
        decisions = con.execute("SELECT url, reason FROM link_decisions").fetchall()
        sources = dict(con.execute("SELECT source, status FROM run_sources").fetchall())
        runs = [s for (s,) in con.execute("SELECT status FROM runs")]
    finally:
        con.close()
    return {"fetched": fetched, "failures": failures, "decisions": decisions, "sources": sources, "runs": runs}


def recorded(url: str, out: dict[str, Any]) -> str | None:
    """The reason ``url`` is recorded with (its own failure row, or a chain naming it), or None."""
    for f_url, reason, detail, _ in out["failures"]:
        if f_url == url or url in (detail or ""):
            return str(reason)
    for d_url, reason in out["decisions"]:
        if d_url == url:
            return str(reason)
    return None


@pytest.mark.slow
def test_every_listed_item_is_archived_or_recorded(tmp_path: Path) -> None:
    server = FaultServer(portal_routes(), fallback=deep_chain).start()
    db = tmp_path / "f.db"
    base = f"http://127.0.0.1:{server.port}"
    try:
        out_json = crawl({"db": str(db), "urls": [f"{base}/list.html", f"{base}/deep/1.html"], "allow_private": True,
                          "settings": {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 3, "OGI_RETRY_BACKOFF": 0.05,
                                       "DOWNLOAD_MAXSIZE": 16 * 1024 * 1024, "DEPTH_LIMIT": 6,
                                       "OGI_PARSE_SECONDS": 20}}, timeout=150)
    finally:
        server.stop()
    out = outcome(db)
    lost = []
    figures = {}
    for path in LISTED:
        url = base + path
        why = "archived" if url in out["fetched"] else recorded(url, out)
        figures[path] = why
        if why is None:
            lost.append(path)
    deep_pages = sorted(p for _, p, _ in server.hits if p.startswith("/deep/") and not p.startswith("/deep/r"))
    for page in deep_pages:  # every report listed on a deep page that was served
        n = int(page.rsplit("/", 1)[1].split(".")[0])
        url = f"{base}/deep/r{n}.html"
        if url not in out["fetched"] and recorded(url, out) is None:
            lost.append(url)
    print("figures", figures, "deep pages served", len(deep_pages), out_json["stats"].get("ogi/losses/depth-limit"))
    assert lost == []
    assert figures["/ok1.html"] == figures["/burst.html"] == "archived"
    assert figures["/loop/a.html"] == "redirect-loop"
    assert figures["/gz.html"] == "decompression-bomb"  # was `ignored`
    assert figures["/priv.html"] in ("offsite", "unsafe/private")
    assert recorded(f"{base}/list_2.html", out) == "error-page"
    assert len(deep_pages) <= 7  # the endless pager stopped at the depth cap (depths 0-6) …
    assert any(r == "depth-limit" for _, r, _, _ in out["failures"])  # … and said so
    assert "ok" not in out["sources"].values() and len(out["sources"]) == 2, out["sources"]  # both lost something
    assert out["runs"] and all(s != "ok" for s in out["runs"])

