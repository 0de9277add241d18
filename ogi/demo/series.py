"""``series.fixture.test``: one prefecture's bodies over several years, with one of each across-report finding
planted (issue 14), so that ``ogi demo`` shows every derived table of :mod:`archive.across` with a row.

The bodies are real-named (焦作市, 河南省: the region codes resolve, the roll-up has a region) and their reports
form consistent random series (:func:`link`: 上年结转 = last year's 结转下年度 per column, 现行有效 = last year's
+ 制发 − 废止), except where a finding is planted (:data:`PLANTED`):

* ``y1_fail`` — 焦作市人民政府办公厅 2023 carries in 3 more natural-person requests than 2022 carried out;
* ``renamed`` — the same body printed 焦作市人民政府办公室 in 2021–2022 (the 办公厅/办公室 rule merges them, so
  the Y1 pair above exists at all);
* ``y2_fail`` — 焦作市司法局 2023 prints 规范性文件 现行有效 2 more than 2022 + 制发 − 废止;
* ``late`` — 焦作市财政局 2024 published 2025-03-10 (发布日期 on the page; departments' deadline 31 January);
* ``missing`` — 焦作市财政局 has no 2023 report;
* ``copied`` — 焦作市教育局 2023 is its 2022 report again: the same narrative, tables 三/四 identical;
* ``rollup`` — 焦作市人民政府 2022 is a region-wide (汇总) report equal to the sum of its four bodies' 2022
  reports (coverage share 1.0);
* ``rates`` — every report has well over 30 handled requests, so 实质公开率 is rated;
* ``edit`` — :func:`revise` corrects a cell of 焦作市司法局 2024 after publication (a second version of the same
  URL on the next crawl; ``ogi demo`` crawls once, the tests crawl twice).

The column is a TRS ``createPageHTML`` list of two pages (10 rows each at most), every page with ETag and
Last-Modified like the rest of the portal.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from archive.schema import T3_C6
from ogi.demo import synth
from ogi.demo.pages import Answer, Expected, page
from ogi.demo.render import render

__all__ = ["HOST", "PLANTED", "SERIES_URL", "build", "link", "reports", "revise"]

HOST = "http://series.fixture.test"
SERIES_URL = f"{HOST}/zfxxgk/zfxxgknb/index.html"
_BASE = f"{HOST}/zfxxgk/zfxxgknb/"
PER_PAGE = 10

EDU, FIN, JUS, GOV = "焦作市教育局", "焦作市财政局", "焦作市司法局", "焦作市人民政府"
OFFICE_OLD, OFFICE_NEW = "焦作市人民政府办公室", "焦作市人民政府办公厅"
REVISED = (JUS, 2024)  # the report revise() corrects after publication

PLANTED: dict[str, dict[str, Any]] = {
    "y1_fail": {"agency": OFFICE_NEW, "year": 2023, "scope": "natural", "delta": 3},
    "renamed": {"from": OFFICE_OLD, "to": OFFICE_NEW},
    "y2_fail": {"agency": JUS, "year": 2023, "scope": "t2.normative_doc", "delta": 2},
    "late": {"agency": FIN, "year": 2024, "published": "2025-03-10", "days_late": 38},
    "missing": {"agency": FIN, "year": 2023},
    "copied": {"agency": EDU, "year": 2023, "of_year": 2022},
    "rollup": {"agency": GOV, "year": 2022, "members": 4},
    "edit": {"agency": REVISED[0], "year": REVISED[1]},
}


class PortalLike(Protocol):
    routes: dict[str, Any]

    def add(self, url: str, answer: Any) -> str: ...


def link(prev: synth.SynthReport | None, rep: synth.SynthReport) -> synth.SynthReport:
    """Given last year's report (or None) and a random gov2021 report, return the report made consistent with
    last year: 上年结转 = last year's 结转下年度 per applicant column (新收 recomputed; 结转下年度 raised when
    新收 would be negative) and 现行有效 = last year's + 制发 − 废止; totals and narrative recomputed."""
    if prev is not None:
        c = rep.cells
        for col in T3_C6:
            c[f"t3.carried_in.{col}"] = prev.cells[f"t3.carried_out.{col}"]
            short = c[f"t3.carried_in.{col}"] - c[f"t3.outcome.total.{col}"] - c[f"t3.carried_out.{col}"]
            if short > 0:
                c[f"t3.carried_out.{col}"] += short
        for row in ("t2.regulation", "t2.normative_doc"):
            before = prev.cells[f"{row}.in_force"]
            c[f"{row}.repealed"] = min(c[f"{row}.repealed"], before + c[f"{row}.issued"])
            c[f"{row}.in_force"] = before + c[f"{row}.issued"] - c[f"{row}.repealed"]
    return synth.rebalance(rep)


def _published(agency: str, year: int, n: int) -> str:
    if (agency, year) == (PLANTED["late"]["agency"], PLANTED["late"]["year"]):
        return str(PLANTED["late"]["published"])
    if agency == GOV:
        return f"{year + 1}-03-{10 + n % 15:02d}"
    return f"{year + 1}-01-{10 + n % 15:02d}"


def _random(rng: random.Random, agency: str, year: int, n: int, scope: str = "self") -> synth.SynthReport:
    return synth.random_report(rng, "gov2021", agency=agency, year=year, published=_published(agency, year, n),
                               scope=scope, mode="dense", blank_rate=0.0, derived_totals=False)


