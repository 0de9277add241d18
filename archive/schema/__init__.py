"""THE CONTRACT: machine keys, printed labels, table widths, statuses, flags, check rules, tables (DDL, migrations).

The machine keys (spec/formats.md §3–§4) are the project's public contract: every cell is addressed by a flat
key ``row_key.col_key`` such as ``t3.received_new.natural`` or ``t4.review.upheld``. The parsers read them
through ``crawler.parsers.keys`` (a re-export of this module); the archive adds the bilingual labels that
Datasette and the CSV codebook show. Standard library only, no I/O, no side effects: parse workers import it.
"""

from __future__ import annotations

from typing import Any, TypedDict

SCHEMA_VERSION = 3

# --- statuses and flags --------------------------------------------------------------------------------
# ``no_tables``: a report title but no table 三/四 found (nothing stored as a report); ``not_report``: neither
PARSE_STATUSES: tuple[str, ...] = ("report", "pre2019", "image_only", "no_tables", "not_report", "error")
REPORT_STATUSES: tuple[str, ...] = ("report", "pre2019", "image_only")  # parses stored as reports
# ``partial``: the run finished, but a source lost items (found fewer than declared, or recorded losses)
RUN_STATUSES: tuple[str, ...] = ("running", "ok", "failed", "empty", "suspect", "interrupted", "partial")
CHECK_STATUSES: tuple[str, ...] = ("ok", "fail", "unknown")
# a source's completeness in a run: ``partial`` when it found fewer items than the portal declares (or lost
# any), ``unknown`` when the portal declares no count; worst last
COMPLETENESS: tuple[str, ...] = ("ok", "unknown", "partial")
FLAGS: dict[str, str] = {  # cell flag -> meaning (``num`` is the default and is not stored)
    "num": "a printed number",
    "blank": "printed empty: counts as 0",
    "dash": "printed — - – -- : counts as 0",
    "slash": "printed / ／ : counts as 0",
    "na_text": "printed 无 / 不涉及 / 不适用 / N/A : counts as 0",
    "derived": "not printed (blank total with non-zero parts, or a group sum): computed from its parts",
    "inferred": "a digit run without separators, split where the table identities make the split unique",
    "ocr": "read from an image by OCR; its confidence is kept, a low one unconfirmed by I1–I4 is unknown",
    "unknown": "unreadable or missing: value is None",
}
FORMATS: tuple[str, ...] = ("gov2021", "gov2019", "pre2019", "none", "unreadable")  # unreadable: printed, not read

# --- check rules (spec/formats.md §5): rule -> (kind, description with its formula) ----------------------
# kind: ``identity`` (exact arithmetic of the printed table), ``range`` (allowed values), ``narrative`` (the
# text agrees with the table; soft). The archive counts failed ``narrative`` checks as narrative mismatches.
CHECK_KINDS: tuple[str, ...] = ("identity", "range", "narrative")
CHECK_RULES: dict[str, tuple[str, str]] = {
    "I1": ("identity", "received_new + carried_in = outcome.total + carried_out (per applicant column)"),
    "I2": ("identity", "outcome.total = Σ outcome leaves (per applicant column)"),
    "I3": ("identity", "row total = Σ six applicant columns (per row; unknown when the total was derived)"),
    "I4": ("identity", "total = upheld + corrected + other + pending (per table 四 group)"),
    "I5": ("range", "table 三/四 counts are ≥ 0 (per table)"),
    "S3": ("narrative", "numbers in the 总体情况 narrative (新收 / 办结 / 结转 N 件) = table 三 (soft)"),
}


def rule_kind(rule: str) -> str | None:
    """Given a check rule name, return its kind from :data:`CHECK_RULES` (None for a rule not registered)."""
    entry = CHECK_RULES.get(rule)
    return entry[0] if entry else None


# --- table 三: columns ------------------------------------------------------------------------------------
T3_COLS: tuple[str, ...] = ("natural", "commercial", "research", "nonprofit", "legal_service", "other_org", "total")
T3_C6: tuple[str, ...] = T3_COLS[:6]
T3_WIDTH = len(T3_COLS)  # printed value columns per table 三 row

