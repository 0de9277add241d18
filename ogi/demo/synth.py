"""Synthetic 政府信息公开工作年度报告: consistent random numbers and renderers into real-world layouts.

A :class:`SynthReport` holds every printed table 二/三/四 cell of one format (spec/formats.md §3–§4) with
numbers that satisfy the identities I1–I4 (§5). :func:`ogi.demo.render.render` writes it the way portals
publish reports:

- ``official_html``: the official table markup (rowspan/colspan exactly as §3.2/§3.3/§4), UTF-8 or GBK
  (``encoding="gbk"`` declares ``charset=gb2312`` and uses GBK-only characters in the agency name);
- ``word_html``: HTML exported from Word (``MsoNormal``, ``<o:p>``, ``<span>``-split labels, ``&nbsp;``
  blanks, ``<br>`` inside header cells);
- ``tsv_text``: the flattened tab-separated text of the seed (``tests/fixtures/real/001.txt``), with the
  drift of leading empty cells;
- ``pdf_text``: text copied out of a PDF (space separated, some labels on their own line above their
  numbers, page footers such as ``— 3 —`` inside the tables);
- ``markdown_text``: markdown pipe tables.

Every layout has the title line, a preface with the statistical period, the six section headings and
narrative text with numbers that are not cells, including a 总体情况 sentence (新收…件, 办结…件,
…件结转下年度) that agrees with table 三.

Blanks: in the HTML and markdown layouts a blank cell is printed empty (``""``) or as its raw text; in the
two plain-text layouts an empty blank cannot be told apart from a lost cell, so it is printed as ``-``
there, and a blank total whose parts are non-zero (a *derived* total, as in report 002) is printed as its
number. :func:`to_parsed_json` takes the layout into account.
"""

from __future__ import annotations

import logging
import random
import zlib
from dataclasses import dataclass, field
from typing import Any

from crawler.parsers.keys import (
    T3_C6,
    T3_COLS,
    T3_GROUPS,
    T3_ROWS,
    T4_COLS,
    T4_GROUPS,
    t2_keys,
    t3_keys,
)

logger = logging.getLogger(__name__)

LAYOUTS: tuple[str, ...] = ("official_html", "word_html", "tsv_text", "pdf_text", "markdown_text")
FORMATS: tuple[str, ...] = ("gov2021", "gov2019")
TEXT_LAYOUTS: frozenset[str] = frozenset({"tsv_text", "pdf_text"})
# Layouts that cannot carry a printed-blank 总计 beside non-zero parts: the extraction may have lost it, so the
# parser leaves it unknown rather than deriving it (real report 004). Such totals are printed as numbers there.
NO_DERIVED_BLANK_LAYOUTS: frozenset[str] = TEXT_LAYOUTS | {"markdown_text"}

# --- official labels (spec §3–§4) -----------------------------------------------------------------------

SECTION_TITLES: dict[str, str] = {
    "s1.overview": "一、总体情况",
    "s2.proactive": "二、主动公开政府信息情况",
    "s3.requests": "三、收到和处理政府信息公开申请情况",
    "s4.review_litigation": "四、政府信息公开行政复议、行政诉讼情况",
    "s5.problems": "五、存在的主要问题及改进情况",
    "s6.other": "六、其他需要报告的事项",
}

T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_COL_LABELS: dict[str, str] = {
    "natural": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "nonprofit": "社会公益组织",
    "legal_service": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}
