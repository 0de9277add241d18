"""Scrapy's own tools work on the project: feed exports (`-O items.jsonl` writes every item, never bytes),
`scrapy check` runs a contract per spider against the sample portal, `-a mode=` is honoured, and a spider
started without a URL writes no archive."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.crawler.conftest import query

ROOT = Path(__file__).resolve().parents[2]
SCRAPY = str(Path(sys.executable).with_name("scrapy"))
HUB = "http://hub.fixture.test/zfxxgknb/"


def _scrapy(args: list[str], cwd: Path, port: int | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    loopback: list[str] = []
    if port is not None:
        loopback = ["-s", "OGI_ALLOW_PRIVATE=1", "-s", json.dumps({"fixture.test": f"127.0.0.1:{port}"}),
                    "-s", 'OGI_EXTRA_SITES=["fixture.test"]', "-s", "AUTOTHROTTLE_ENABLED=0",
                    "-s", "DOWNLOAD_DELAY=0", "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=0"]
        loopback[3] = "OGI_HOST_MAP=" + loopback[3]
    return subprocess.run([SCRAPY, *args, *loopback], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_feed_export_writes_every_item_without_bytes(tmp_path: Path, portal_server: Any) -> None:
    out = tmp_path / "items.jsonl"
    db = tmp_path / "f.db"
    proc = _scrapy(["crawl", "ogi", "-a", f"url={HUB}", "-O", str(out), "-s", f"OGI_DB={db}",
                    "-s", "LOG_LEVEL=INFO"], tmp_path, portal_server.port)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "TypeError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    scraped = int(re.search(r"'item_scraped_count': (\d+)", proc.stderr).group(1))
    stored = int(re.search(r"Stored jsonl feed \((\d+) items\)", proc.stderr).group(1))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line]
    assert scraped == stored == len(lines) > 40
    documents = [item for item in lines if "http_status" in item]
    assert documents and all(set(d["body"]) == {"size", "sha256"} for d in documents)
    # the archive got the real bytes: every exported document's sha256 is stored (304s carry b"")
    stored_shas = {sha for (sha,) in query(db, "SELECT sha256 FROM documents")}
    assert {d["body"]["sha256"] for d in documents if d["body"]["size"]} <= stored_shas


def test_scrapy_check_runs_a_contract_per_spider(tmp_path: Path, portal_server: Any) -> None:
    listed = _scrapy(["list"], tmp_path)
    spiders = [s for s in listed.stdout.split() if s != "ogi_base"]  # ogi_base: the abstract base
    proc = _scrapy(["check"], tmp_path, portal_server.port)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ran = int(re.search(r"Ran (\d+) contracts", proc.stderr).group(1))
    assert ran >= 2 * len(spiders) - 1 and "OK" in proc.stderr  # @sample_page + @returns for each
    checked = _scrapy(["check", "-l"], tmp_path)
    names = re.findall(r"^(\S+)\n  \* parse_list", checked.stdout, re.M)
    assert sorted(names) == sorted(spiders)
    assert not (tmp_path / "ogi.db").exists()


def test_spider_argument_mode_is_honoured(tmp_path: Path, portal_server: Any) -> None:
    db = tmp_path / "m.db"
    url = "http://ministry.fixture.test/zfxxgk/zfxxgknb/index.html"
    for mode in ("full", "light"):
        proc = _scrapy(["crawl", "ogi", "-a", f"url={url}", "-a", f"mode={mode}", "-s", f"OGI_DB={db}"],
                       tmp_path, portal_server.port)
        assert proc.returncode == 0, proc.stderr[-3000:]
    modes = [json.loads(c)["mode"] for (c,) in query(db, "SELECT counts FROM runs ORDER BY id")]
    assert modes == ["full", "light"]
    bad = _scrapy(["crawl", "ogi", "-a", f"url={url}", "-a", "mode=sideways", "-s", f"OGI_DB={db}"], tmp_path)
    assert bad.returncode != 0 and "OGI_MODE must be one of" in bad.stderr


def test_spider_without_a_url_writes_no_archive(tmp_path: Path) -> None:
    proc = _scrapy(["crawl", "ogi_base"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no start URL" in proc.stderr
    assert not list(tmp_path.glob("ogi.db*"))
