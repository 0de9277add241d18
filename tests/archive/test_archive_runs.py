"""The run-history calls the scheduler and the pipeline use (archive.runs): what each returns."""

from __future__ import annotations

import pytest

from archive import ArchiveError


def test_run_returns_the_row_with_decoded_counts(arc):
    rid = arc.start_run(kind="crawl", trigger="scheduled", sources=["a", "b"])
    row = arc.run(rid)
    assert row is not None
    assert (row["id"], row["status"], row["trigger"], row["sources"]) == (rid, "running", "scheduled", ["a", "b"])
    assert row["finished_at"] is None
    arc.finish_run(rid, status="suspect", counts={"pages": 3, "mode": "light"}, detail="few reports")
    row = arc.run(rid)
    assert (row["status"], row["detail"], row["counts"]) == ("suspect", "few reports", {"pages": 3, "mode": "light"})
    assert row["finished_at"]
    assert arc.run(rid + 100) is None


def test_set_run_status_keeps_detail_unless_given(arc):
    rid = arc.start_run()
    arc.finish_run(rid, status="interrupted", detail="stopped")
    arc.set_run_status(rid, "failed")
    assert (arc.run(rid)["status"], arc.run(rid)["detail"]) == ("failed", "stopped")
    arc.set_run_status(rid, "ok", detail="fine")
    assert (arc.run(rid)["status"], arc.run(rid)["detail"]) == ("ok", "fine")
    with pytest.raises(ArchiveError, match="unknown run status"):
        arc.set_run_status(rid, "bogus")
    with pytest.raises(ArchiveError, match="no run"):
        arc.set_run_status(rid + 1, "ok")


def test_claim_run_marks_a_resumed_run_running_with_its_owner(arc):
    rid = arc.start_run()
    arc.finish_run(rid, status="interrupted", counts={"pages": 2}, detail="stopped by the service")
    arc.claim_run(rid, "pid=123 start=456")
    row = arc.run(rid)
    assert (row["status"], row["detail"], row["finished_at"], row["counts"]) == (
        "running", "pid=123 start=456", None, {"pages": 2},
    )  # fmt: skip
    with pytest.raises(ArchiveError, match="no run"):
        arc.claim_run(rid + 1, "x")


def test_source_results_failure_counts_and_known_sources(arc):
    r1, r2 = arc.start_run(), arc.start_run()
    arc.record_source_result(r1, "zeta", pages=2, reports_found=5, new_reports=1, status="ok")
    arc.record_source_result(r1, "alpha", pages=1, reports_found=0, failures=3, status="failed", detail="walls")
    arc.record_source_result(r2, "beta", pages=4)
    rows = arc.source_results(r1)
    assert [r["source"] for r in rows] == ["alpha", "zeta"]
    assert rows[0]["failures"] == 3 and rows[0]["status"] == "failed" and rows[0]["detail"] == "walls"
    assert rows[1]["reports_found"] == 5 and rows[1]["new_reports"] == 1 and rows[1]["run_id"] == r1
    assert arc.source_results(r2 + 5) == []
    for reason in ("http_404", "timeout", "http_404", "http_404", "timeout", "wall"):
        arc.record_failure(r1, "http://x.test/a", reason)
    arc.record_failure(r2, "http://x.test/b", "wall")
    arc.record_failure(None, "http://x.test/c", "wall")
    counts = arc.failure_counts(r1)
    assert counts == {"http_404": 3, "timeout": 2, "wall": 1}
    assert list(counts) == ["http_404", "timeout", "wall"]
    assert arc.failure_counts(r2) == {"wall": 1}
    assert arc.known_sources() == ["alpha", "beta", "zeta"]
    listed = arc.failures(r2)
    assert [(f["url"], f["reason"], f["run_id"]) for f in listed] == [("http://x.test/b", "wall", r2)]
    assert [f["reason"] for f in arc.failures(r1)] == ["http_404", "timeout", "http_404", "http_404", "timeout", "wall"]
    assert arc.failures(r2 + 5) == []


# --- completeness and link decisions (issue 10) ---------------------------------------------------------


def test_old_callers_store_nulls_and_get_unknown(arc):
    rid = arc.start_run()
    assert arc.record_source_result(rid, "a", pages=1, reports_found=2) == "unknown"
    row = arc.source_results(rid)[0]
    assert [row[k] for k in ("declared", "listed", "followed", "archived", "rejected", "missing")] == [None] * 6
    assert row["completeness"] == "unknown"


@pytest.mark.parametrize(
    ("declared", "listed", "missing", "expected"),
    [
        (40, 40, 0, "ok"),
        (40, 41, None, "ok"),  # more found than declared: nothing is missing
        (40, 39, 0, "partial"),  # found < declared
        (40, 40, 1, "partial"),  # lost one
        (None, 40, 0, "unknown"),  # the portal declares no count
        (None, 40, 2, "partial"),  # lost something: never ok nor unknown
        (40, None, None, "unknown"),
    ],
)
def test_completeness_status(arc, declared, listed, missing, expected):
    rid = arc.start_run()
    got = arc.record_source_result(rid, "s", declared=declared, listed=listed, missing=missing)
    assert got == expected
    assert arc.source_results(rid)[0]["completeness"] == expected