T3_TOP_OUTCOME = "三、本年度办理结果"
# row key -> (group label or None, own label); group labels head a rowspan block in column C2.
T3_LABELS: dict[str, tuple[str | None, str]] = {
    "t3.received_new": (None, "一、本年新收政府信息公开申请数量"),
    "t3.carried_in": (None, "二、上年结转政府信息公开申请数量"),
    "t3.outcome.granted": (None, "（一）予以公开"),
    "t3.outcome.partial": (None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    "t3.outcome.withheld.state_secret": ("（三）不予公开", "1.属于国家秘密"),
    "t3.outcome.withheld.law_prohibited": ("（三）不予公开", "2.其他法律行政法规禁止公开"),
    "t3.outcome.withheld.security_stability": ("（三）不予公开", "3.危及“三安全一稳定”"),
    "t3.outcome.withheld.third_party": ("（三）不予公开", "4.保护第三方合法权益"),
    "t3.outcome.withheld.internal_affairs": ("（三）不予公开", "5.属于三类内部事务信息"),
    "t3.outcome.withheld.process_info": ("（三）不予公开", "6.属于四类过程性信息"),
    "t3.outcome.withheld.enforcement_file": ("（三）不予公开", "7.属于行政执法案卷"),
    "t3.outcome.withheld.admin_query": ("（三）不予公开", "8.属于行政查询事项"),
    "t3.outcome.unavailable.not_held": ("（四）无法提供", "1.本机关不掌握相关政府信息"),
    "t3.outcome.unavailable.needs_creation": ("（四）无法提供", "2.没有现成信息需要另行制作"),
    "t3.outcome.unavailable.unclear": ("（四）无法提供", "3.补正后申请内容仍不明确"),
    "t3.outcome.not_processed.petition": ("（五）不予处理", "1.信访举报投诉类申请"),
    "t3.outcome.not_processed.duplicate": ("（五）不予处理", "2.重复申请"),
    "t3.outcome.not_processed.publication": ("（五）不予处理", "3.要求提供公开出版物"),
    "t3.outcome.not_processed.excessive": ("（五）不予处理", "4.无正当理由大量反复申请"),
    "t3.outcome.not_processed.confirm_reissue": ("（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    "t3.outcome.other.no_correction": (
        "（六）其他处理",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ),
    "t3.outcome.other.unpaid_fee": (
        "（六）其他处理",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ),
    "t3.outcome.other.misc": ("（六）其他处理", "3.其他"),
    "t3.outcome.other.sum": (None, "（六）其他处理"),
    "t3.outcome.total": (None, "（七）总计"),
    "t3.carried_out": (None, "四、结转下年度继续办理"),
}
T4_GROUP_LABELS = ("行政复议", "未经复议直接起诉", "复议后起诉")
T4_COL_LABELS: dict[str, str] = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}

# table 二 blocks: (caption, header labels after 信息内容, [(row label, row key)], column keys)
T2_BLOCKS: dict[
    str, tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]], ...]
] = {
    "gov2021": (
        (
            "第二十条第（一）项",
            ("本年制发件数", "本年废止件数", "现行有效件数"),
            (("规章", "t2.regulation"), ("行政规范性文件", "t2.normative_doc")),
            ("issued", "repealed", "in_force"),
        ),
        ("第二十条第（五）项", ("本年处理决定数量",), (("行政许可", "t2.licensing"),), ("decisions",)),
        (
            "第二十条第（六）项",
            ("本年处理决定数量",),
            (("行政处罚", "t2.penalty"), ("行政强制", "t2.coercion")),
            ("decisions",),
        ),
        (
            "第二十条第（八）项",
            ("本年收费金额（单位：万元）",),
            (("行政事业性收费", "t2.admin_fee"),),
            ("amount_wan",),
        ),
    ),
    "gov2019": (
        (
            "第二十条第（一）项",
            ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
            (("规章", "t2.regulation"), ("规范性文件", "t2.normative_doc")),
            ("made_new", "published_new", "published_total"),
        ),
        (
            "第二十条第（五）项",
            ("上一年项目数量", "本年增/减", "处理决定数量"),
            (("行政许可", "t2.licensing"), ("其他对外管理服务事项", "t2.other_service")),
            ("prev_items", "delta", "decisions"),
        ),
        (
            "第二十条第（六）项",
            ("上一年项目数量", "本年增/减", "处理决定数量"),
            (("行政处罚", "t2.penalty"), ("行政强制", "t2.coercion")),
            ("prev_items", "delta", "decisions"),
        ),
        (
            "第二十条第（八）项",
            ("上一年项目数量", "本年增/减"),
            (("行政事业性收费", "t2.admin_fee"),),
            ("prev_items", "delta"),
        ),
        (
            "第二十条第（九）项",
            ("采购项目数量", "采购总金额"),
            (("政府集中采购", "t2.procurement"),),
            ("items", "amount"),
        ),
    ),
}

