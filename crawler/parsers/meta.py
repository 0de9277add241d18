"""Report metadata and statutory sections from the readable text (spec/formats.md §2, portals.md §0, §1.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.parsers.normalize import clean_space, nfkc

_YEAR = r"(?P<year>(?:19|20)\d{2})\s*年(?:度)?"
_KIND = r"(?:政府)?信息公开(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)"
_TITLE1 = re.compile(rf"^(?P<agency>.{{2,60}}?)\s*{_YEAR}\s*{_KIND}")
_TITLE2 = re.compile(rf"^{_YEAR}\s*(?P<agency>.{{2,60}}?)\s*{_KIND}")
_TITLE_ANY = re.compile(rf"{_YEAR}.{{0,60}}?{_KIND}|{_KIND}")
_TITLE_NOISE = re.compile(r"^(?:#+\s*|标题[:：]\s*)|[_\-|｜].{0,20}$")
_SUFFIX_RE = re.compile(r"[（(](?:图片版|超链版|文字版|全文|修订版)[）)]")
_PERIOD_RE = re.compile(r"统计(?:期限|时限|时间|区间|期间)?[^。\n]{0,20}?(?P<year>20\d{2})\s*年\s*1\s*月\s*1\s*日")
_PERIOD2_RE = re.compile(r"(?P<year>20\d{2})\s*年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|—|-)\s*(?:(?P=year)\s*年\s*)?12\s*月\s*31\s*日")
_PUB_RE = re.compile(
    r"(?:发布(?:时间|日期)|信息提供日期|发文日期|成文日期|(?<!统计)(?<!当前)(?:日期|时间))\s*[:：]\s*(?P<y>20\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})"
)
_DATE_RE = re.compile(r"(?P<y>20\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})")
_AGGREGATE_RE = re.compile(r"(?:全|我)(?:区|市|县|省|州|旗)各(?:级|单位|部门|乡镇)|综合(?:整理|编制|汇总|全区|全市|全县|各)|汇总|全市各级|全区各|全县各|全省各|本行政区域|各级行政机关|全市政府信息公开|全区政府信息公开")
_SELF_RE = re.compile(r"本机关|本部门|本单位|本局|本委|本厅|本办")
_TITLE_YEAR = re.compile(rf"{_YEAR}.{{0,60}}?{_KIND}")
_TITLE_BARE = re.compile(rf"^(?!(?:政府)?信息公开)(?P<agency>.{{2,60}}?){_KIND}")  # an agency before the kind
# breadcrumbs, navigation and column chrome: never a title
_NAV_RE = re.compile(r"当前位置|您的位置|所在位置|首页\s*[>›»/]|[>›»]\s*\S+\s*[>›»]|^(?:首页|上一篇|下一篇|相关(?:链接|文章))")
_TRUNCATED_RE = re.compile(r"(?:\.\.\.|…+)$")
# a site's name after the title in <title>: `…_平潭综合实验区管理委员会`, ` - xx政府`, `|xx网`
_SITE_SUFFIX_RE = re.compile(r"\s*(?:[_|｜]|\s[-—–]\s|——).*$")
_HEAD_CHARS = 8000  # where an article's metadata block (索引号 table, 发布日期, 来源) is looked for
_BLOCK_LABELS = {
    "索引号": "index", "发布机构": "publisher", "发文机关": "issuer", "发文单位": "issuer", "信息来源": "source",
    "来源": "source", "发布日期": "published", "发布时间": "published", "成文日期": "written", "发文日期": "written",
    "信息提供日期": "written", "日期": "date", "时间": "date", "标题": "title",
}
_LABEL_ALT = "|".join(r"\s?".join(label) for label in sorted(_BLOCK_LABELS, key=len, reverse=True))
_BLOCK_RE = re.compile(
    # the value on the label's line, or on the next line when that line is not itself `label：…`
    rf"(?<![\u4e00-\u9fff])(?P<label>{_LABEL_ALT})[^\S\n]*[:：][^\S\n]*(?:\n(?![^\n]{{0,12}}[:：])[^\S\n]*)?"
    rf"(?P<value>[^\t\n]*?)"
    rf"(?=\s*(?:{_LABEL_ALT}|主题分类|栏目|文\s?号|发文字号|有\s?效\s?性|浏览次数|字号)\s*[:：]|\t|\n|$)"
)
_NOT_AGENCY = {"无", "暂无", "本站", "本网", "原创", "-", "—", "/"}

SECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("s1.overview", r"总体情况"),
    ("s2.proactive", r"主动公开政府信息(?:的)?情况"),
    ("s3.requests", r"收到和处理政府信息公开申请(?:的)?情况"),
    ("s4.review_litigation", r"(?:政府信息公开)?(?:行政(?:法)?复议[、和及]?\s*行政诉讼|被申请行政复议[、和及]?(?:提起)?行政诉讼|因政府信息公开(?:工作|申请)?(?:被)?申请行政复议)"),
    ("s5.problems", r"(?:政府信息公开工作)?存在的?(?:主要)?问题(?:及|和)改进(?:情况|措施)"),
    ("s6.other", r"其他需要报告的事项"),
)
_HEAD_PREFIX_RE = re.compile(
    r"(?:^|[\n\s。;；])[#\s]*(?:第?[一二三四五六七八九十]{1,2}\s*[、.．]|[（(][一二三四五六七八九十]{1,2}[）)])\s*"
    r"(?:政府信息公开工作)?(?:关于)?$"
)
_SECTION_RES = [(key, re.compile(pat + r"(?:的?情况)?")) for key, pat in SECTION_PATTERNS]


def metadata_block(text: str) -> dict[str, str]:
    """Given the readable text, return the fields of the article's metadata block near its top — the 索引号
    table and the 发布机构 / 来源 / 发布日期 lines — as {field: value}, the first value of each field kept
    (fields: index, publisher, issuer, source, published, written, date, title)."""
    out: dict[str, str] = {}
    for m in _BLOCK_RE.finditer(text[:_HEAD_CHARS]):
        field = _BLOCK_LABELS[re.sub(r"\s", "", m.group("label"))]
        value = clean_space(m.group("value")).strip(" ，,;；")
        if value and field not in out:
            out[field] = value
    return out


def clean_title(hint: str | None) -> str | None:
    """Given a title hint (meta ArticleTitle, <title>, a link text), return it without the site's name after
    it (`…_平潭综合实验区管理委员会`, ` - xx政府`) and without a trailing ellipsis; None when nothing is left."""
    if not hint:
        return None
    t = clean_space(hint)
    parts = _SITE_SUFFIX_RE.split(t, maxsplit=1)
    t = (parts[0] if parts and parts[0].strip() else t).strip()
    return t or None


def _block_agency(block: dict[str, str]) -> str | None:
    for field in ("publisher", "issuer", "source"):
        value = block.get(field)
        if value and value not in _NOT_AGENCY and 2 <= len(value) <= 40:
            return value.split(" ")[0]
    return None


@dataclass(slots=True)
class Meta:
    title: str | None
    agency: str | None
    year: int | None
    year_source: str | None
    published: str | None
    scope: str


def find_title(text: str, hint: str | None) -> str | None:
    """Given the readable text and a title hint, return the report's own title.

    The hint first when it is a whole report title (year and kind, not cut short): readers give only the
    article's own metadata as hint (ArticleTitle / og:title / the content heading / <title> without the site,
    a PDF or DOCX title that the text itself prints). Else the first line near the top shaped like a report
    title with a year — never a breadcrumb or navigation line, never a bare column name (`政府信息公开年报`);
    else the hint if it names the kind; else a line with an agency before the kind."""
    hint_title = clean_title(hint)
    if hint_title and _TITLE_YEAR.search(hint_title) and not _TRUNCATED_RE.search(hint_title):
        return hint_title
    # only lines that can be (part of) a title are normalised: the rest become a marker that never matches
    lines = [
        _TITLE_NOISE.sub("", clean_space(line)).strip() if len(line) < 200 and ("公开" in line or "报" in line) else "。"
        for line in text.split("\n")[:200]
    ]
    bare = None
    for i, line in enumerate(lines):
        if "。" in line or len(line) > 90 or _NAV_RE.search(line):
            continue
        if 8 <= len(line) and _TITLE_YEAR.search(line):
            return line
        # a title wrapped over two lines (PDF text): '2024 年上海市科委政府信息公开工作' + '年度报告'
        if i + 1 < len(lines) and re.search(r"20\d{2}\s*年", line):
            joined = line + lines[i + 1]
            if len(joined) <= 90 and "。" not in joined and _TITLE_YEAR.search(joined):
                return joined
        if bare is None and i < 60 and 8 <= len(line) and _TITLE_BARE.search(line):
            bare = line
    if hint_title and _TITLE_ANY.search(hint_title):
        return hint_title
    return bare


def split_title(title: str) -> tuple[str | None, int | None]:
    """(agency, year) from a title such as '焦作市人民政府办公室 2021 年政府信息公开工作年度报告'."""
    t = _SUFFIX_RE.sub("", clean_space(title)).strip()
    for pat in (_TITLE2, _TITLE1):
        m = pat.search(t)
        if m:
            agency = m.group("agency").strip(" ，,：:").removeprefix("关于")
            agency = re.sub(r"^(?:标题[:：]\s*)", "", agency)
            if agency in ("政府", "本机关", "本单位", "本部门"):  # `2019年政府信息公开…`: no agency named
                agency = ""
            return (agency or None), int(m.group("year"))
    m = re.search(_YEAR, t)
    return None, (int(m.group("year")) if m else None)


def find_published(text: str, hint: str | None, block: dict[str, str] | None = None) -> str | None:
    """Given the readable text, a date hint (meta PubDate) and the metadata block, return the publication
    date as YYYY-MM-DD: the block's 发布日期 / 发布时间, else the hint, else its 成文日期, else a labelled
    date near the top of the text."""
    block = metadata_block(text) if block is None else block
    for source in (block.get("published"), hint, block.get("written"), block.get("date")):
        if source and (day := _ymd(_DATE_RE.search(nfkc(source)))):
            return day
    return _ymd(_PUB_RE.search(text[:3000]))


def _ymd(m: re.Match[str] | None) -> str | None:
    if m is None:
        return None
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def find_meta(
    text: str,
    title_hint: str | None,
    published_hint: str | None,
    preface: str,
    overview_head: str = "",
    agency_hint: str | None = None,
) -> Meta:
    """Given the readable text and a reader's hints, return the report's metadata: title (:func:`find_title`),
    agency from the title, else the metadata block (发布机构 / 发文机关 / 来源), else `agency_hint` (meta
    ContentSource / SiteName), else None (the source entry's); year; publication date; scope."""
    title = find_title(text, title_hint)
    agency, year = split_title(title) if title else (None, None)
    block = metadata_block(text)
    if agency is None:
        agency = _block_agency(block) or (clean_space(agency_hint) if agency_hint else None)
    year_source = "title" if year else None
    if year is None:
        m = _PERIOD_RE.search(text[:20000]) or _PERIOD2_RE.search(text[:20000])
        if m:
            year, year_source = int(m.group("year")), "body"
    if year is None:  # a title inside a sentence: '现公布区统计局2023年政府信息公开工作年度报告。'
        m = re.search(rf"{_YEAR}\s*{_KIND}", clean_space(text[:3000]))
        if m:
            year, year_source = int(m.group("year")), "body"
    published = find_published(text, published_hint, block)
    if year is None and published:
        year, year_source = int(published[:4]) - 1, "published"
    scope = "unknown"
    if _AGGREGATE_RE.search(preface) or _AGGREGATE_RE.search(overview_head):
        scope = "aggregate"
    elif _SELF_RE.search(preface):
        scope = "self"
    return Meta(title, agency, year, year_source, published, scope)


def find_sections(text: str) -> tuple[dict[str, str], str]:
    """The six statutory sections by title keywords (not by ordinal), and the preface before the first one."""
    found: list[tuple[int, int, str]] = []
    pos = 0
    for key, rx in _SECTION_RES:
        # find the title keywords first (fast), then require a heading ordinal right before them
        for m in rx.finditer(text, pos):
            head = _HEAD_PREFIX_RE.search(text, max(0, m.start() - 24), m.start())
            if head:
                found.append((head.start(), m.end(), key))
                pos = m.end()
                break
    found.sort()
    sections: dict[str, str] = {}
    for i, (_start, end, key) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(text)
        body = text[end:stop].strip(" \n\t:：。")
        sections[key] = body
    preface = text[: found[0][0]] if found else text[:1500]
    return sections, preface
