"""`ogi discover`: frozen real portal pages in, candidate annual-report columns out, field by field.

The pages are the saved copies of www.pingtan.gov.cn in tests/fixtures/pages/ (see its README for their
repository, path and commit). None is an annual-report (zfxxgknb) column page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.discover import (
    Candidate,
    _CheckedRedirects,
    _eval_template,
    discover_page,
    guess_level,
    source_name,
)
from crawler.safety import UnsafeURL

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
PORTAL = PAGES / "portal" / "pingtan-zwgk-home-excerpt.html"
DIRECTORY = PAGES / "directory" / "pingtan-czj-gklist-directory.html"
LIST = PAGES / "trs_dynamic" / "pingtan-ghxx-gzjzqk-list.html"
ARTICLE = PAGES / "article" / "pingtan-ghxx-gzjzqk-88515-xls-article.html"
SITE = "https://www.pingtan.gov.cn"
DIRECTORY_URL = f"{SITE}/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/fdzdgknr/10qtwjdzjg/"
DEPT = f"{SITE}/zwgk/zfxxgk/dfbmptlj"
# the 17 departments of the page's `var gklist`, in page order (README: "Facts a test can assert")
GKLIST = [
    ("ptzhsyqpq/ptzhsyqspp", "苏平片区管理局"), ("ptzhsyqpq/ptzhsyqjsp", "君山片区管理局"),
    ("ptzhsyqpq/ptzhsyqhtp", "海坛片区管理局"), ("ptzhsyqpq/ptzhsyqjjp", "金井片区管理局"),
    ("ptzhsyqbm/ptzhsyqgwh", "管委会办公室"), ("ptzhsyqbm/ptzhsyqjjf", "经济发展局"),
    ("ptzhsyqbm/ptzhsyqgaj", "公安局"), ("ptzhsyqbm/ptzhsyqczj", "财政金融局"),
    ("ptzhsyqbm/ptzhsyqlyy", "旅游与文化体育局"), ("ptzhsyqbm/ptzhsyqshs", "社会事业局"),
    ("ptzhsyqbm/ptzhsyqzrz", "自然资源与生态环境局"), ("ptzhsyqbm/ptzhsyqjtj", "交通与建设局"),
    ("ptzhsyqbm/ptzhsyqhzs", "行政审批局"), ("ptzhsyqbm/ptzhsyqzhz", "综合执法与应急管理局"),
    ("ptzhsyqbm/ptzhsyqscj", "市场监督管理局"), ("ptzhsyqbm/ptzhsyqnyn", "农业农村局"),
    ("ptzhsyqbm/ptzhsyqgyz", "投资促进局"),
]


def test_directory_page_script_config_and_nav_template_give_17_department_columns() -> None:
    body = DIRECTORY.read_bytes()
    found = discover_page(body, DIRECTORY_URL)
    assert found.departments == 17
    assert found.agency == "平潭综合实验区党工委管委会"  # <meta name="SiteName">
    assert [c.url for c in found.candidates] == [f"{DEPT}/{path}/zfxxgknb/" for path, _ in GKLIST]
    assert [c.agency for c in found.candidates] == [f"平潭综合实验区{name}" for _, name in GKLIST]
    assert {c.via for c in found.candidates} == {"nav-template"}
    assert {c.level for c in found.candidates} == {"zone-department"}
    assert {c.page for c in found.candidates} == {DIRECTORY_URL}
    assert found.rejected == [(f"{SITE}/zwgk/zfgzbg/", "政府工作报告", "confusable")]  # the site nav
    first = found.candidates[0]
    assert first.evidence == "政府信息公开年报 /zwgk/zfxxgk/{{paths[5]}}/{{paths[6]}}/{{paths[7]}}/zfxxgknb/"
    # the columns are derived from the page's template: none of them is an <a href> on the page
    text = body.decode("utf-8")
    assert text.count("zfxxgknb") == 2
    assert all(c.url not in text for c in found.candidates)
    # the sibling templates (指南 zfxxgkzn, 申请 zfxxgksq) are not report columns
    assert not [c for c in found.candidates if "zfxxgkzn" in c.url or "zfxxgksq" in c.url]


def test_portal_page_links_the_body_column_and_rejects_the_confusable() -> None:
    found = discover_page(PORTAL.read_bytes(), f"{SITE}/zwgk/")
    assert len(found.candidates) == 1
    c = found.candidates[0]
    assert (c.url, c.agency, c.level, c.via, c.evidence) == (
        f"{SITE}/zwgk/zfxxgk/zfxxgknb/", "平潭综合实验区党工委管委会", "zone", "link", "政府信息公开年报")
    assert (f"{SITE}/zwgk/zfgzbg/", "政府工作报告", "confusable") in found.rejected
    assert (f"{SITE}/zwgk/zfxxgk/", "政府信息公开") in found.follow


@pytest.mark.parametrize(("path", "url"), [(LIST, f"{SITE}/zwgk/ghxx/gzjzqk/"),
                                      (ARTICLE, f"{SITE}/zwgk/ghxx/gzjzqk/202403/t20240329_88515.htm")])
def test_pages_without_a_report_column_give_none(path: Path, url: str) -> None:
    found = discover_page(path.read_bytes(), url)
    assert found.candidates == []
    assert (f"{SITE}/zwgk/zfxxgk/", "政府信息公开") in found.follow  # the site nav still leads on


def test_titles_rules_decide_which_links_are_columns() -> None:
    page = """<html><head><title>信息公开_某某市人民政府</title></head><body>
    <a href="/xxgk/wzbb/">政府网站年度报表</a>
    <a href="/xxgk/zfgzbg/">政府工作报告</a>
    <a href="/gxxxgk/nb/">某某大学信息公开年报</a>
    <a href="/xxgk/t20240115_123.html">某某市人民政府2023年政府信息公开工作年度报告</a>
    <a href="/xxgk/zfxxgknb/">政府信息<br>公开年报</a>
    <a href="/bm/czj/xxgknb/" title="市财政局政府信息公开年报">市财政局年报</a>
    <a href="/xxgk/gknb/">政府信息公开指南</a>
    <a href="/bmxxgk/">部门信息公开</a>
    <a href="https://evil.example.com/zfxxgknb/">政府信息公开年报</a>
    </body></html>"""
    found = discover_page(page.encode("utf-8"), "https://www.xx.gov.cn/xxgk/")
    assert [(c.url, c.evidence, c.agency) for c in found.candidates] == [
        ("https://www.xx.gov.cn/xxgk/zfxxgknb/", "政府信息 公开年报", "某某市人民政府"),
        ("https://www.xx.gov.cn/bm/czj/xxgknb/", "市财政局政府信息公开年报", "市财政局"),  # the link's own agency
    ]
    assert {r[1] for r in found.rejected} == {"某某大学信息公开年报", "政府工作报告", "政府网站年度报表"}
    assert ("https://www.xx.gov.cn/bmxxgk/", "部门信息公开") in found.follow


def test_gbk_page_with_meta_charset() -> None:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "<title>首页-某某县人民政府</title></head><body>"
            '<a href="/xxgk/bmxxgk/jyj/ndbg/">县教育局政府信息公开工作年度报告</a></body></html>')
    found = discover_page(page.encode("gbk"), "http://www.mm.gov.cn/")
    assert [(c.url, c.agency, c.level) for c in found.candidates] == [
        ("http://www.mm.gov.cn/xxgk/bmxxgk/jyj/ndbg/", "县教育局", "county-department")]
    assert found.agency == "某某县人民政府"  # <title> after the last separator


def test_template_is_read_not_assumed() -> None:
    base = "https://www.a.gov.cn/xxgk/bm/czj/"
    assert _eval_template("/xxgk/{{paths[4]}}/{{paths[5]}}/nb/", base, base) == "https://www.a.gov.cn/xxgk/bm/czj/nb/"
    assert _eval_template("{{paths[5]}}/ndbg/", base, base) == "https://www.a.gov.cn/xxgk/bm/czj/czj/ndbg/"
    assert _eval_template("/other/{{paths[5]}}/nb/", base, base) is None  # does not lead under the department
    assert _eval_template("/xxgk/{{paths[4]}}/{{dept}}/nb/", base, base) is None  # another placeholder
    assert _eval_template("/xxgk/{{paths[40]}}/nb/", base, base) is None  # past the URL's parts


@pytest.mark.parametrize(("agency", "level"), [
    ("平潭综合实验区党工委管委会", "zone"), ("平潭综合实验区市场监督管理局", "zone-department"),
    ("昆明市财政局", "city-department"), ("北京市密云区人民政府", "county"), ("上海市人民政府", "provincial"),
    ("退役军人事务部", "national"), ("国务院办公厅", "national"), ("河北省工业和信息化厅", "provincial-department"),
    ("昆明市禄劝县人民政府", "county"), ("某某镇人民政府", "township"), ("黔南州民政局", "city-department"),
    ("某某街道办事处", "township"), ("财政局", "department"), (None, None),
])
def test_guess_level(agency: str | None, level: str | None) -> None:
    assert guess_level(agency) == level


def test_source_names_are_unique_and_readable() -> None:
    a = source_name(f"{DEPT}/ptzhsyqbm/ptzhsyqczj/zfxxgknb/")
    assert a == "pingtan_ptzhsyqczj_zfxxgknb"
    b = source_name(f"{SITE}/other/ptzhsyqczj/zfxxgknb/", {a})
    assert b == "pingtan_other_ptzhsyqczj_zfxxgknb"
    assert source_name("https://www.mva.gov.cn/gongkai/zfxxgkpt/zfxxgknb/index.html") == "mva_zfxxgkpt_zfxxgknb"


def test_redirect_to_a_private_address_is_refused() -> None:
    import urllib.request

    handler = _CheckedRedirects(allow_private=False, host_map={})
    req = urllib.request.Request("https://www.pingtan.gov.cn/zwgk/")
    for target in ("http://127.0.0.1/x", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"):
        with pytest.raises(UnsafeURL):
            handler.redirect_request(req, None, 302, "Found", {}, target)


def test_candidate_source_entry_has_the_sources_yaml_fields() -> None:
    c = Candidate(url="https://x.gov.cn/zfxxgknb/", agency="某局", via="link", evidence="年报", page="p",
                  level="department", family="trs", checked="ok", name="x_zfxxgknb")
    assert c.to_source() == {"name": "x_zfxxgknb", "url": "https://x.gov.cn/zfxxgknb/", "agency": "某局",
                             "level": "department", "family": "trs"}
    assert re.fullmatch(r"[a-z0-9_]+", c.name)


def test_article_page_is_not_a_column_source() -> None:
    page = PAGES / "article" / "pingtan-czj-qtwj-64558-pdf-only-article-excerpt.html"
    url = f"{SITE}/zwgk/zfxxgk/dfbmptlj/ptzhsyqbm/ptzhsyqczj/fdzdgknr/10qtwjdzjg/201804/t20180417_64558.htm"
    found = discover_page(page.read_bytes(), url)
    assert found.candidates == [] and found.departments == 0
    assert found.rejected == [(f"{SITE}/zwgk/zfgzbg/", "政府工作报告", "confusable")]
    # the PDF attachment and the breadcrumb's department link are neither columns nor directories
    assert [u for u, _ in found.follow] == [f"{SITE}/zwgk/", f"{SITE}/zwgk/zfxxgk/"]


def test_department_dropdown_options_are_followed_not_taken_as_columns() -> None:
    page = """<html><head><meta name="SiteName" content="某某市人民政府"></head><body>
    <select onchange="window.open(this.value)"><option value="">部门网站</option>
    <option value="http://czj.mm.gov.cn/">市财政局</option><option value="/bm/jyj/">市教育局</option>
    <option value="http://www.example.com/">友情链接</option><option value="https://spam.example.org/">某某局</option>
    </select></body></html>"""
    found = discover_page(page.encode("utf-8"), "http://www.mm.gov.cn/")
    assert found.candidates == []
    assert found.follow == [("http://czj.mm.gov.cn/", "市财政局"), ("http://www.mm.gov.cn/bm/jyj/", "市教育局")]