_AGENCY_PLACES = (
    "焦作市",
    "平潭综合实验区",
    "南京市秦淮区",
    "洛阳市",
    "广州市荔湾区",
    "绍兴市上虞区",
    "丽水市",
    "宿迁市",
)
_AGENCY_UNITS = (
    "人民政府办公室",
    "人民政府",
    "农业农村局",
    "生态环境局",
    "自然资源和规划局",
    "市场监督管理局",
    "教育局",
    "人力资源和社会保障局",
)
# Characters that are in GBK but not in GB2312: a page declaring gb2312 may still use them.
GBK_ONLY_PLACES = ("喆湾镇", "堃山街道", "昇平乡")


@dataclass
class SynthReport:
    """One synthetic report: every printed cell of its format plus the text around the tables."""

    fmt: str  # gov2021 | gov2019
    agency: str
    year: int
    published: str  # YYYY-MM-DD
    title: str
    scope: str  # self | aggregate
    cells: dict[str, int | float]  # every printed t2/t3/t4 key of the format (I1–I4 hold for generated ones)
    blanks: set[str] = field(default_factory=set)  # keys printed blank / '-' / '/' (raw text in `raw`)
    sections: dict[str, str] = field(default_factory=dict)  # s1.overview … s6.other, paragraphs split by \n
    raw: dict[str, str] = field(default_factory=dict)  # printed text where it is not the plain number

    def keys(self) -> list[str]:
        """Printed cell keys of the report's format, in table order."""
        return printed_keys(self.fmt)


def printed_keys(fmt: str) -> list[str]:
    """Every printed t2/t3/t4 key of a format (gov2021: 200, gov2019: 198)."""
    t4 = [f"{g}.{c}" for g in T4_GROUPS for c in T4_COLS]
    return t2_keys(fmt) + t3_keys(fmt) + t4


# --- generation --------------------------------------------------------------------------------------------


def _rand_count(rng: random.Random, mode: str, *, scale: int = 1) -> int:
    if mode == "zero":
        return 0
    if mode == "sparse":
        return 0 if rng.random() < 0.7 else rng.randint(1, 20 * scale)
    if mode == "dense":
        return rng.randint(0, 60 * scale)
    return 0 if rng.random() < 0.3 else rng.randint(0, 3000 * scale)  # large


def _money(rng: random.Random, mode: str) -> float:
    if mode == "zero" or rng.random() < 0.3:
        return 0.0
    hi = 50_000 if mode == "large" else 500
    return round(rng.randint(0, hi * 100) / 100, 2)


def _gen_t3(rng: random.Random, fmt: str, mode: str) -> dict[str, int]:
    rows = T3_ROWS[fmt]
    leaves = [r for r in rows if r.startswith("t3.outcome.") and r != "t3.outcome.total"]
    cells: dict[str, int] = {}
    for col in T3_C6:
        col_mode = mode
        if mode != "zero" and col != "natural" and rng.random() < 0.5:
            col_mode = "zero"
        total = 0
        for r in leaves:
            v = _rand_count(rng, col_mode)
            cells[f"{r}.{col}"] = v
            total += v
        carried_out = _rand_count(rng, "sparse" if col_mode != "zero" else "zero")
        carried_in = rng.randint(0, total + carried_out) if col_mode != "zero" and rng.random() < 0.6 else 0
        cells[f"t3.outcome.total.{col}"] = total
        cells[f"t3.carried_out.{col}"] = carried_out
        cells[f"t3.carried_in.{col}"] = carried_in
        cells[f"t3.received_new.{col}"] = total + carried_out - carried_in
    for r in rows:
        cells[f"{r}.total"] = sum(cells[f"{r}.{c}"] for c in T3_C6)
    return {k: cells[k] for k in t3_keys(fmt)}


def _gen_t4(rng: random.Random, mode: str) -> dict[str, int]:
    cells: dict[str, int] = {}
    for g in T4_GROUPS:
        parts = [_rand_count(rng, "sparse" if mode != "zero" else "zero") for _ in T4_COLS[:4]]
        for c, v in zip(T4_COLS[:4], parts, strict=True):
            cells[f"{g}.{c}"] = v
        cells[f"{g}.total"] = sum(parts)
    return cells


