"""Each report's own metadata from real article pages (issue 10 item 4): title, agency, publication date.

Frozen real pages from tests/fixtures/pages/article (sources in tests/fixtures/pages/README.md), asserted
field by field; an annual-report page is made from the real 64558 page template with the real report body
of fixture 002 put in, and its breadcrumb column set to 政府信息公开年报 — the column name every report of a
real portal was titled with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.parsers import parse_document
from crawler.parsers.html_tables import extract_html
from crawler.parsers.meta import clean_title, find_meta, find_published, find_title, metadata_block

FIXTURES = Path(__file__).parent.parent / "fixtures"
ARTICLES = FIXTURES / "pages" / "article"
A88515 = ARTICLES / "pingtan-ghxx-gzjzqk-88515-xls-article.html"
A64558 = ARTICLES / "pingtan-czj-qtwj-64558-pdf-only-article-excerpt.html"
REPORT_BODY = FIXTURES / "real" / "002.html"

OLD_TITLE = "关于下达蓝色海湾整治行动2018年度中央海岛和海域保护资金的通知"
OLD_COLUMN = "其他文件（党政机关会议定点名单；其他应主动公开的政府信息"
TITLE = "2019年上海市人民政府办公厅政府信息公开工作年度报告"


def _meta_of(path: Path):  # type: ignore[no-untyped-def]
    ex = extract_html(path.read_text(encoding="utf-8"))
    return ex, find_meta(ex.text, ex.title_hint, ex.published_hint, "", "", agency_hint=ex.agency_hint)


@pytest.mark.parametrize(
    ("page", "field", "expected"),
    [
        (A88515, "title_hint", "区公安局2024年第一季度易制毒化学品企事业抽查工作情况"),  # ArticleTitle, not <title>
        (A88515, "published_hint", "2024-03-29 15:14"),  # PubDate
        (A88515, "agency_hint", "平潭综合实验区党工委管委会"),  # ContentSource is empty: SiteName
        (A64558, "title_hint", OLD_TITLE),
        (A64558, "published_hint", "2018-04-17 09:42"),
        (A64558, "agency_hint", "平潭综合实验区财政金融局"),  # ContentSource before SiteName
    ],
)
def test_html_head_hints(page: Path, field: str, expected: str) -> None:
    ex = extract_html(page.read_text(encoding="utf-8"))
    assert getattr(ex, field) == expected


@pytest.mark.parametrize(
    ("page", "field", "expected"),
    [
        (A64558, "index", "PZ00108-3000-2018-00057"),
        (A64558, "issuer", "平潭综合实验区财政金融局"),  # 发文机关
        (A64558, "written", "2018-04-16"),  # 成文日期
        (A64558, "published", "2018-04-17"),  # 发布日期
        (A64558, "source", "平潭综合实验区财政金融局"),  # 来源
        (A88515, "source", "平潭综合实验区党工委管委会"),
        (A88515, "date", "2024-03-29 15:14"),  # 时间
    ],
)
def test_metadata_block_of_real_pages(page: Path, field: str, expected: str) -> None:
    ex = extract_html(page.read_text(encoding="utf-8"))
    assert metadata_block(ex.text)[field] == expected


@pytest.mark.parametrize(
    ("page", "agency", "published"),
    [
        (A64558, "平潭综合实验区财政金融局", "2018-04-17"),  # 发布日期 of the block, not 成文日期 2018-04-16
        (A88515, "平潭综合实验区党工委管委会", "2024-03-29"),  # 来源 line; PubDate
    ],
)
def test_real_article_agency_and_date(page: Path, agency: str, published: str) -> None:
    _ex, meta = _meta_of(page)
    assert meta.title is None  # not a report: no report title is made up from navigation
    assert meta.agency == agency
    assert meta.published == published


def _report_page(*, drop: tuple[str, ...] = (), title: str = TITLE) -> str:
    """The real 64558 page carrying the real report body of fixture 002, in the 政府信息公开年报 column."""
    page = A64558.read_text(encoding="utf-8")
    body = REPORT_BODY.read_text(encoding="utf-8")
    if "body_title" in drop:  # the body without its own title line and date line
        body = re.sub(r"^<p[^>]*>2019年上海市人民政府办公厅政府信息公开工作年度报告</p>\s*<p[^>]*>发布日期：2020-01-31</p>", "",
                      body)
    page = page.replace("详见附件电子全文", body, 1).replace(OLD_COLUMN, "政府信息公开年报")
    page = page.replace("2018-04-17", "2020-01-31").replace("2018-04-16", "2020-01-30")
    if "meta" in drop:
        page = re.sub(r'<meta name="ArticleTitle"[^>]*>', "", page)
    if "heading" in drop:
        page = re.sub(r'<div class="article_title text_align_center">\s*' + OLD_TITLE + r"\s*</div>", "", page)
    if "title" in drop:
        page = re.sub(r"<title>[^<]*</title>", "<title>政府信息公开年报_平潭综合实验区党工委管委会</title>", page)
    return page.replace(OLD_TITLE, title)


@pytest.mark.parametrize(
    "drop",
    [
        (),  # ArticleTitle meta
        ("meta",),  # the content heading div.article_title
        ("meta", "heading"),  # <title> without `_政府信息公开年报_平潭综合实验区党工委管委会`
        ("meta", "heading", "title"),  # the body's first title line, after the navigation
        ("body_title",),  # ArticleTitle, with no title in the body at all
    ],
    ids=["article-title", "heading", "page-title", "body-line", "meta-only"],
)
def test_report_page_gets_its_own_title_agency_and_date(drop: tuple[str, ...]) -> None:
    report = parse_document(_report_page(drop=drop).encode(), source="report.html")
    clean = parse_document(REPORT_BODY.read_bytes(), source="002.html")
    assert report.ok, report.error
    assert report.title == TITLE  # never the column name 政府信息公开年报
    assert report.agency == "上海市人民政府办公厅"
    assert report.year == 2019 and report.year_source == "title"
    assert report.published == "2020-01-31"
    assert report.to_json()["cells"] == clean.to_json()["cells"]


def test_report_title_without_agency_takes_it_from_the_metadata_block() -> None:
    page = _report_page(drop=("body_title",), title="2019年政府信息公开工作年度报告")
    report = parse_document(page.encode(), source="report.html")
    assert report.title == "2019年政府信息公开工作年度报告"
    assert report.agency == "平潭综合实验区财政金融局"  # 发文机关 of the 索引号 table
    assert report.published == "2020-01-31"


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        # breadcrumb and column names first, the report title after them
        ("当前位置：\n首页\n政务公开\n政府信息公开年报\n平潭综合实验区2019年度政府信息公开工作年度报告\n正文", None,
         "平潭综合实验区2019年度政府信息公开工作年度报告"),
        ("首页 > 政府信息公开 > 政府信息公开年报 > 2019年某局政府信息公开工作年度报告\n2019年某局政府信息公开工作年度报告", None,
         "2019年某局政府信息公开工作年度报告"),
        ("政府信息公开年报\n年度报告\n某县人民政府政府信息公开工作年度报告\n正文", None, "某县人民政府政府信息公开工作年度报告"),
        ("政府信息公开年报\n正文", None, None),  # a bare column name is never a title
        # a whole-title hint from the article's metadata wins over navigation text
        ("政府信息公开年报\n2023年某某政府信息公开工作年度报告（相关链接）", "平潭综合实验区2019年度政府信息公开工作年度报告",
         "平潭综合实验区2019年度政府信息公开工作年度报告"),
        ("正文", "平潭综合实验区2019年度政府信息公开工作年度报告_平潭综合实验区管理委员会",
         "平潭综合实验区2019年度政府信息公开工作年度报告"),
        ("正文", "焦作市2021年政府信息公开工作年度报告 - 焦作市人民政府", "焦作市2021年政府信息公开工作年度报告"),
        # a hint cut short is not a title; the text's is
        ("2019年某局政府信息公开工作年度报告\n", "2019年某局政府信息公开工作年...", "2019年某局政府信息公开工作年度报告"),
        # PDF text: a title wrapped over two lines
        ("正文\n2024 年上海市科委政府信息公开工作\n年度报告\n根据", None, "2024 年上海市科委政府信息公开工作年度报告"),
    ],
)
def test_find_title(text: str, hint: str | None, expected: str | None) -> None:
    assert find_title(text, hint) == expected


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("平潭综合实验区2019年度政府信息公开工作年度报告_平潭综合实验区管理委员会", "平潭综合实验区2019年度政府信息公开工作年度报告"),
        ("某区2020年政府信息公开工作年度报告 - 某区政府", "某区2020年政府信息公开工作年度报告"),
        ("某区2020年政府信息公开工作年度报告|某区政府网", "某区2020年政府信息公开工作年度报告"),
        ("  某区2020年 政府信息公开工作年度报告 ", "某区2020年 政府信息公开工作年度报告"),
        ("", None),
    ],
)
def test_clean_title(hint: str, expected: str | None) -> None:
    assert clean_title(hint) == expected


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("成文日期：2020-01-30\n发布日期：2020-01-31\n", None, "2020-01-31"),  # 发布日期 before 成文日期
        ("成文日期：2020-01-30\n", "2020-02-01 09:00", "2020-02-01"),  # PubDate before 成文日期
        ("成文日期：2020年1月30日\n", None, "2020-01-30"),
        ("标题: 某报告\n发布时间: 2020-01-20 15:22\n文号: \n发布机构: \n栏目: 政府信息公开年报\n", None, "2020-01-20"),
        ("统计时间：2019年1月1日至12月31日\n", None, None),  # a statistics period is not a publication date
        ("正文", None, None),
    ],
)
def test_find_published(text: str, hint: str | None, expected: str | None) -> None:
    assert find_published(text, hint) == expected


def test_empty_publisher_field_does_not_take_the_next_line() -> None:
    block = metadata_block("发布时间: 2020-01-20 15:22\n文号: \n发布机构: \n栏目: 政府信息公开年报\n")
    assert "publisher" not in block and block["published"] == "2020-01-20 15:22"


def test_report_with_no_agency_in_its_title_or_block_takes_the_pages_content_source() -> None:
    """The real 64558 page with its 发文机关 cell and 来源 line gone: the agency is the page's meta ContentSource."""
    page = _report_page(drop=("body_title",), title="2019年政府信息公开工作年度报告")
    page = page.replace("发文机关：", "主题分类：").replace("来源：平潭综合实验区财政金融局", "")
    ex = extract_html(page)
    assert not {"publisher", "issuer", "source"} & set(metadata_block(ex.text)), metadata_block(ex.text)
    assert ex.agency_hint == "平潭综合实验区财政金融局"
    report = parse_document(page.encode(), source="report.html")
    assert report.ok and report.title == "2019年政府信息公开工作年度报告"
    assert report.agency == "平潭综合实验区财政金融局"
