"""The archive's tables: the DDL of each schema version, the in-place edits ALTER TABLE cannot make, and the
tables and views the Datasette metadata must describe. Part of the contract (:mod:`archive.schema`, which
re-exports these names); standard library only, no I/O.
"""

from __future__ import annotations

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
ALTER TABLE run_sources ADD COLUMN declared_pages INTEGER;
ALTER TABLE run_sources ADD COLUMN pages_read INTEGER;
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
