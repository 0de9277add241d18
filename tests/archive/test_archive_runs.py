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
