"""Property: any parse object the contract allows comes back out of the archive unchanged."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import open_archive
from archive.queries import parse_object
from crawler.parsers import keys
from ogi.demo.synth import random_report, to_parsed_json

KEYS = sorted(
    set(keys.t3_keys("gov2021") + keys.t3_keys("gov2019") + keys.t2_keys("gov2019") + list(keys.T4_KEYS))
)
FLAGS = ("num", "blank", "dash", "slash", "na_text", "derived", "inferred", "unknown")
text = st.text(alphabet=st.sampled_from("0123456789 -—/无不涉及,.元万公开申请情况"), max_size=8)
value = st.one_of(st.none(), st.integers(-(10**9), 10**12), st.floats(allow_nan=False, allow_infinity=False))


@st.composite
def parse_objects(draw: st.DrawFn) -> dict:
    chosen = draw(
        st.lists(
            st.sampled_from([*KEYS, "pre.requests.received", "t3.outcome.other.sum.total"]),
            max_size=40,
            unique=True,
        )
    )
    cells = {k: draw(value) for k in chosen}
    raw = {k: (str(v) if draw(st.booleans()) and v is not None else draw(text)) for k, v in cells.items()}
    return {
        "source": draw(st.one_of(st.none(), st.text(max_size=20))),
        "ok": True,
        "error": None,
        "status": draw(st.sampled_from(["report", "pre2019", "image_only"])),
        "source_kind": draw(st.sampled_from(["html", "text", "pdf", "docx"])),
        "title": draw(st.one_of(st.none(), st.text(max_size=30))),
        "agency": draw(
            st.one_of(st.none(), st.sampled_from(["焦作市人民政府办公室", "朝阳区人民政府", "某机关"]))
        ),
        "year": draw(st.one_of(st.none(), st.integers(2008, 2030))),
        "year_source": draw(st.sampled_from([None, "title", "body"])),
        "published": draw(st.sampled_from([None, "2022-01-20"])),
        "scope": draw(st.sampled_from(["self", "aggregate", "unknown"])),
        "formats": {t: draw(st.sampled_from(keys.FORMATS)) for t in ("t2", "t3", "t4")},
        "mixed_format": draw(st.booleans()),
        "cells": cells,
        "flags": {k: draw(st.sampled_from(FLAGS)) for k in cells},
        "raw": raw,
        "paths": {k: draw(st.sampled_from(["html-grid", "text", "derived", ""])) for k in cells},
        "checks": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "rule": st.sampled_from(["I1", "I2", "I3", "I4", "S3"]),
                        "scope": st.sampled_from(["natural", "total", "t4.review"]),
                        "status": st.sampled_from(["ok", "fail", "unknown"]),
                        "lhs": st.one_of(st.none(), st.integers(0, 10**6)),
                        "rhs": st.one_of(st.none(), st.integers(0, 10**6)),
                    }
                ),
                max_size=6,
            )
        ),
        "sections": draw(
            st.dictionaries(st.sampled_from(keys.SECTION_KEYS), st.text(max_size=40), max_size=3)
        ),
        "warnings": draw(st.lists(st.text(max_size=10), max_size=2)),
        "text": draw(st.text(max_size=60)),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(parse_objects(), min_size=1, max_size=3))
def test_any_parse_object_round_trips(tmp_path_factory, objs):
    arc = open_archive(tmp_path_factory.mktemp("prop") / "p.db")
    try:
        for i, obj in enumerate(objs):
            sha = arc.save_document(f"document {i}".encode())
            res = arc.save_report(obj, sha256=sha, url=f"http://x/{i}")
            back = parse_object(arc, arc.report(res.report_id)["current_version_id"])
            assert {k: v for k, v in back.items() if k not in ("url", "sha256", "region")} == obj
    finally:
        arc.close()


def test_synthetic_reports_round_trip(arc):
    rng = random.Random(5)
    for i in range(20):
        rep = random_report(rng, rng.choice(["gov2021", "gov2019"]))
        parsed = to_parsed_json(rep, rng.choice(["official_html", "tsv_text"]), derived_groups=True)
        parsed.update(source_kind="html", year_source="title", paths={k: "html-grid" for k in parsed["cells"]},
                      warnings=[], text="", agency=f"{rep.agency}{i}")  # fmt: skip
        sha = arc.save_document(f"synthetic {i}".encode())
        res = arc.save_report(parsed, sha256=sha)
        assert res.change == "new"
        back = parse_object(arc, arc.report(res.report_id)["current_version_id"])
        assert {k: v for k, v in back.items() if k not in ("url", "sha256", "region")} == parsed
        n_t3 = arc.conn.execute("SELECT count(*) FROM t3 WHERE report_id = ?", (res.report_id,)).fetchone()[0]
        assert n_t3 == len(keys.T3_ROWS[rep.fmt]) + 3 + (
            rep.fmt == "gov2021"
        )  # printed rows + derived group sums