def _gen_t2(rng: random.Random, fmt: str, mode: str) -> tuple[dict[str, int | float], dict[str, str]]:
    cells: dict[str, int | float] = {}
    raw: dict[str, str] = {}
    big = 100 if mode == "large" else 1
    if fmt == "gov2021":
        for r in ("t2.regulation", "t2.normative_doc"):
            issued = _rand_count(rng, mode)
            cells[f"{r}.issued"] = issued
            cells[f"{r}.repealed"] = _rand_count(rng, mode)
            cells[f"{r}.in_force"] = issued + _rand_count(rng, mode, scale=10)
        for r in ("t2.licensing", "t2.penalty", "t2.coercion"):
            cells[f"{r}.decisions"] = _rand_count(rng, mode, scale=big)
        cells["t2.admin_fee.amount_wan"] = _money(rng, mode)
    else:
        for r in ("t2.regulation", "t2.normative_doc"):
            made = _rand_count(rng, mode)
            cells[f"{r}.made_new"] = made
            cells[f"{r}.published_new"] = made
            cells[f"{r}.published_total"] = made + _rand_count(rng, mode, scale=10)
        for r in ("t2.licensing", "t2.other_service", "t2.penalty", "t2.coercion", "t2.admin_fee"):
            prev = _rand_count(rng, mode)
            cells[f"{r}.prev_items"] = prev
            delta = 0 if mode == "zero" or rng.random() < 0.4 else rng.randint(-prev, 40)
            cells[f"{r}.delta"] = delta
            if r != "t2.admin_fee":
                cells[f"{r}.decisions"] = _rand_count(rng, mode, scale=big)
        items = _rand_count(rng, mode)
        cells["t2.procurement.items"] = items
        if items and rng.random() < 0.5:
            yuan = rng.randint(1, 500_000) * 100
            cells["t2.procurement.amount"] = yuan / 10_000
            raw["t2.procurement.amount"] = f"{yuan}元"
        else:
            cells["t2.procurement.amount"] = _money(rng, mode) if items else 0.0
    return cells, raw


def _pick_agency(rng: random.Random) -> str:
    return rng.choice(_AGENCY_PLACES) + rng.choice(_AGENCY_UNITS)


def _make_sections(rng: random.Random, report: SynthReport) -> dict[str, str]:
    c = report.cells
    y = report.year
    web = rng.randint(300, 20000)
    rn, done, co = (
        c.get(k) or 0 for k in ("t3.received_new.total", "t3.outcome.total.total", "t3.carried_out.total")
    )
    overview = [
        f"{y}年，{report.agency}深入贯彻落实《中华人民共和国政府信息公开条例》，持续提升政务公开工作水平。",
        f"（一）主动公开方面。全年通过政府网站发布信息{web}条，通过政务新媒体发布信息{rng.randint(50, 900)}余条，"
        f"开设并维护专栏{rng.randint(2, 30)}个，回应公众关切{rng.randint(1, 40)}次。",
        f"（二）依申请公开方面。{y}年新收政府信息公开申请{rn}件，办结{done}件，{co}件结转下年度继续办理；"
        f"办理答复平均用时{rng.randint(3, 15)}个工作日，按时办结率100%。",
        "（三）政府信息管理方面。严格执行公文公开属性源头认定制度，"
        f"主动公开率达{rng.randint(60, 99)}.{rng.randint(0, 9)}%。",
        f"（四）政府信息公开平台建设方面。门户网站全年访问量{rng.randint(10, 900)}万人次。",
        f"（五）监督保障方面。组织业务培训{rng.randint(1, 9)}次，参训{rng.randint(20, 400)}人次。",
    ]
    sections = {
        "s1.overview": "\n".join(overview),
        "s2.proactive": f"本年度共主动公开政府信息{web}条，具体情况如下表。",
        "s3.requests": "本年度收到和处理政府信息公开申请情况如下表。",
        "s4.review_litigation": "本年度政府信息公开行政复议、行政诉讼情况如下表。",
        "s5.problems": (
            f"{y}年度政府信息公开工作仍存在一些不足：一是政策解读形式较为单一；二是基层公开标准化水平有待提升。\n"
            f"改进情况：{y + 1}年将组织{rng.randint(2, 8)}次专题培训，进一步提升工作人员业务能力。"
        ),
        "s6.other": (
            f"{y}年度未收取信息处理费。"
            if rng.random() < 0.5
            else f"{y}年度收取信息处理费0元，无其他需要报告的事项。"
        ),
    }
    return sections


