"""HTML layouts real portals use around the official tables: layout tables, split tables, spacer cells."""

from __future__ import annotations

import random
import re

from crawler.parsers import parse_document
from ogi.demo import compare, random_report, render


def _official(seed: int = 7):
    report = random_report(random.Random(seed), "gov2021")
    return report, render(report, "official_html").decode("utf-8")


def test_tables_inside_a_layout_table() -> None:
    report, html = _official()
    body = re.search(r"<body[^>]*>(.*)</body>", html, re.S).group(1)
    wrapped = html.replace(body, f'<table width="100%"><tr><td class="TRS_Editor"><div>{body}</div></td></tr></table>')
    out = parse_document(wrapped.encode("utf-8"), source="x").to_json()
    assert out["ok"]
    assert not compare(report, out, "official_html")


def test_table_three_split_into_two_tables() -> None:
    """Table 三 continued in a second <table> (a page break in a Word export) is one table."""
    report, html = _official(11)
    marker = "（四）无法提供"
    i = html.index(marker)
    row_start = html.rfind("<tr", 0, i)
    split = html[:row_start] + "</table><p>（续表）</p><table border=\"1\">" + html[row_start:]
    out = parse_document(split.encode("utf-8"), source="x").to_json()
    assert out["ok"]
    assert not compare(report, out, "official_html")


def test_columns_mapped_by_header_labels_not_position() -> None:
    """A table 三 whose header puts 总计 first: values follow their header labels."""
    cols = ["总计", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    header = (
        "<tr><td colspan=3 rowspan=3>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>"
        "<td colspan=7>申请人情况</td></tr>"
        "<tr><td rowspan=2>总计</td><td rowspan=2>自然人</td><td colspan=5>法人或其他组织</td></tr>"
        "<tr>" + "".join(f"<td>{c}</td>" for c in cols[2:]) + "</tr>"
    )
    row = "<tr><td colspan=3>一、本年新收政府信息公开申请数量</td>" + "".join(
        f"<td>{v}</td>" for v in (10, 7, 1, 0, 0, 2, 0)
    ) + "</tr>"
    html = f"<html><body><p>某某局2023年政府信息公开工作年度报告</p><table>{header}{row}</table></body></html>"
    out = parse_document(html.encode("utf-8"), source="x").to_json()
    cells = out["cells"]
    assert cells["t3.received_new.total"] == 10
    assert cells["t3.received_new.natural"] == 7
    assert cells["t3.received_new.legal_service"] == 2
