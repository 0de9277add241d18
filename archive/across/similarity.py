"""Copy-paste detection (table ``similarity``): sections against the same body's previous year and against
other bodies' reports of the same year (template reuse), and identical tables 三/四 with changed narrative claims.

Scores are rapidfuzz's normalised Indel similarity (``fuzz.ratio`` / 100) on the normalised text (NFKC, no
whitespace) and, as ``template_score``, on the same text with every digit run masked (a copied report with new
numbers scores 1.0 there). Shared passages are the longest equal blocks of rapidfuzz's Indel alignment.
Same-year candidates come from exact template groups plus datasketch MinHash LSH over distinct templates.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from archive import schema
from archive.across.load import Snapshot

MIN_LEN = 20  # shorter sections (一句 "如下表") are boilerplate by design: not compared
MIN_LEN_SAME_YEAR = 50
KEEP_PREV = 0.6  # prev-year rows kept from this template score
COPY_SCORE = 0.99  # a prev-year section (≥ 50 chars) this similar, numbers included, is flagged ``copied``
TEMPLATE_SCORE = 0.8  # same-year pairs kept from this template score (flag ``template``)
PASSAGE_MIN = 8
SHINGLE = 5
NUM_PERM = 64
MAX_CANDIDATES = 20
_WS_RE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_DIGITS_RE = re.compile(r"\d+(?:\.\d+)?")
_NARRATIVE = ("s1.overview", "s3.requests", "s4.review_litigation")
_NUMBERING_RE = re.compile(r"^(?:[一二三四五六七八九十]+[、.]?)?(?:\([一二三四五六七]\))?(?:\d[.、])?")
# printed table labels (tables 二/三/四 and their headers): a section that is only a table is not narrative, so
# two years' identical table headers never count as copied text
_TABLE_WORDS = (
    "本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和", "申请人情况", "法人或其他组织", "信息内容",
    "第二十条第", "项", "未经复议直接起诉", "复议后起诉", "行政复议", "行政诉讼", "(单位:万元)", "危及三安全一稳定",
)


def _label_cores() -> list[str]:
    labels = [zh for table in schema.ROW_LABELS.values() for zh, _en in table.values()]
    labels += [zh for zh, _en in schema.T3_COL_LABELS.values()] + [zh for zh, _en in schema.T4_COL_LABELS.values()]
    labels += [zh for zh, _en, _unit in schema.T2_COL_LABELS.values()]
    out = set(_TABLE_WORDS)
    for label in labels:
        text = _WS_RE.sub("", unicodedata.normalize("NFKC", label))
        text = re.sub(r"\(.*?\)", "", text) if "派生" in text else text
        core = _NUMBERING_RE.sub("", text.replace("三(", "(").replace("“", "").replace("”", ""))
        if len(core) >= 4:  # shorter words (其他, 总计, 规章) also occur in narrative sentences
            out.add(core)
    return sorted(out, key=len, reverse=True)


Sec = tuple[str, str]  # (narrative text, normalised text) of one section
_LABELS_RE = re.compile("|".join(re.escape(c) for c in _label_cores()))


def norm_text(text: str) -> str:
    """Given a section text, return it NFKC-normalised without whitespace."""
    return _WS_RE.sub("", unicodedata.normalize("NFKC", text or ""))


def narrative(norm: str) -> str:
    """Given normalised text, return it without the printed labels of tables 二/三/四 (what is scored is the
    narrative; a table's values stay as digits, so a section that is only a table is short)."""
    return _LABELS_RE.sub("", norm.replace("“", "").replace("”", ""))


def mask_digits(text: str) -> str:
    """Given normalised text, return it with every number replaced by ``#``."""
    return _DIGITS_RE.sub("#", text)


def passages(a: str, b: str, top: int = 3) -> list[str]:
    """Given two normalised texts, return up to ``top`` longest shared passages (≥ PASSAGE_MIN characters)."""
    blocks = [a[o.src_start:o.src_end] for o in Indel.opcodes(a, b) if o.tag == "equal"]
    return sorted((p for p in blocks if len(p) >= PASSAGE_MIN), key=len, reverse=True)[:top]


def _pair(rid: int, other: int, relation: str, key: str, ab: tuple[Sec, Sec], tscore: float) -> dict[str, Any]:
    (a, plain_a), (b, plain_b) = ab
    score = fuzz.ratio(a, b) / 100.0
    shared = passages(plain_a, plain_b)
    if relation == "same_year":
        flag = "template"
    elif len(a) < MIN_LEN_SAME_YEAR:
        flag = None  # too little narrative to call it a copy
    elif score >= COPY_SCORE:
        flag = "copied"  # last year's text, its numbers included
    elif tscore >= COPY_SCORE:
        flag = "numbers_only_changed"
    else:
        flag = None
    return {
        "report_id": rid, "other_report_id": other, "relation": relation, "section": key,
        "score": round(score, 4), "template_score": round(tscore, 4), "length": len(a), "other_length": len(b),
        "longest_passage": len(shared[0]) if shared else 0,
        "passages": json.dumps(shared, ensure_ascii=False), "flag": flag,
    }


def _numbers(sections: dict[str, Sec]) -> list[str]:
    return sorted(n for k in _NARRATIVE for n in _DIGITS_RE.findall(sections.get(k, ("", ""))[1]))


def _tables(snap: Snapshot, rid: int) -> tuple[Any, Any]:
    return snap.t3.get(rid, {}), snap.t4.get(rid, {})


def _nonzero(tables: tuple[Any, Any]) -> bool:
    return any(v for part in tables for row in part.values() for v in row if v)


def normalised_sections(snap: Snapshot) -> dict[int, dict[str, Sec]]:
    """Given the snapshot, return report id → section key → (narrative text, normalised text), each computed
    once."""
    out: dict[int, dict[str, Sec]] = {}
    for rid, secs in snap.sections.items():
        out[rid] = {}
        for k, t in secs.items():
            plain = norm_text(t)
            out[rid][k] = (narrative(plain), plain)
    return out


def prev_year_rows(
    snap: Snapshot, index: dict[tuple[str, str], dict[int, int]], norm: dict[int, dict[str, Sec]]
) -> list[dict[str, Any]]:
    """Given the snapshot and the series index, return the prev-year ``similarity`` rows: per section kept
    from KEEP_PREV, and a ``t3+t4`` row flagged ``tables_identical_narrative_changed`` when every table 三/四
    cell equals last year's (not all zero) while the numbers claimed in the narrative changed."""
    rows: list[dict[str, Any]] = []
    for years in index.values():
        for year, rid in years.items():
            prev = years.get(year - 1)
            if prev is None:
                continue
            cur_s, prev_s = norm.get(rid, {}), norm.get(prev, {})
            for key in sorted(set(cur_s) & set(prev_s)):
                a, b = cur_s[key][0], prev_s[key][0]
                if len(a) < MIN_LEN or len(b) < MIN_LEN:
                    continue
                tscore = fuzz.ratio(mask_digits(a), mask_digits(b)) / 100.0
                if tscore >= KEEP_PREV:
                    rows.append(_pair(rid, prev, "prev_year", key, (cur_s[key], prev_s[key]), tscore))
            t_now, t_prev = _tables(snap, rid), _tables(snap, prev)
            if t_now == t_prev and any(t_now) and _nonzero(t_now):
                changed = _numbers(cur_s) != _numbers(prev_s)
                rows.append({
                    "report_id": rid, "other_report_id": prev, "relation": "prev_year", "section": "t3+t4",
                    "score": 1.0, "template_score": 1.0, "length": None, "other_length": None,
                    "longest_passage": None, "passages": "[]",
                    "flag": "tables_identical_narrative_changed" if changed else "tables_identical",
                })
    return rows


def same_year_rows(
    snap: Snapshot, report_body: dict[int, str], norm: dict[int, dict[str, Sec]]
) -> list[dict[str, Any]]:
    """Given the snapshot and report → body, return the same-year ``similarity`` rows: each report's section
    against one other body's most similar section of the same year, kept from TEMPLATE_SCORE."""
    rows: list[dict[str, Any]] = []
    groups: dict[tuple[int, str], dict[str, list[int]]] = {}
    texts: dict[tuple[int, str], Sec] = {}
    for rid, secs in norm.items():
        year = snap.reports.get(rid, {}).get("year")
        if rid not in report_body or not isinstance(year, int):
            continue
        for key, sec in secs.items():
            t = sec[0]
            if len(t) < MIN_LEN_SAME_YEAR:
                continue
            texts[(rid, key)] = sec
            groups.setdefault((year, key), {}).setdefault(mask_digits(t), []).append(rid)
    for (_year, key), by_template in groups.items():
        best = _near_templates(list(by_template)) if len(by_template) > 1 else {}
        for tpl, members in by_template.items():
            members.sort()
            for rid in members:
                other = next((m for m in members if report_body[m] != report_body[rid]), None)
                tscore = 1.0
                if other is None and tpl in best:
                    near, tscore = best[tpl]
                    other = next((m for m in by_template[near] if report_body[m] != report_body[rid]), None)
                if other is not None:
                    rows.append(_pair(rid, other, "same_year", key, (texts[(rid, key)], texts[(other, key)]), tscore))
    return rows


def _near_templates(templates: list[str]) -> dict[str, tuple[str, float]]:
    """Given distinct masked texts of one (year, section), return template → (a similar other template, score)
    for the pairs at least TEMPLATE_SCORE similar.

    Greedy clustering with datasketch MinHash LSH: only cluster representatives are indexed, so a template
    shared (with small changes) by thousands of bodies costs one query each, not a comparison with every other;
    at most MAX_CANDIDATES candidates are scored with rapidfuzz. A representative is paired with the first
    template that joined it.
    """
    lsh = MinHashLSH(threshold=TEMPLATE_SCORE, num_perm=NUM_PERM)
    reps: list[str] = []
    out: dict[str, tuple[str, float]] = {}
    for t in templates:
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([t[j:j + SHINGLE].encode() for j in range(max(1, len(t) - SHINGLE + 1))])
        cands = sorted(int(c) for c in lsh.query(m))[:MAX_CANDIDATES]
        scored = max(((fuzz.ratio(t, reps[c]) / 100.0, -c) for c in cands), default=None)
        if scored is not None and scored[0] >= TEMPLATE_SCORE:
            rep = reps[-scored[1]]
            out[t] = (rep, scored[0])
            out.setdefault(rep, (t, scored[0]))
            continue
        lsh.insert(str(len(reps)), m)
        reps.append(t)
    return out