def random_report(rng: random.Random, fmt: str = "gov2021", **kw: Any) -> SynthReport:
    """A random, consistent report of format ``fmt`` (I1–I4 hold on every printed cell).

    Keywords (all optional): ``agency``, ``year``, ``published``, ``scope`` ('self'|'aggregate'),
    ``mode`` ('zero'|'sparse'|'dense'|'large'), ``blank_rate`` (share of zero cells printed blank / dash),
    ``blank_styles`` (raw texts used for those blanks), ``derived_totals`` (print some non-zero 总计 cells of
    outcome rows blank, as report 002 does: their value is derived from the parts).
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format: {fmt!r} (expected one of {FORMATS})")
    mode = kw.get("mode") or rng.choice(("zero", "sparse", "sparse", "sparse", "dense", "large"))
    year = int(kw.get("year") or (rng.randint(2021, 2025) if fmt == "gov2021" else rng.choice((2019, 2020))))
    agency = kw.get("agency") or _pick_agency(rng)
    published = kw.get("published") or f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"
    scope = kw.get("scope") or rng.choice(("self", "self", "aggregate"))
    cells: dict[str, int | float] = {}
    t2, raw = _gen_t2(rng, fmt, mode)
    cells.update(t2)
    cells.update(_gen_t3(rng, fmt, mode))
    cells.update(_gen_t4(rng, mode))
    if fmt == "gov2019":
        for k, v in cells.items():
            if k.endswith(".delta") and v:
                raw[k] = f"{v:+d}"
    blanks: set[str] = set()
    blank_rate = kw.get("blank_rate")
    if blank_rate is None:
        blank_rate = rng.choice((0.0, 0.0, 0.1, 0.5))
    styles: tuple[str, ...] = tuple(
        kw.get("blank_styles") or rng.choice((("",), ("-",), ("/",), ("—",), ("", "-", "/")))
    )
    for k, v in cells.items():
        if v == 0 and k not in raw and rng.random() < blank_rate:
            blanks.add(k)
            raw[k] = rng.choice(styles)
    derived = kw.get("derived_totals")
    if derived is None:
        derived = rng.random() < 0.15
    if derived:
        for r in T3_ROWS[fmt]:
            k = f"{r}.total"
            if r.startswith("t3.outcome.") and r != "t3.outcome.total" and cells[k] and rng.random() < 0.7:
                blanks.add(k)
                raw[k] = ""
    report = SynthReport(
        fmt=fmt,
        agency=agency,
        year=year,
        published=published,
        title=f"{agency}{year}年政府信息公开工作年度报告",
        scope=scope,
        cells=cells,
        blanks=blanks,
        raw=raw,
    )
    report.sections = _make_sections(rng, report)
    return report


def from_expected(
    expected_cells: dict[str, Any],
    fmt: str,
    agency: str,
    year: int,
    published: str | None = None,
) -> SynthReport:
    """A report holding a real fixture's ``expected_cells`` (t3/t4), with table 二 filled with zeros.

    Cells whose expected value is null are printed blank and left out of ``cells``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format: {fmt!r} (expected one of {FORMATS})")
    rng = random.Random(zlib.crc32(f"{agency}{year}{fmt}".encode()))
    cells: dict[str, int | float] = {}
    blanks: set[str] = set()
    raw: dict[str, str] = {}
    for k in printed_keys(fmt):
        if k.startswith("t2."):
            cells[k] = 0.0 if k.endswith((".amount_wan", ".amount")) else 0
            continue
        v = expected_cells.get(k)
        if v is None:
            blanks.add(k)
            raw[k] = ""
        else:
            cells[k] = v
    report = SynthReport(
        fmt=fmt,
        agency=agency,
        year=year,
        published=published or f"{year + 1}-01-31",
        title=f"{agency}{year}年政府信息公开工作年度报告",
        scope="self",
        cells=cells,
        blanks=blanks,
        raw=raw,
    )
    report.sections = _make_sections(rng, report)
    return report


