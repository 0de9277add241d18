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
PARSE_STATUSES: tuple[str, ...] = ("report", "pre2019", "image_only", "not_report", "error")
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


# --- DDL -----------------------------------------------------------------------------------------------
# Cell values are declared without a type so SQLite keeps ints as ints and floats as floats.
_V1 = """
CREATE TABLE archive_meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'crawl',
    trigger TEXT NOT NULL DEFAULT 'manual',
    sources TEXT,
    status TEXT NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'ok', 'failed', 'empty', 'suspect', 'interrupted')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE run_sources (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    source TEXT NOT NULL,
    pages INTEGER NOT NULL DEFAULT 0,
    reports_found INTEGER NOT NULL DEFAULT 0,
    new_reports INTEGER NOT NULL DEFAULT 0,
    new_versions INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'ok',
    detail TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, source)
);
CREATE INDEX run_sources_source ON run_sources(source, run_id);
CREATE TABLE failures (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    url TEXT NOT NULL,
    source TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX failures_run ON failures(run_id);
CREATE INDEX failures_reason ON failures(reason);
CREATE TABLE documents (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    content_type TEXT,
    pack TEXT NOT NULL,
    pack_offset INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    parse_status TEXT,
    reason TEXT
);
CREATE INDEX documents_parse_status ON documents(parse_status);
CREATE TABLE fetches (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    url TEXT,
    final_url TEXT,
    http_status INTEGER,
    content_type TEXT,
    etag TEXT,
    last_modified TEXT,
    headers TEXT,
    fetched_at TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    source TEXT,
    fingerprint TEXT NOT NULL UNIQUE
);
CREATE INDEX fetches_sha256 ON fetches(sha256);
CREATE INDEX fetches_url ON fetches(url, fetched_at);
CREATE INDEX fetches_final_url ON fetches(final_url, fetched_at);
CREATE TABLE keys (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    col_key TEXT NOT NULL,
    label_zh TEXT,
    label_en TEXT,
    unit TEXT
);
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    report_key TEXT NOT NULL UNIQUE,
    agency TEXT,
    year INTEGER,
    title TEXT,
    province TEXT,
    prefecture TEXT,
    county TEXT,
    region_code TEXT,
    published TEXT,
    scope TEXT,
    t2_format TEXT,
    t3_format TEXT,
    t4_format TEXT,
    mixed_format INTEGER NOT NULL DEFAULT 0,
    parse_status TEXT NOT NULL,
    source_kind TEXT,
    check_status TEXT,
    checks_failed INTEGER NOT NULL DEFAULT 0,
    narrative_mismatch INTEGER NOT NULL DEFAULT 0,
    received_new,
    granted,
    outcome_total,
    carried_out,
    review_total,
    litigation_total,
    url TEXT,
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    current_version_id INTEGER,
    versions INTEGER NOT NULL DEFAULT 1,
    changed_after_publication INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX reports_year ON reports(year);
CREATE INDEX reports_province ON reports(province, year);
CREATE INDEX reports_prefecture ON reports(prefecture);
CREATE INDEX reports_agency ON reports(agency, year);
CREATE INDEX reports_t3_format ON reports(t3_format);
CREATE INDEX reports_check_status ON reports(check_status);
CREATE INDEX reports_parse_status ON reports(parse_status);
CREATE INDEX reports_changed ON reports(changed_after_publication);
CREATE INDEX reports_sha256 ON reports(sha256);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    version INTEGER NOT NULL,
    is_current INTEGER NOT NULL DEFAULT 1,
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    url TEXT,
    source TEXT,
    origin TEXT,
    run_id INTEGER REFERENCES runs(id),
    saved_at TEXT NOT NULL,
    ok INTEGER,
    error TEXT,
    status TEXT,
    source_kind TEXT,
    title TEXT,
    agency TEXT,
    year INTEGER,
    year_source TEXT,
    published TEXT,
    scope TEXT,
    t2_format TEXT,
    t3_format TEXT,
    t4_format TEXT,
    mixed_format INTEGER NOT NULL DEFAULT 0,
    check_status TEXT,
    checks_failed INTEGER NOT NULL DEFAULT 0,
    checks_unknown INTEGER NOT NULL DEFAULT 0,
    cell_path TEXT,
    warnings TEXT,
    extra TEXT,
    UNIQUE (report_id, version)
);
CREATE INDEX versions_sha256 ON versions(sha256);
CREATE INDEX versions_current ON versions(is_current, report_id);
CREATE TABLE version_texts (
    version_id INTEGER PRIMARY KEY REFERENCES versions(id),
    text TEXT NOT NULL
);
CREATE TABLE cells (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    key_id INTEGER NOT NULL REFERENCES keys(id),
    value,
    raw TEXT,
    flag TEXT,
    path TEXT,
    PRIMARY KEY (version_id, key_id)
) WITHOUT ROWID;
CREATE TABLE row_labels (
    row_key TEXT PRIMARY KEY,
    tbl TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL
);
CREATE TABLE t3 (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    row_no INTEGER NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    is_current INTEGER NOT NULL DEFAULT 1,
    year INTEGER,
    province TEXT,
    format TEXT,
    row_key TEXT NOT NULL REFERENCES row_labels(row_key),
    natural,
    commercial,
    research,
    nonprofit,
    legal_service,
    other_org,
    total,
    org_subtotal,
    PRIMARY KEY (version_id, row_no)
) WITHOUT ROWID;
CREATE INDEX t3_row_key ON t3(row_key, is_current, year, province);
CREATE INDEX t3_year ON t3(year);
CREATE INDEX t3_province ON t3(province, year);
CREATE INDEX t3_report ON t3(report_id);
CREATE TABLE t4 (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    row_no INTEGER NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    is_current INTEGER NOT NULL DEFAULT 1,
    year INTEGER,
    province TEXT,
    grp TEXT NOT NULL REFERENCES row_labels(row_key),
    upheld,
    corrected,
    other,
    pending,
    total,
    PRIMARY KEY (version_id, row_no)
) WITHOUT ROWID;
CREATE INDEX t4_grp ON t4(grp, is_current, year, province);
CREATE INDEX t4_year ON t4(year);
CREATE INDEX t4_province ON t4(province, year);
CREATE INDEX t4_report ON t4(report_id);
CREATE TABLE t2 (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    row_no INTEGER NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    is_current INTEGER NOT NULL DEFAULT 1,
    year INTEGER,
    province TEXT,
    format TEXT,
    row_key TEXT NOT NULL REFERENCES row_labels(row_key),
    issued,
    repealed,
    in_force,
    decisions,
    amount_wan,
    made_new,
    published_new,
    published_total,
    prev_items,
    delta,
    items,
    amount,
    PRIMARY KEY (version_id, row_no)
) WITHOUT ROWID;
CREATE INDEX t2_row_key ON t2(row_key, is_current, year, province);
CREATE INDEX t2_year ON t2(year);
CREATE INDEX t2_province ON t2(province, year);
CREATE INDEX t2_report ON t2(report_id);
CREATE TABLE checks (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    ord INTEGER NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    is_current INTEGER NOT NULL DEFAULT 1,
    year INTEGER,
    province TEXT,
    rule TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    lhs,
    rhs,
    detail TEXT,
    PRIMARY KEY (version_id, ord)
) WITHOUT ROWID;
CREATE INDEX checks_status ON checks(status, rule);
CREATE INDEX checks_rule ON checks(rule, status);
CREATE INDEX checks_report ON checks(report_id);
CREATE TABLE sections (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id),
    report_id INTEGER NOT NULL REFERENCES reports(id),
    is_current INTEGER NOT NULL DEFAULT 1,
    key TEXT NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (version_id, key)
);
CREATE INDEX sections_report ON sections(report_id, key);
CREATE INDEX sections_key ON sections(key, is_current);
CREATE VIRTUAL TABLE sections_fts USING fts5(text, content='sections', content_rowid='id', tokenize='trigram');
-- new sections are indexed by the archive at commit (archive.store: one FTS write per transaction, so that
-- per-report savepoints do not flush FTS5 segments); deletes and updates keep the index in step here.
CREATE TRIGGER sections_ad AFTER DELETE ON sections BEGIN
    INSERT INTO sections_fts(sections_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER sections_au AFTER UPDATE OF text ON sections BEGIN
    INSERT INTO sections_fts(sections_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO sections_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    from_version_id INTEGER NOT NULL REFERENCES versions(id),
    to_version_id INTEGER NOT NULL REFERENCES versions(id),
    key TEXT NOT NULL,
    old_value,
    new_value,
    old_raw TEXT,
    new_raw TEXT
);
CREATE INDEX changes_report ON changes(report_id);
CREATE INDEX changes_key ON changes(key);
-- LEFT JOINs on primary keys (the rows always exist): SQLite drops unused ones, so count(*) stays cheap
CREATE VIEW cells_long AS
SELECT v.report_id AS report_id, c.version_id AS version_id, v.is_current AS is_current, r.agency AS agency,
       r.year AS year, r.province AS province, k.key AS key, k.tbl AS tbl, c.value AS value,
       coalesce(c.raw, CAST(c.value AS TEXT)) AS raw, coalesce(c.flag, 'num') AS flag,
       coalesce(c.path, v.cell_path) AS path, v.sha256 AS sha256, v.url AS url
FROM cells c
LEFT JOIN versions v ON v.id = c.version_id
LEFT JOIN reports r ON r.id = v.report_id
LEFT JOIN keys k ON k.id = c.key_id;
"""

