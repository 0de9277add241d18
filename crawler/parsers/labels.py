"""Label patterns and format anchors (spec/formats.md §1, §8): given a normalised label or text, return its key.

Everything here is a pure lookup over constants: which table 三 row, table 二 row or column a label names, which
format a document's anchors point to. Labels are matched on keyword cores after :func:`norm_label` (§8.1).
"""

from __future__ import annotations

import re
from functools import lru_cache

from crawler.parsers.normalize import norm_label, strip_numbering, strip_row4_note

# Label tables (spec §8.2). Order matters: the first matching core wins.
T3_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k)
    for p, k in (
        (r"本年新收|新收.*申请数量", "t3.received_new"),
        (r"上年结转|上年度结转", "t3.carried_in"),
        (r"结转下(?:一)?年|继续办理", "t3.carried_out"),
        (r"总计|合计", "t3.outcome.total"),
        (r"予以公开", "t3.outcome.granted"),
        (r"部分公开", "t3.outcome.partial"),
        (r"国家秘密", "t3.outcome.withheld.state_secret"),
        (r"法律.?行政法规禁止|法规禁止", "t3.outcome.withheld.law_prohibited"),
        (r"三安全一稳定|国家安全.{0,3}公共安全|危及", "t3.outcome.withheld.security_stability"),
        (r"第三方", "t3.outcome.withheld.third_party"),
        (r"内部事务", "t3.outcome.withheld.internal_affairs"),
        (r"过程性", "t3.outcome.withheld.process_info"),
        (r"执法案卷", "t3.outcome.withheld.enforcement_file"),
        (r"查询事项", "t3.outcome.withheld.admin_query"),
        (r"不掌握", "t3.outcome.unavailable.not_held"),
        (r"另行制作|现成信息", "t3.outcome.unavailable.needs_creation"),
        (r"不明确", "t3.outcome.unavailable.unclear"),
        (r"信访|举报投诉", "t3.outcome.not_processed.petition"),
        (r"重复申请", "t3.outcome.not_processed.duplicate"),
        (r"出版物", "t3.outcome.not_processed.publication"),
        (r"大量反复", "t3.outcome.not_processed.excessive"),
        (r"重新出具|确认或", "t3.outcome.not_processed.confirm_reissue"),
        (r"不补正", "t3.outcome.other.no_correction"),
        (r"缴纳费用|收费通知", "t3.outcome.other.unpaid_fee"),
    )
)
T3_GROUP_LABELS = (
    ("不予公开", "withheld"),
    ("无法提供", "unavailable"),
    ("不予处理", "not_processed"),
    ("其他处理", "other"),
)
T3_COL_LABELS: tuple[tuple[str, str], ...] = (
    ("自然人", "natural"),
    ("商业", "commercial"),
    ("科研", "research"),
    ("公益", "nonprofit"),
    ("社会组织", "nonprofit"),
    ("法律服务", "legal_service"),
    ("其他", "other_org"),
    ("总计", "total"),
    ("合计", "total"),
)
T2_ROW_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k)
    for p, k in (
        (r"^规章$|^规章[^制]", "t2.regulation"),
        (r"规范性文件", "t2.normative_doc"),
        (r"行政许可", "t2.licensing"),
        (r"对外管理服务", "t2.other_service"),
        (r"行政处罚", "t2.penalty"),
        (r"行政强制", "t2.coercion"),
        (r"事业性收费", "t2.admin_fee"),
        (r"集中采购", "t2.procurement"),
    )
)
# header core → (format, column key)
T2_HEADERS: tuple[tuple[str, str, str], ...] = (
    ("本年制发", "gov2021", "issued"),
    ("本年废止", "gov2021", "repealed"),
    ("现行有效", "gov2021", "in_force"),
    ("本年收费金额", "gov2021", "amount_wan"),
    ("收费金额", "gov2021", "amount_wan"),
    # typos printed in real tables (`本年废纸件数`, `先行有效件数`): the cores that survive them
    ("制发件数", "gov2021", "issued"),
    ("废止件数", "gov2021", "repealed"),
    ("废纸件数", "gov2021", "repealed"),
    ("有效件数", "gov2021", "in_force"),
    ("本年新制作", "gov2019", "made_new"),
    ("本年新公开", "gov2019", "published_new"),
    ("对外公开总", "gov2019", "published_total"),
    ("上一年项目", "gov2019", "prev_items"),
    ("本年增/减", "gov2019", "delta"),
    ("增/减", "gov2019", "delta"),
    ("增减", "gov2019", "delta"),
    ("本年增", "gov2019", "delta"),
    ("本年处理决定", "gov2021", "decisions"),
    ("处理决定", "", "decisions"),
    ("采购项目", "gov2019", "items"),
    ("采购总金额", "gov2019", "amount"),
)
GOV2021_ANCHORS = ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额", "逾期不补正", "逾期未按收费通知")
GOV2019_ANCHORS = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减", "政府集中采购", "第二十条第(九)项")
PRE2019_ANCHORS = (
    "依申请公开政府信息情况", "依申请公开工作情况", "收费及减免", "申请总数", "同意公开", "不同意公开", "属于已主动公开范围",
    "咨询处理", "政府信息公开情况统计表", "依申请公开信息总数", "当面申请", "答复总数",
)
POST2019_ANCHORS = ("本列数据的勾稽关系", "申请人情况", "未经复议直接起诉")
T4_HEADER_RE = re.compile(r"行政复议|行政诉讼|未经复议|复议后起诉|结果维持|尚未审结")
# a line of page chrome: script source, channel lists, links
CHROME_LINE_RE = re.compile(r"chnl(?:id|name)\s*:|^\s*(?:var|function|let|const)\s|[{}]\s*$|^\s*,?\s*\{|https?://")
CHROME_WORDS = ("chnl", "var ", "function", "let ", "const ", "{", "}", "http")  # some line may be chrome
# table 四 printed as one table per group: the group a heading names (first match wins)
T4_GROUP_HEADINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"复议后起诉"), "t4.litigation_after_review"),
    (re.compile(r"未经复议|直接起诉"), "t4.litigation_direct"),
    (re.compile(r"行政复议"), "t4.review"),
)
# the table headings and labels that say a table is there (THE RULE: then every key is a value or unknown)
TABLE_SIGNS: dict[str, re.Pattern[str]] = {
    "t2": re.compile(r"[一二三四五六七]、主动公开政府信息情况|第二十条第\(一\)项|信息内容(?:本年制发|本年新制作)"),
    "t3": re.compile(r"[一二三四五六七]、收到和处理政府信息公开申请情况|本列数据的勾稽关系|本年新收政府信息公开申请"),
    "t4": re.compile(
        r"[一二三四五六七]、(?:因)?政府信息公开(?:申请)?(?:提起)?行政法?复议|结果维持结果纠正|未经复议直接起诉"
    ),
}
FOOTER_RE = re.compile(r"^\s*(?:[-—–―]+\s*\d{1,3}\s*[-—–―]+|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$")