# --- table 三: rows (physical order) ----------------------------------------------------------------------
T3_ROWS_HEAD: tuple[str, ...] = (
    "t3.received_new", "t3.carried_in", "t3.outcome.granted", "t3.outcome.partial",
    "t3.outcome.withheld.state_secret", "t3.outcome.withheld.law_prohibited",
    "t3.outcome.withheld.security_stability", "t3.outcome.withheld.third_party",
    "t3.outcome.withheld.internal_affairs", "t3.outcome.withheld.process_info",
    "t3.outcome.withheld.enforcement_file", "t3.outcome.withheld.admin_query",
    "t3.outcome.unavailable.not_held", "t3.outcome.unavailable.needs_creation",
    "t3.outcome.unavailable.unclear", "t3.outcome.not_processed.petition",
    "t3.outcome.not_processed.duplicate", "t3.outcome.not_processed.publication",
    "t3.outcome.not_processed.excessive", "t3.outcome.not_processed.confirm_reissue",
)
T3_OTHER_2021: tuple[str, ...] = (
    "t3.outcome.other.no_correction", "t3.outcome.other.unpaid_fee", "t3.outcome.other.misc",
)
T3_OTHER_2019: tuple[str, ...] = ("t3.outcome.other.sum",)
T3_TAIL: tuple[str, ...] = ("t3.outcome.total", "t3.carried_out")

# format -> printed rows (``crawler.parsers.keys.T3_ROWS``)
T3_FORMAT_ROWS: dict[str, tuple[str, ...]] = {
    "gov2021": T3_ROWS_HEAD + T3_OTHER_2021 + T3_TAIL,  # 25 rows
    "gov2019": T3_ROWS_HEAD + T3_OTHER_2019 + T3_TAIL,  # 23 rows
}

# Group sums: never printed in gov2021 (derived), `other.sum` printed in gov2019.
T3_GROUPS: dict[str, tuple[str, ...]] = {
    "t3.outcome.withheld.sum": tuple(r for r in T3_ROWS_HEAD if ".withheld." in r),
    "t3.outcome.unavailable.sum": tuple(r for r in T3_ROWS_HEAD if ".unavailable." in r),
    "t3.outcome.not_processed.sum": tuple(r for r in T3_ROWS_HEAD if ".not_processed." in r),
    "t3.outcome.other.sum": T3_OTHER_2021,
}

# The leaves of I2 (outcome rows that add up to t3.outcome.total).
T3_OUTCOME_LEAVES: dict[str, tuple[str, ...]] = {
    fmt: tuple(r for r in rows if r.startswith("t3.outcome.") and r != "t3.outcome.total")
    for fmt, rows in T3_FORMAT_ROWS.items()
}

# every table 三 row the archive knows: gov2021's physical order, the gov2019-only row, then derived sums
T3_ALL_ROWS: tuple[str, ...] = tuple(
    dict.fromkeys(T3_ROWS_HEAD + T3_OTHER_2021 + T3_OTHER_2019 + T3_TAIL + tuple(T3_GROUPS))
)

# --- table 四 ---------------------------------------------------------------------------------------------
T4_GROUP_KEYS: tuple[str, ...] = ("t4.review", "t4.litigation_direct", "t4.litigation_after_review")
T4_COLS: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
T4_KEYS: tuple[str, ...] = tuple(f"{g}.{c}" for g in T4_GROUP_KEYS for c in T4_COLS)
T4_WIDTH = len(T4_KEYS)  # the numbers of table 四, mapped by position

# --- table 二 ---------------------------------------------------------------------------------------------
# format -> ((row, printed columns), ...) (``crawler.parsers.keys.T2_ROWS``)
T2_FORMAT_ROWS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "gov2021": (
        ("t2.regulation", ("issued", "repealed", "in_force")),
        ("t2.normative_doc", ("issued", "repealed", "in_force")),
        ("t2.licensing", ("decisions",)),
        ("t2.penalty", ("decisions",)),
        ("t2.coercion", ("decisions",)),
        ("t2.admin_fee", ("amount_wan",)),
    ),
    "gov2019": (
        ("t2.regulation", ("made_new", "published_new", "published_total")),
        ("t2.normative_doc", ("made_new", "published_new", "published_total")),
        ("t2.licensing", ("prev_items", "delta", "decisions")),
        ("t2.other_service", ("prev_items", "delta", "decisions")),
        ("t2.penalty", ("prev_items", "delta", "decisions")),
        ("t2.coercion", ("prev_items", "delta", "decisions")),
        ("t2.admin_fee", ("prev_items", "delta")),
        ("t2.procurement", ("items", "amount")),
    ),
}
MONEY_KEYS: frozenset[str] = frozenset({"t2.admin_fee.amount_wan", "t2.procurement.amount"})
SIGNED_COLS: frozenset[str] = frozenset({"delta"})


