"""The `partial` run status: a run whose sources lost items is neither `ok` nor mislabelled `suspect`.

The runs table's CHECK list predates it; schema version 3 widens it in place (SCHEMA_EDITS) for new and for
existing archives, keeping every stored row and every foreign key.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive import ArchiveError, open_archive, schema


def _v2_archive(path: Path) -> None:
    """An archive as version 2 left it: the v1 + v2 scripts, one finished run with a source row."""
    conn = sqlite3.connect(path)
    conn.executescript(schema.MIGRATIONS[1] + schema.MIGRATIONS[2])
    conn.execute("INSERT INTO runs(id, status, started_at) VALUES (1, 'ok', '2026-01-01T00:00:00Z')")
    conn.execute(
        "INSERT INTO run_sources(run_id, source, status, reports_found, pages, failures, recorded_at) "
        "VALUES (1, 's', 'ok', 3, 1, 0, '2026-01-01T00:01:00Z')"
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


def test_a_new_archive_takes_partial(tmp_path: Path) -> None:
    arc = open_archive(tmp_path / "a.db")
    run = arc.start_run(kind="crawl", trigger="manual", sources=None)
    arc.finish_run(run, status="partial", counts={"missing": 2}, detail="source s: 2 of 5 listed items missing")
    assert arc.run(run)["status"] == "partial"
    with pytest.raises(ArchiveError):
        arc.finish_run(run, status="half-done", counts={}, detail="")


def test_a_version_2_archive_is_widened_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v2_archive(path)
    arc = open_archive(path)
    assert arc.schema_version == max(schema.MIGRATIONS)
    assert arc.run(1)["status"] == "ok"  # the stored run is kept
    assert [r["source"] for r in arc.source_results(1)] == ["s"]
    run = arc.start_run(kind="crawl", trigger="manual", sources=None)
    arc.finish_run(run, status="partial", counts={}, detail="lost items")
    assert [r[0] for r in arc.conn.execute("PRAGMA integrity_check")] == ["ok"]
    assert arc.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    arc.close()
    # a second process sees the widened definition too
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO runs(status, started_at) VALUES ('partial', '2026-01-02T00:00:00Z')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO runs(status, started_at) VALUES ('bogus', '2026-01-02T00:00:00Z')")
    conn.close()


@pytest.mark.parametrize(
    ("declared", "listed", "missing", "declared_pages", "pages_read", "state"),
    [
        (None, 10, 0, 5, 5, "ok"),  # a page count declared (共5页) and every page read
        (None, 8, None, 5, 4, "partial"),  # one declared page not read
        (None, 10, 0, None, None, "unknown"),  # nothing declared
        (12, 10, 0, 5, 5, "partial"),  # an item count wins over the page count
        (10, 10, 0, None, None, "ok"),
        (10, 10, 1, None, None, "partial"),  # a recorded loss
    ],
)
def test_a_declared_page_count_fully_read_is_complete(tmp_path: Path, declared, listed, missing, declared_pages,
                                                      pages_read, state) -> None:
    """The crawl and the archive agree: before, a column declaring only a page count, all read, was `ok` in the
    crawl's summary and `unknown` in ogi status and Datasette."""
    arc = open_archive(tmp_path / "a.db")
    run = arc.start_run(kind="crawl", trigger="manual", sources=None)
    got = arc.record_source_result(run, "s", declared=declared, listed=listed, missing=missing,
                                   declared_pages=declared_pages, pages_read=pages_read, completeness=state)
    assert got == state
    [row] = arc.source_results(run)
    assert (row["completeness"], row["declared_pages"], row["pages_read"]) == (state, declared_pages, pages_read)