def rebalance(report: SynthReport) -> SynthReport:
    """Recompute the totals of tables 三/四 from their parts so I1–I4 hold again (after editing leaves).

    Row totals, （七）总计 and 本年新收 are recomputed (新收 = 总计 + 结转下年 − 上年结转; when that would
    be negative, 上年结转 is lowered). Returns the same report.
    """
    c = report.cells
    rows = T3_ROWS[report.fmt]
    leaves = [r for r in rows if r.startswith("t3.outcome.") and r != "t3.outcome.total"]
    for col in T3_C6:
        total = sum(c[f"{r}.{col}"] for r in leaves)
        c[f"t3.outcome.total.{col}"] = total
        ci = min(c[f"t3.carried_in.{col}"], total + c[f"t3.carried_out.{col}"])
        c[f"t3.carried_in.{col}"] = ci
        c[f"t3.received_new.{col}"] = total + c[f"t3.carried_out.{col}"] - ci
    for r in rows:
        c[f"{r}.total"] = sum(c[f"{r}.{col}"] for col in T3_C6)
    for g in T4_GROUPS:
        c[f"{g}.total"] = sum(c[f"{g}.{col}"] for col in T4_COLS[:4])
    for k in [
        k
        for k in report.blanks
        if k.startswith(("t3.", "t4.")) and c.get(k) and report.raw.get(k, "").strip()
    ]:
        report.blanks.discard(k)
        report.raw.pop(k, None)
    report.sections = _make_sections(random.Random(zlib.crc32(report.title.encode())), report)
    return report


def compare(
    report: SynthReport, parsed: dict[str, Any], layout: str = "official_html", *, flags: bool = True
) -> list[str]:
    """Differences between a parse (``Report.to_json()``) and what a perfect parse of ``render(report, layout)``
    returns: one line per wrong or missing printed cell (value, and with ``flags`` its flag)."""
    want = to_parsed_json(report, layout)
    got_cells = parsed.get("cells") or {}
    got_flags = parsed.get("flags") or {}
    got_raw = parsed.get("raw") or {}
    out: list[str] = []
    for k, v in want["cells"].items():
        if k not in got_cells and v is not None:
            out.append(f"{k}: missing (printed {want['raw'][k]!r}, want {v!r})")
            continue
        g = got_cells.get(k)
        if v is None:
            continue  # unreadable in the source (a from_expected null): printed empty, any reading is fair
        same = (g is None and v is None) or (
            g is not None and v is not None and abs(float(g) - float(v)) < 1e-6 and not isinstance(g, bool)
        )
        if not same:
            out.append(
                f"{k}: got {g!r} (raw {got_raw.get(k)!r}, flag {got_flags.get(k)!r}), want {v!r} (printed {want['raw'][k]!r})"
            )
        elif flags and got_flags.get(k) != want["flags"][k]:
            out.append(
                f"{k}: flag {got_flags.get(k)!r}, want {want['flags'][k]!r} (printed {want['raw'][k]!r})"
            )
    return out


# --- expected parse ------------------------------------------------------------------------------------------


def _blank_flag(raw: str) -> str:
    s = raw.strip()
    if not s:
        return "blank"
    if s in ("/", "／"):
        return "slash"
    if s in ("无", "不涉及", "不适用", "N/A"):
        return "na_text"
    return "dash"


def _is_derived_blank(report: SynthReport, key: str) -> bool:
    return key in report.blanks and bool(report.cells.get(key)) and not report.raw.get(key, "").strip()


def cell_text(report: SynthReport, key: str, layout: str = "official_html") -> str:
    """The text printed for ``key`` in ``layout``."""
    text_layout = layout in TEXT_LAYOUTS
    if key in report.blanks:
        raw = report.raw.get(key, "")
        if _is_derived_blank(report, key):
            return _num_text(report.cells[key]) if layout in NO_DERIVED_BLANK_LAYOUTS else ""
        if text_layout and not raw.strip():
            return "-"
        return raw
    if key in report.raw:
        return report.raw[key]
    v = report.cells.get(key)
    return "" if v is None else _num_text(v)