def t3_keys(fmt: str) -> list[str]:
    """Given a format, return all its printed table 三 cell keys (175 for gov2021, 161 for gov2019)."""
    return [f"{r}.{c}" for r in T3_FORMAT_ROWS[fmt] for c in T3_COLS]


def t2_keys(fmt: str) -> list[str]:
    """Given a format, return all its table 二 cell keys (10 for gov2021, 21 for gov2019)."""
    return [f"{r}.{c}" for r, cols in T2_FORMAT_ROWS[fmt] for c in cols]


SECTION_KEYS: tuple[str, ...] = (
    "s1.overview", "s2.proactive", "s3.requests", "s4.review_litigation", "s5.problems", "s6.other",
)

# --- printed labels ---------------------------------------------------------------------------------------
T3_COL_LABELS: dict[str, tuple[str, str]] = {
    "natural": ("自然人", "natural persons"),
    "commercial": ("商业企业", "commercial enterprises"),
    "research": ("科研机构", "research institutions"),
    "nonprofit": ("社会公益组织", "non-profit organisations"),
    "legal_service": ("法律服务机构", "legal service organisations"),
    "other_org": ("其他", "other organisations"),
    "total": ("总计", "total"),
    "org_subtotal": ("法人或其他组织小计（派生）", "legal persons subtotal (derived)"),
}
# row key -> (zh label, en label); physical order of gov2021 then the gov2019-only row, then derived group sums
T3_ROW_LABELS: dict[str, tuple[str, str]] = {
    "t3.received_new": ("一、本年新收政府信息公开申请数量", "new requests received this year"),
    "t3.carried_in": ("二、上年结转政府信息公开申请数量", "requests carried over from last year"),
    "t3.outcome.granted": ("三（一）予以公开", "granted"),
    "t3.outcome.partial": ("三（二）部分公开", "partially granted"),
    "t3.outcome.withheld.state_secret": ("三（三）1.属于国家秘密", "withheld: state secret"),
    "t3.outcome.withheld.law_prohibited": ("三（三）2.其他法律行政法规禁止公开", "withheld: prohibited by law"),
    "t3.outcome.withheld.security_stability": ("三（三）3.危及“三安全一稳定”", "withheld: security and stability"),
    "t3.outcome.withheld.third_party": ("三（三）4.保护第三方合法权益", "withheld: third-party rights"),
    "t3.outcome.withheld.internal_affairs": ("三（三）5.属于三类内部事务信息", "withheld: internal affairs"),
    "t3.outcome.withheld.process_info": ("三（三）6.属于四类过程性信息", "withheld: process information"),
    "t3.outcome.withheld.enforcement_file": ("三（三）7.属于行政执法案卷", "withheld: enforcement file"),
    "t3.outcome.withheld.admin_query": ("三（三）8.属于行政查询事项", "withheld: administrative query"),
    "t3.outcome.unavailable.not_held": ("三（四）1.本机关不掌握相关政府信息", "unavailable: not held"),
    "t3.outcome.unavailable.needs_creation": ("三（四）2.没有现成信息需要另行制作", "unavailable: needs creation"),
    "t3.outcome.unavailable.unclear": ("三（四）3.补正后申请内容仍不明确", "unavailable: still unclear"),
    "t3.outcome.not_processed.petition": ("三（五）1.信访举报投诉类申请", "not processed: petition"),
    "t3.outcome.not_processed.duplicate": ("三（五）2.重复申请", "not processed: duplicate"),
    "t3.outcome.not_processed.publication": ("三（五）3.要求提供公开出版物", "not processed: publication"),
    "t3.outcome.not_processed.excessive": ("三（五）4.无正当理由大量反复申请", "not processed: excessive"),
    "t3.outcome.not_processed.confirm_reissue": ("三（五）5.要求行政机关确认或重新出具已获取信息", "not processed: confirm or reissue"),
    "t3.outcome.other.no_correction": ("三（六）1.逾期不补正", "other: no correction in time"),
    "t3.outcome.other.unpaid_fee": ("三（六）2.逾期未缴纳费用", "other: fee unpaid"),
    "t3.outcome.other.misc": ("三（六）3.其他", "other: miscellaneous"),
    "t3.outcome.other.sum": ("三（六）其他处理", "other handling (gov2019 printed; gov2021 derived)"),
    "t3.outcome.total": ("三（七）总计", "outcomes total"),
    "t3.carried_out": ("四、结转下年度继续办理", "carried over to next year"),
    "t3.outcome.withheld.sum": ("三（三）不予公开（小计，派生）", "withheld subtotal (derived)"),
    "t3.outcome.unavailable.sum": ("三（四）无法提供（小计，派生）", "unavailable subtotal (derived)"),
    "t3.outcome.not_processed.sum": ("三（五）不予处理（小计，派生）", "not processed subtotal (derived)"),
}
T3_WIDE_COLS: tuple[str, ...] = (*T3_COLS, "org_subtotal")  # the columns of the t3 table