# v2: which parser produced each version, and whether it is a re-parse of stored bytes (`ogi reparse`)
_V2 = """
ALTER TABLE versions ADD COLUMN parser_version TEXT;
ALTER TABLE versions ADD COLUMN reparse INTEGER NOT NULL DEFAULT 0;
CREATE INDEX documents_first_seen ON documents(first_seen);
"""

# v3: completeness per source and run (issue 10), and every candidate link the crawl decided not to follow
_V3 = """
ALTER TABLE run_sources ADD COLUMN declared INTEGER;
ALTER TABLE run_sources ADD COLUMN listed INTEGER;
ALTER TABLE run_sources ADD COLUMN followed INTEGER;
ALTER TABLE run_sources ADD COLUMN archived INTEGER;
ALTER TABLE run_sources ADD COLUMN rejected TEXT;
ALTER TABLE run_sources ADD COLUMN missing INTEGER;
ALTER TABLE run_sources ADD COLUMN completeness TEXT;
CREATE TABLE link_decisions (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    source TEXT NOT NULL,
    list_url TEXT,
    url TEXT NOT NULL,
    title TEXT,
    reason TEXT NOT NULL,
    detail TEXT,
    recorded_at TEXT NOT NULL,
    UNIQUE (run_id, source, url, reason)
);
CREATE INDEX link_decisions_reason ON link_decisions(reason, source);
CREATE INDEX link_decisions_source ON link_decisions(source, run_id);
CREATE INDEX link_decisions_url ON link_decisions(url);
"""

# version -> SQL script that brings a database from version-1 to that version (run in one transaction)
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3}

# Edits of a table's CREATE text that SQLite's ALTER TABLE cannot make (widening a CHECK list), applied by the
# store after the version's script with SQLite's documented writable_schema procedure: version -> (table,
# old text, new text). The new text only admits more rows than the old one, so stored rows stay valid.
SCHEMA_EDITS: dict[int, tuple[tuple[str, str, str], ...]] = {
    3: (("runs", "'suspect', 'interrupted')", "'suspect', 'interrupted', 'partial')"),),
}

# Tables and views that metadata.yml must describe (checked by a test).
TABLES: tuple[str, ...] = (
    "archive_meta", "runs", "run_sources", "failures", "link_decisions", "documents", "fetches", "keys", "row_labels",
    "reports", "versions", "version_texts", "cells", "t3", "t4", "t2", "checks", "sections", "changes",
)
VIEWS: tuple[str, ...] = ("cells_long",)
