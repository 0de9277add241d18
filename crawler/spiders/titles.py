"""Which links are annual reports, and which report year they are for.

Pure functions (no Scrapy): the list parsers of every family call :func:`is_report_title` on the full link
title (the ``title=`` attribute when the visible text is cut short) and :func:`infer_year` for the year.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["full_title", "infer_year", "is_ambiguous_title", "is_hub_title", "is_report_title", "reject_reason"]

YEAR = r"(?P<year>(?:19|20)\d{2})\s*年(?:度)?"
# what a report title must contain (after whitespace is collapsed)
ACCEPT = re.compile(
    r"信息公开(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)"
    r"|公开年报|信息公开.{0,6}年度报告"
    r"|^.{2,40}?(?:\d{4}\s*年)?(?:度)?年报(?:[（(][^）)]{1,12}[）)])?$"
)
# confusable siblings that sit right next to the real column (portals.md §1.1)
REJECT = re.compile(
    r"网站(?:工作)?年度报表|网站年报|网站.{0,4}报表|政府工作报告|预算|决算|统计年报|统计公报|企业年报"
    r"|大学|学院|学校|高校"
)
HUB = re.compile(r"年报汇总|年度报告汇总")
# titles that may or may not be an OGI annual report: fetched, and decided by the document itself (its own
# title, headings and tables): 政务公开工作年度报告, 工作年度报告 / 年报 without 信息公开, 图片版, cut titles
AMBIGUOUS = re.compile(
    r"政务公开.{0,8}(?:年度)?(?:工作)?(?:报告|年报)|(?:工作)?年度报告|年报|年度工作报告"
    r"|[（(]图片版[）)]"
)
CUT_HINT = re.compile(r"政府信息|信息公开|政务公开|公开工作|年度|年报")
TITLE_YEAR = re.compile(YEAR)
URL_YEAR_DIR = re.compile(r"/wzxxgknb/(?P<year>20\d{2})/")  # Huai'an direct-PDF tree: publication year
URL_YEAR_FOLDER = re.compile(r"/(?:gknb(?P<y1>20\d{2})|(?P<y2>20\d{2})nb?)/")
SPACES = re.compile(r"\s+")
ELLIPSIS = ("…", "...", "..", "⋯")


def collapse(text: str | None) -> str:
    """Whitespace collapsed and stripped (full-width spaces included)."""
    return SPACES.sub("", (text or "").replace("\u3000", " ")).strip()


def full_title(text: str | None, title_attr: str | None) -> str:
    """The link's full title: the ``title=`` attribute when the visible text is cut or shorter."""
    text = (text or "").strip()
    attr = (title_attr or "").strip()
    if attr and (not text or text.endswith(ELLIPSIS) or len(collapse(attr)) > len(collapse(text))):
        return attr
    return text or attr


def reject_reason(title: str | None) -> str | None:
    """Why a title is not an annual report ('confusable', 'not-report'), or None when it is one."""
    t = collapse(title)
    if not t:
        return "no-title"
    if REJECT.search(t):
        return "confusable"
    if ACCEPT.search(t):
        return None
    return "not-report"


def is_ambiguous_title(title: str | None) -> bool:
    """True when a title rejected as ``not-report`` may still be a report (its document decides): a
    政务公开/工作年度报告 or 年报 title without 信息公开, or a title cut short (…) after report words."""
    t = collapse(title)
    if not t or REJECT.search(t):
        return False
    if AMBIGUOUS.search(t):
        return True
    return t.endswith(ELLIPSIS) and bool(CUT_HINT.search(t))


def is_report_title(title: str | None) -> bool:
    """True when a link title names a 政府信息公开工作年度报告 (and none of its confusable siblings)."""
    return reject_reason(title) is None


def is_hub_title(title: str | None) -> bool:
    """True for a 年报汇总 page, on which every article link is a candidate."""
    return bool(HUB.search(collapse(title)))


def infer_year(
    title: str | None, url: str | None = None, published: str | date | None = None
) -> tuple[int | None, str | None]:
    """Report year and where it came from ('title' | 'url' | 'published'), or (None, None).

    A report covers the year *before* its publication: a ``/wzxxgknb/2024/`` path or a 2024-01-29 date means 2023.
    """
    m = TITLE_YEAR.search(collapse(title))
    if m:
        return int(m.group("year")), "title"
    if url:
        m = URL_YEAR_DIR.search(url)
        if m:
            return int(m.group("year")) - 1, "url"
        m = URL_YEAR_FOLDER.search(url)
        if m:
            return int(m.group("y1") or m.group("y2")), "url"
    if published:
        text = published.isoformat() if isinstance(published, date) else collapse(published)
        m = re.match(r"(20\d{2})", text)
        if m:
            return int(m.group(1)) - 1, "published"
    return None, None