def test_source_result_keeps_every_completeness_count(arc):
    rid = arc.start_run()
    arc.record_source_result(
        rid, "beijing", pages=3, reports_found=30, declared=34, listed=33, followed=31, archived=30,
        rejected={"not_report_title": 2, "duplicate": 1}, missing=0,
    )  # fmt: skip
    row = arc.source_results(rid)[0]
    assert (row["declared"], row["listed"], row["followed"], row["archived"], row["missing"]) == (34, 33, 31, 30, 0)
    assert row["rejected"] == {"not_report_title": 2, "duplicate": 1}
    assert list(row["rejected"]) == ["not_report_title", "duplicate"]
    assert row["completeness"] == "partial"
    assert arc.source_history("beijing")[0]["rejected"] == {"not_report_title": 2, "duplicate": 1}


def test_caller_completeness_can_only_make_it_worse(arc):
    rid = arc.start_run()
    assert arc.record_source_result(rid, "a", declared=5, listed=5, missing=0, completeness="partial") == "partial"
    assert arc.record_source_result(rid, "b", declared=5, listed=4, completeness="ok") == "partial"
    with pytest.raises(ArchiveError, match="unknown completeness"):
        arc.record_source_result(rid, "c", completeness="complete")


def test_link_decisions_are_stored_once_and_counted(arc):
    rid = arc.start_run()
    arc.record_link_decision(rid, "beijing", "http://x.test/a.html", "not_report_title", title="通知",
                             list_url="http://x.test/list_1.html")  # fmt: skip
    arc.record_link_decision(rid, "beijing", "http://x.test/a.html", "not_report_title",
                             list_url="http://x.test/list_2.html")  # fmt: skip  (the same link on another page)
    n = arc.record_link_decisions(rid, "beijing", [
        {"url": "http://x.test/b.html", "reason": "offsite", "detail": "other.test"},
        {"url": "http://x.test/c.html", "reason": "not_report_title", "title": "公告"},
        {"url": "http://x.test/c.html", "reason": "not_report_title"},
    ])  # fmt: skip
    assert n == 2
    arc.record_link_decisions(rid, "shanghai", [{"url": "http://y.test/d.html", "reason": "duplicate"}])
    rows = arc.link_decisions(rid, source="beijing")
    assert [(r["url"], r["reason"]) for r in rows] == [
        ("http://x.test/a.html", "not_report_title"),
        ("http://x.test/b.html", "offsite"),
        ("http://x.test/c.html", "not_report_title"),
    ]
    assert rows[0]["title"] == "通知" and rows[0]["list_url"] == "http://x.test/list_1.html"
    assert rows[1]["detail"] == "other.test" and rows[0]["recorded_at"]
    assert len(arc.link_decisions()) == 4
    with pytest.raises(ArchiveError, match="needs a url and a reason"):
        arc.record_link_decisions(rid, "beijing", [{"url": "http://x.test/e.html"}])
    with pytest.raises(ArchiveError, match="no run"):
        arc.record_link_decision(rid + 9, "beijing", "http://x.test/f.html", "offsite")
    assert arc.record_link_decisions(rid, "beijing", []) == 0


def test_a_failed_batch_of_link_decisions_stores_none(arc):
    rid = arc.start_run()
    with pytest.raises(ArchiveError):
        arc.record_link_decisions(rid, "s", [{"url": "http://x.test/1", "reason": "r"}, {"reason": "r"}])
    assert arc.link_decisions(rid) == []


def test_completeness_read(arc):
    assert arc.completeness() == {"run_id": None, "status": "unknown", "sources": []}
    r1 = arc.start_run()
    arc.record_source_result(r1, "a", declared=3, listed=3, archived=3, missing=0)
    r2 = arc.start_run()
    arc.record_source_result(r2, "a", declared=3, listed=3, archived=3, missing=0)
    arc.record_source_result(r2, "b", listed=7, followed=6, archived=5, rejected={"offsite": 1}, missing=0)
    arc.record_link_decision(r2, "b", "http://b.test/x", "offsite")
    got = arc.completeness()
    assert got["run_id"] == r2 and got["status"] == "unknown"
    assert got["sources"] == [
        {"source": "a", "declared": 3, "listed": 3, "followed": None, "archived": 3, "rejected": None, "missing": 0,
         "completeness": "ok", "link_decisions": {}},
        {"source": "b", "declared": None, "listed": 7, "followed": 6, "archived": 5, "rejected": {"offsite": 1},
         "missing": 0, "completeness": "unknown", "link_decisions": {"offsite": 1}},
    ]  # fmt: skip
    assert arc.completeness(r1)["status"] == "ok"
    arc.record_source_result(r1, "c", declared=9, listed=2)
    assert arc.completeness(r1)["status"] == "partial"
    assert arc.completeness(r1 + 50)["sources"] == []


def test_version_2_archive_gains_the_completeness_columns(db_path, monkeypatch):
    from archive import open_archive, schema

    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", {1: schema.MIGRATIONS[1], 2: schema.MIGRATIONS[2]})
        old = open_archive(db_path)
        rid = old.start_run()
        old.conn.execute(
            "INSERT INTO run_sources(run_id, source, pages, recorded_at) VALUES (?, 'a', 2, 'x')", (rid,)
        )
        old.close()
    arc = open_archive(db_path)
    assert arc.schema_version == schema.SCHEMA_VERSION == 3
    row = arc.source_results(rid)[0]
    assert row["pages"] == 2 and row["declared"] is None and row["completeness"] is None
    assert arc.completeness(rid)["sources"][0]["completeness"] == "unknown"
    arc.record_link_decision(rid, "a", "http://a.test/1", "offsite")
    arc.close()
