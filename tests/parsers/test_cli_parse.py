"""`ogi parse` contract: JSON fields, exit status, bad input without tracebacks; document kinds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from crawler.parsers import parse_document
from ogi.cli import cli

REAL = Path(__file__).parent.parent / "fixtures" / "real"
CONTRACT = {"source", "ok", "error", "title", "agency", "year", "published", "formats", "cells", "flags", "raw",
            "checks", "sections"}


def test_json_lines_contract(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("会议纪要：今天讨论了食堂菜单。", encoding="utf-8")
    result = CliRunner().invoke(cli, ["parse", "--json", str(REAL / "001.txt"), str(bad), str(REAL / "002.html")])
    assert result.exit_code == 1  # one file is not a report
    objs = [json.loads(line) for line in result.output.splitlines()]
    assert len(objs) == 3
    good, notes, html = objs
    assert CONTRACT <= set(good)
    assert good["ok"] is True and good["error"] is None
    assert good["cells"]["t3.received_new.natural"] == 57
    assert good["formats"] == {"t2": "gov2021", "t3": "gov2021", "t4": "gov2021"}
    assert set(good["flags"]) == set(good["cells"]) == set(good["raw"])
    check = good["checks"][0]
    assert set(check) >= {"rule", "scope", "status", "lhs", "rhs"}
    assert {c["rule"] for c in good["checks"]} >= {"I1", "I2", "I3", "I4", "S3"}
    assert notes["ok"] is False and "not an annual report" in notes["error"]
    assert html["ok"] is True and html["cells"]["t3.received_new.total"] == 859


def test_all_good_files_exit_zero_and_summary() -> None:
    result = CliRunner().invoke(cli, ["parse", str(REAL / "007.txt")])
    assert result.exit_code == 0
    assert "FAIL I2 natural: 20 ≠ 26" in result.output
    assert "三 gov2019" in result.output


def test_missing_file_and_garbage_never_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    proc = subprocess.run(
        [sys.executable, "-m", "ogi", "parse", "--json", str(junk), str(empty), str(tmp_path / "nope.pdf")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    objs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["ok"] for o in objs] == [False, False, False]
    assert all(o["error"] for o in objs)


def test_gb2312_declared_page_with_gbk_only_characters() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
        "<p>某某县堃镕局2023年政府信息公开工作年度报告</p><p>一、总体情况</p><p>无。</p></body></html>"
    ).encode("gbk")
    report = parse_document(html, source="x.html")
    assert report.title == "某某县堃镕局2023年政府信息公开工作年度报告"
    assert report.agency == "某某县堃镕局"


def test_tables_as_pictures_are_image_only_not_zero_tables() -> None:
    narrative = "<p>" + "本年度我局认真落实政府信息公开条例，持续推进政务公开工作。" * 40 + "</p>"
    html = (
        "<html><body><p>某某市某某局2023年政府信息公开工作年度报告</p><p>一、总体情况</p>" + narrative
        + '<p>二、主动公开政府信息情况</p><p><img src="./W020240125_1.png"></p>'
        + '<p>三、收到和处理政府信息公开申请情况</p><p><img src="./W020240125_2.png"></p>'
        + '<p>四、政府信息公开行政复议、行政诉讼情况</p><p><img src="./W020240125_3.png"></p>'
        + "<p>五、存在的主要问题及改进情况</p>" + narrative + "</body></html>"
    ).encode("utf-8")
    report = parse_document(html, source="x.html")
    assert report.ok and report.status == "image_only"
    assert not report.cells
    assert report.year == 2023


def test_pre2019_keeps_text_and_no_t3_keys() -> None:
    report = parse_document((REAL / "013.txt").read_bytes(), source="013")
    assert report.status == "pre2019"
    assert "依申请" in report.text
    assert not any(k.startswith("t3.") for k in report.cells)