def _chain(rng: random.Random, names: list[tuple[str, int]], n0: int) -> list[synth.SynthReport]:
    out: list[synth.SynthReport] = []
    for i, (agency, year) in enumerate(names):
        prev = out[-1] if out and out[-1].year == year - 1 else None
        out.append(link(prev, _random(rng, agency, year, n0 + i)))
    return out


def _copy_of(rep: synth.SynthReport, year: int, n: int) -> synth.SynthReport:
    """Given a report, return next year's copy of it: same cells, same narrative, the new year's title."""
    published = _published(rep.agency, year, n)
    return synth.SynthReport(rep.fmt, rep.agency, year, published, f"{rep.agency}{year}年政府信息公开工作年度报告",
                             rep.scope, dict(rep.cells), set(rep.blanks), dict(rep.sections), dict(rep.raw))


def reports(seed: int = 14) -> list[synth.SynthReport]:
    """Given a seed, return the column's reports (the same for the same seed), findings planted."""
    rng = random.Random(seed)
    office = _chain(rng, [(OFFICE_OLD, 2021), (OFFICE_OLD, 2022), (OFFICE_NEW, 2023), (OFFICE_NEW, 2024)], 0)
    justice = _chain(rng, [(JUS, y) for y in (2021, 2022, 2023, 2024)], 4)
    finance = _chain(rng, [(FIN, 2021), (FIN, 2022), (FIN, 2024)], 8)
    # the copied body: a first report whose carry-over and stock are stationary, so its copy is consistent
    edu = _random(rng, EDU, 2022, 11)
    for col in T3_C6:
        edu.cells[f"t3.carried_in.{col}"] = edu.cells[f"t3.carried_out.{col}"]
    for row in ("t2.regulation", "t2.normative_doc"):
        edu.cells[f"{row}.repealed"] = edu.cells[f"{row}.issued"]
    edu = synth.rebalance(edu)
    copied = _copy_of(edu, 2023, 12)
    # planted breaks (tables stay arithmetically consistent: 新收 follows the carried-in change)
    y1 = office[2]
    y1.cells["t3.carried_in.natural"] += PLANTED["y1_fail"]["delta"]
    synth.rebalance(y1)
    justice[2].cells["t2.normative_doc.in_force"] += PLANTED["y2_fail"]["delta"]
    for later in justice[3:]:  # the next year is consistent with the printed (wrong) stock
        later.cells["t2.normative_doc.in_force"] += PLANTED["y2_fail"]["delta"]
    members = [office[1], justice[1], finance[1], edu]
    gov = _random(rng, GOV, 2022, 13, scope="aggregate")
    for key in gov.cells:
        if key.startswith(("t3.", "t4.")):
            gov.cells[key] = sum(m.cells[key] for m in members)
    gov = synth.rebalance(gov)
    return [*office, *justice, *finance, edu, copied, gov]


def _url(rep: synth.SynthReport, i: int) -> str:
    ym = rep.published[:7].replace("-", "")
    return f"{_BASE}{ym}/t{rep.published.replace('-', '')}_{5000 + i}.html"


def _list_page(rows: list[tuple[str, str, str]], n: int, pages: int) -> bytes:
    lis = "".join(f'<li><a href="{h}" title="{t}">{t}</a><span>{d}</span></li>' for h, t, d in rows)
    pager = f'createPageHTML({pages}, {n}, "index", "html");var countPage = {pages};'
    return page("政府信息公开年报", f'<ul class="list">{lis}</ul><script>{pager}</script>',
                head='<meta name="ColumnName" content="政府信息公开年报">')


def build(portal: PortalLike, seed: int = 14) -> list[Expected]:
    """Add the series.fixture.test routes to ``portal``; return the reports a crawl of :data:`SERIES_URL` must
    find."""
    expected: list[Expected] = []
    rows: list[tuple[str, str, str]] = []
    for i, rep in enumerate(reports(seed)):
        url = _url(rep, i)
        portal.add(url, Answer(body=render(rep, "official_html")))
        expected.append(Expected(url, rep.agency, rep.year))
        rows.append((url.replace(_BASE, "./"), rep.title, rep.published))
    rows.sort(key=lambda r: r[2], reverse=True)
    chunks = [rows[i:i + PER_PAGE] for i in range(0, len(rows), PER_PAGE)]
    for n, chunk in enumerate(chunks):
        portal.add(_BASE + ("index.html" if n == 0 else f"index_{n}.html"), _answer(chunk, n, len(chunks)))
    portal.add(f"{HOST}/robots.txt", Answer(body=b"User-agent: *\nAllow: /\n", ctype="text/plain"))
    return expected


def _answer(rows: list[tuple[str, str, str]], n: int, pages: int) -> Answer:
    return Answer(body=_list_page(rows, n, pages))


def revise(portal: PortalLike, seed: int = 14) -> str:
    """Given the portal, correct one cell of :data:`REVISED`'s report in place (予以公开 of natural persons +1;
    the totals and 新收 follow) as a body does after publication; return its URL. The next crawl of the column
    stores a second version of that URL."""
    for i, rep in enumerate(reports(seed)):
        if (rep.agency, rep.year) != REVISED:
            continue
        url = _url(rep, i)
        rep.cells["t3.outcome.granted.natural"] += 1
        synth.rebalance(rep)
        portal.add(url, Answer(body=render(rep, "official_html")))
        return url
    raise KeyError(f"no report of {REVISED}")
