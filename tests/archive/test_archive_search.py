"""Chinese full-text search: trigram FTS5 for 3+ characters, LIKE fallback for 1–2 characters."""

from __future__ import annotations

import pytest

from archive.queries import search


@pytest.fixture
def filled(arc, make_parsed):
    texts = {
        "001": {
            "s1.overview": "本机关深入贯彻落实政府信息公开条例，依申请公开办理质量持续提升。",
            "s5.problems": "政策解读形式较为单一。",
        },
        "008": {
            "s1.overview": "平潭综合实验区管委会持续推进政务公开标准化规范化建设。",
            "s6.other": "本年度未收取信息处理费。",
        },
    }
    ids = {}
    for name, sections in texts.items():
        sha = arc.save_document(name.encode())
        ids[name] = arc.save_report(make_parsed(name, sections=sections), sha256=sha).report_id
    return arc, ids


def test_trigram_finds_chinese_words_of_three_or_more_characters(filled):
    arc, ids = filled
    hits = search(arc, "标准化")
    assert [h["report_id"] for h in hits] == [ids["008"]]
    assert "标准化" in hits[0]["snippet"]
    assert {h["report_id"] for h in search(arc, "政府信息公开条例")} == {ids["001"]}
    assert {h["key"] for h in search(arc, "信息处理费")} == {"s6.other"}
    # the default tokenizer would find nothing here; check the FTS table really answers
    n = arc.conn.execute(
        "SELECT count(*) FROM sections_fts WHERE sections_fts MATCH '\"政务公开\"'"
    ).fetchone()[0]
    assert n == 1


def test_short_queries_fall_back_to_like(filled):
    arc, ids = filled
    # trigram cannot match 2 characters
    assert (
        arc.conn.execute("SELECT count(*) FROM sections_fts WHERE sections_fts MATCH '\"政策\"'").fetchone()[
            0
        ]
        == 0
    )
    assert [h["report_id"] for h in search(arc, "政策")] == [ids["001"]]
    assert {h["report_id"] for h in search(arc, "公开")} == {ids["001"], ids["008"]}
    assert {h["report_id"] for h in search(arc, "费")} == {ids["008"]}


def test_search_ignores_old_versions_and_odd_queries(filled, make_parsed):
    arc, ids = filled
    sha = arc.save_document(b"008 revised")
    arc.save_report(make_parsed("008", sections={"s1.overview": "修订后的总体情况。"}), sha256=sha)
    assert search(arc, "标准化") == []
    assert [h["report_id"] for h in search(arc, "修订后")] == [ids["008"]]
    assert search(arc, "") == []
    assert search(arc, '"引号" OR x') == []  # FTS syntax is quoted, never an error