T4_GROUP_LABELS: dict[str, tuple[str, str]] = {
    "t4.review": ("行政复议", "administrative review"),
    "t4.litigation_direct": ("行政诉讼：未经复议直接起诉", "litigation without prior review"),
    "t4.litigation_after_review": ("行政诉讼：复议后起诉", "litigation after review"),
}
T4_COL_LABELS: dict[str, tuple[str, str]] = {
    "upheld": ("结果维持", "upheld"),
    "corrected": ("结果纠正", "corrected"),
    "other": ("其他结果", "other result"),
    "pending": ("尚未审结", "pending"),
    "total": ("总计", "total"),
}

T2_ROW_LABELS: dict[str, tuple[str, str]] = {
    "t2.regulation": ("规章", "regulations"),
    "t2.normative_doc": ("（行政）规范性文件", "normative documents"),
    "t2.licensing": ("行政许可", "administrative licensing"),
    "t2.other_service": ("其他对外管理服务事项", "other external services (gov2019)"),
    "t2.penalty": ("行政处罚", "administrative penalties"),
    "t2.coercion": ("行政强制", "administrative coercion"),
    "t2.admin_fee": ("行政事业性收费", "administrative fees"),
    "t2.procurement": ("政府集中采购", "central government procurement (gov2019)"),
}
T2_COL_LABELS: dict[str, tuple[str, str, str | None]] = {  # col -> (zh, en, unit)
    "issued": ("本年制发件数", "issued this year (gov2021)", "件"),
    "repealed": ("本年废止件数", "repealed this year (gov2021)", "件"),
    "in_force": ("现行有效件数", "in force (gov2021)", "件"),
    "decisions": ("（本年）处理决定数量", "decisions this year", "件"),
    "amount_wan": ("本年收费金额（万元）", "fees collected this year (gov2021)", "万元"),
    "made_new": ("本年新制作数量", "newly made this year (gov2019)", "件"),
    "published_new": ("本年新公开数量", "newly published this year (gov2019)", "件"),
    "published_total": ("对外公开总数量", "published in total (gov2019)", "件"),
    "prev_items": ("上一年项目数量", "items last year (gov2019)", "项"),
    "delta": ("本年增/减", "change this year, signed (gov2019)", "项"),
    "items": ("采购项目数量", "procurement items (gov2019)", "项"),
    "amount": ("采购总金额（万元）", "procurement amount (gov2019, normalised to 万元)", "万元"),
}

T2_WIDE_COLS: tuple[str, ...] = tuple(T2_COL_LABELS)  # the columns of the t2 table

SECTION_LABELS: dict[str, tuple[str, str]] = {
    "s1.overview": ("一、总体情况", "overview"),
    "s2.proactive": ("二、主动公开政府信息情况", "proactive disclosure"),
    "s3.requests": ("三、收到和处理政府信息公开申请情况", "requests received and handled"),
    "s4.review_litigation": ("四、政府信息公开行政复议、行政诉讼情况", "review and litigation"),
    "s5.problems": ("五、存在的主要问题及改进情况", "problems and improvements"),
    "s6.other": ("六、其他需要报告的事项", "other matters"),
}