def _num_text(v: int | float) -> str:
    if isinstance(v, float):
        return "0" if v == 0 else f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)


def to_parsed_json(
    report: SynthReport, layout: str = "official_html", *, derived_groups: bool = False
) -> dict:
    """What a perfect parse of ``render(report, layout)`` returns: the ``ogi parse --json`` shape.

    ``cells``/``flags``/``raw`` cover every printed key; ``checks`` are I1–I4 computed from the cells.
    With ``derived_groups`` the gov2021-style group sums (``t3.outcome.withheld.sum`` …) are added as
    ``derived`` cells.
    """
    cells: dict[str, int | float | None] = {}
    flags: dict[str, str] = {}
    raws: dict[str, str] = {}
    for k in printed_keys(report.fmt):
        v = report.cells.get(k)
        cells[k] = v
        text = cell_text(report, k, layout)
        raws[k] = text
        if v is None:
            flags[k] = "unknown"
        elif _is_derived_blank(report, k):
            flags[k] = "num" if layout in NO_DERIVED_BLANK_LAYOUTS else "derived"
        elif k in report.blanks:
            flags[k] = _blank_flag(text)
        else:
            flags[k] = "num"
    if derived_groups:
        for gkey, rows in T3_GROUPS.items():
            if report.fmt == "gov2019" and gkey == "t3.outcome.other.sum":
                continue
            for c in T3_COLS:
                parts = [cells.get(f"{r}.{c}") for r in rows]
                key = f"{gkey}.{c}"
                cells[key] = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
                flags[key] = "derived"
                raws[key] = ""
    return {
        "source": None,
        "ok": True,
        "error": None,
        "status": "report",
        "title": report.title,
        "agency": report.agency,
        "year": report.year,
        "published": report.published,
        "scope": report.scope,
        "formats": {"t2": report.fmt, "t3": report.fmt, "t4": report.fmt},
        "mixed_format": False,
        "cells": cells,
        "flags": flags,
        "raw": raws,
        "checks": identity_checks(report, layout),
        "sections": dict(report.sections),
    }


def identity_checks(report: SynthReport, layout: str = "official_html") -> list[dict[str, Any]]:
    """I1–I4 (spec §5) over the report's cells, in the ``checks`` shape of the parse contract.

    I3 on a row whose total is printed blank but derived from non-zero parts is ``unknown`` (spec §5.2).
    """
    c = report.cells
    out: list[dict[str, Any]] = []

    def add(rule: str, scope: str, lhs_keys: list[str], rhs_keys: list[str]) -> None:
        lv = [c.get(k) for k in lhs_keys]
        rv = [c.get(k) for k in rhs_keys]
        if any(v is None for v in lv + rv):
            out.append({"rule": rule, "scope": scope, "status": "unknown", "lhs": None, "rhs": None})
            return
        lhs, rhs = sum(lv), sum(rv)  # type: ignore[arg-type]
        out.append(
            {"rule": rule, "scope": scope, "status": "ok" if lhs == rhs else "fail", "lhs": lhs, "rhs": rhs}
        )

    rows = T3_ROWS[report.fmt]
    leaves = [r for r in rows if r.startswith("t3.outcome.") and r != "t3.outcome.total"]
    for col in T3_COLS:
        add(
            "I1",
            col,
            [f"t3.received_new.{col}", f"t3.carried_in.{col}"],
            [f"t3.outcome.total.{col}", f"t3.carried_out.{col}"],
        )
    for col in T3_COLS:
        add("I2", col, [f"t3.outcome.total.{col}"], [f"{r}.{col}" for r in leaves])
    for r in rows:
        if layout not in NO_DERIVED_BLANK_LAYOUTS and _is_derived_blank(report, f"{r}.total"):
            parts = sum(c.get(f"{r}.{col}") or 0 for col in T3_C6)
            out.append({"rule": "I3", "scope": r, "status": "unknown", "lhs": None, "rhs": parts})
            continue
        add("I3", r, [f"{r}.total"], [f"{r}.{col}" for col in T3_C6])
    for g in T4_GROUPS:
        add("I4", g, [f"{g}.total"], [f"{g}.{col}" for col in T4_COLS[:4]])
    return out