# Stream splitting: where a new table row starts in text that lost its line breaks (`…秘密00000002.其他法律…`).
LEAF_STARTS = (
    (1, "属于国家秘密"), (2, "其他法律"), (3, "危及"), (4, "保护第三方"), (5, "属于三类"), (6, "属于四类"),
    (7, "属于行政执法"), (8, "属于行政查询"), (1, "本机关不掌握"), (2, "没有现成"), (3, "补正后"),
    (1, "信访举报"), (2, "重复申请"), (3, "要求提供公开出版物"), (4, "无正当理由大量"), (5, "要求行政机关确认"),
    (1, "申请人无正当理由"), (2, "申请人逾期未按"), (3, "其他(?=[\\d\\s(（])"),
)
STREAM_SPLIT_RE = re.compile(
    "|".join(
        [f"{n}[.、．]\\s*{w}" for n, w in LEAF_STARTS]
        + [
            r"[一二三四]、\s*(?:本年新收|上年结转|本年度|结转下)",
            r"[二三四]、\s*(?:收到和处理|主动公开政府信息)",
            # group labels, also printed with spaces inside (`（三） 不予 公开`)
            r"[(（][一二三四五六七][)）]\s*(?:"
            + "|".join(r"\s*".join(w) for w in ("予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "其他处理", "总计"))
            + ")",
            r"第二十条第",
            r"规章(?=\s*[\d-])",
            r"(?<!行政)规范性文件(?=\s*[\d-])",
            r"行政规范性文件(?=\s*[\d-])",
            r"(?:行政许可|其他对外管理服务事项|行政处罚|行政强制|行政事业性收费|政府集中采购)(?=\s*[\d+-])",
            r"[四五]、\s*(?:因?政府信息公开(?:申请)?(?:提起)?)?(?:行政法?复议|存在的?主要问题|其他需要报告)",
            r"(?<=\d)[四五六七八]、",  # a section heading right after a table's last digits
            r"(?<=\d)(?:19|20)\d{2}\s*年",  # a year opening the prose right after a table's last digits
        ]
    )
)


@lru_cache(maxsize=4096)
def classify_t3(label: str, group: str | None) -> str | None:
    """Given a normalised row label and its group context, return the table 三 row key it names, or None."""
    if not label:
        return None
    label = strip_row4_note(label)
    for rx, key in T3_LABELS:
        if rx.search(label):
            if key == "t3.outcome.total" and ("申请人情况" in label or "勾稽" in label):
                return None
            return key
    if "其他处理" in label:
        return "t3.outcome.other.sum"
    leaf = strip_numbering(label)
    if leaf in ("其他", "其他情形") and group == "other":
        return "t3.outcome.other.misc"
    return None


@lru_cache(maxsize=4096)
def group_of(label: str) -> str | None:
    """Given a normalised label, return the table 三 outcome group it opens (`withheld`, …), or None."""
    for word, group in T3_GROUP_LABELS:
        if word in label:
            return group
    return None


def t4_group_of(label: str) -> str | None:
    """Given a normalised heading, return the table 四 group it names (`t4.review`, …), or None."""
    for rx, key in T4_GROUP_HEADINGS:
        if rx.search(label):
            return key
    return None


def tables_signed(text: str) -> set[str]:
    """Given a document's text, return the tables (`t2`, `t3`, `t4`) whose heading or labels it prints."""
    flat = norm_label(text)
    return {t for t, rx in TABLE_SIGNS.items() if rx.search(flat)}


def t2_row_key(leaf: str) -> str | None:
    """Given a table 二 row label without its numbering, return its row key (`t2.licensing`, …), or None."""
    for rx, key in T2_ROW_LABELS:
        if rx.search(leaf):
            return key
    return None


def is_row_label(label: str) -> bool:
    """Given a normalised label, return whether it names a table 二 or 三 row (or a table 三 group)."""
    leaf = strip_numbering(label)
    if t2_row_key(leaf) is not None:
        return True
    return classify_t3(label, None) is not None or leaf in ("其他",) or any(w in label for w, _g in T3_GROUP_LABELS)


def has_chrome(text: str) -> bool:
    """Given a document's text, return whether any line of it may be page chrome (a cheap pre-check)."""
    return any(w in text for w in CHROME_WORDS)


def strip_chrome(text: str) -> str:
    """Given a document's text, return it without page-chrome lines (scripts, channel lists, URLs), whose words
    (`政府集中采购项目的目录…`) are no anchor of any format."""
    if not has_chrome(text):
        return text
    return "\n".join(line for line in text.split("\n") if not CHROME_LINE_RE.search(line))


def doc_format_hint(text: str) -> str:
    """Given a document's text, return the format its anchors name (`gov2021`, `gov2019`) or `none` (§1)."""
    flat = norm_label(strip_chrome(text))
    if any(a in flat for a in GOV2021_ANCHORS):
        return "gov2021"
    if any(a in flat for a in GOV2019_ANCHORS):
        return "gov2019"
    return "none"


def is_pre2019(text: str) -> bool:
    """Given a document's text, return whether it uses the 2007-regulation vocabulary and no 2019+ anchor (§1.3)."""
    flat = norm_label(text)
    return not any(a in flat for a in POST2019_ANCHORS) and sum(a in flat for a in PRE2019_ANCHORS) >= 2