def split_key(key: str) -> tuple[str, str, str]:
    """``t3.outcome.withheld.state_secret.natural`` -> (``t3``, ``t3.outcome.withheld.state_secret``, ``natural``)."""
    table = key.split(".", 1)[0]
    row, _, col = key.rpartition(".")
    return table, row or key, col


def key_labels(key: str) -> tuple[str, str, str | None]:
    """Chinese label, English label and unit of a cell key (best effort for keys the archive does not know)."""
    table, row, col = split_key(key)
    if table == "t3":
        rz, re_ = T3_ROW_LABELS.get(row, (row, row))
        cz, ce = T3_COL_LABELS.get(col, (col, col))
        return f"表三 {rz} / {cz}", f"table 3: {re_} / {ce}", "件"
    if table == "t4":
        gz, ge = T4_GROUP_LABELS.get(row, (row, row))
        cz, ce = T4_COL_LABELS.get(col, (col, col))
        return f"表四 {gz} / {cz}", f"table 4: {ge} / {ce}", "件"
    if table == "t2":
        rz, re_ = T2_ROW_LABELS.get(row, (row, row))
        cz, ce, unit = T2_COL_LABELS.get(col, (col, col, None))
        return f"表二 {rz} / {cz}", f"table 2: {re_} / {ce}", unit
    return key, key, None


# row labels by table, in the order the archive seeds ``row_labels``
ROW_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "t3": T3_ROW_LABELS,
    "t4": T4_GROUP_LABELS,
    "t2": T2_ROW_LABELS,
}


# Headline numbers copied onto each report row (reports column -> cell keys summed; None if any is missing),
# so totals by year and province read 10^5 report rows instead of millions of table rows.
HEADLINES: dict[str, tuple[str, ...]] = {
    "received_new": ("t3.received_new.total",),
    "granted": ("t3.outcome.granted.total",),
    "outcome_total": ("t3.outcome.total.total",),
    "carried_out": ("t3.carried_out.total",),
    "review_total": ("t4.review.total",),
    "litigation_total": ("t4.litigation_direct.total", "t4.litigation_after_review.total"),
}


class ParseResult(TypedDict, total=False):
    """The ``ogi parse --json`` object (``Report.to_json()``): what the archive stores of one parse."""

    source: str
    ok: bool
    error: str | None
    status: str  # one of PARSE_STATUSES
    source_kind: str
    title: str | None
    agency: str | None
    year: int | None
    year_source: str | None
    published: str | None
    scope: str
    formats: dict[str, str]
    mixed_format: bool
    cells: dict[str, Any]
    flags: dict[str, str]
    raw: dict[str, str]
    paths: dict[str, str]
    checks: list[dict[str, Any]]
    sections: dict[str, str]
    warnings: list[Any]
    text: str


# top-level fields of a ParseResult that the archive stores in columns / child tables
PARSE_FIELDS: tuple[str, ...] = tuple(ParseResult.__annotations__)
# fields `ogi export` adds to the parse object (never part of a parse)
EXPORT_FIELDS: tuple[str, ...] = ("url", "sha256", "region")


# One row of ``reports``: the current state of one (agency, year[, aggregate]) report.
ReportRow = TypedDict(  # noqa: UP013 - the functional form keeps this long row shape compact
    "ReportRow",
    {
        "id": int, "report_key": str, "agency": str | None, "year": int | None, "title": str | None,
        "province": str | None, "prefecture": str | None, "county": str | None, "region_code": str | None,
        "published": str | None, "scope": str, "t2_format": str, "t3_format": str, "t4_format": str,
        "parse_status": str, "check_status": str, "sha256": str, "url": str | None, "versions": int,
        "changed_after_publication": int,
    },
    total=False,
)  # fmt: skip


# The tables: DDL, migrations and the tables metadata.yml describes (archive/schema/ddl.py)
from archive.schema.ddl import MIGRATIONS as MIGRATIONS  # noqa: E402
from archive.schema.ddl import SCHEMA_EDITS as SCHEMA_EDITS  # noqa: E402
from archive.schema.ddl import TABLES as TABLES  # noqa: E402
from archive.schema.ddl import VIEWS as VIEWS  # noqa: E402

