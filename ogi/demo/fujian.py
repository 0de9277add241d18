"""``fj.fixture.test``: the list mechanisms of a Fujian city portal (portals.md §2.1a), imitated.

* ``/zwgk/zfxxgk/``: the 政府信息公开 page linking the department columns below;
* ``/zwgk/zfxxgk/czj/zfxxgknb/``: a TRS "动静结合" column: ``var pageChnlInfo = {quickMode: "动静结合",
  maxStaticIndex: 1, classsql: "" || "chnlid=2101", recordCount: '13', prepage: 10}`` and ``listModel({...})``
  from ``list2.trsapi``; the first 10 rows are in the HTML (``<div ms-visible="showStatic">``), page 2 comes from
  ``POST /fjdzapp/search`` (JSON ``{pageCount, data: [{doctitle, chnldocurl, docreltime}]}``). One row is titled
  …政务公开工作年度报告 (its body is an OGI annual report: the document decides), one is a 工作要点 letter;
* ``/zwgk/zfxxgk/gaj/zfxxgknb/``: a pure "动态" column (nothing static, no recordCount, a classsql computed by a
  ternary as on the real pages); API pages of 5. One report is a short page that only links its ``.doc``;
* ``/xxgk/gkmlpt/index#2541``: a gkmlpt catalogue under a path prefix, with no TREE: the category comes from the
  URL hash.

Every static page answers conditional requests with 304 (ETag / Last-Modified); API POSTs are not cached.
"""

from __future__ import annotations

import json
import math
from typing import Any, Protocol
from urllib.parse import parse_qs

from ogi.demo.pages import Answer, Expected, page

__all__ = ["FJ_URL", "build"]

HOST = "http://fj.fixture.test"
FJ_URL = f"{HOST}/zwgk/zfxxgk/"
JSON = "application/json; charset=utf-8"


class PortalLike(Protocol):
    def add(self, url: str, answer: Any) -> str: ...

    def report_bytes(self, agency: str, *, layout: str = ..., encoding: str = ...,
                     fixture: int | None = ...) -> tuple[bytes, int]: ...


def _static_list(title: str, rows: list[tuple[str, str, str]], config: str, model: str) -> bytes:
    lis = "".join(f'<li><a href="{h}" target="_blank" title="{t}">{t}</a><em id="rel_{n}"></em>'
                  f'<span class="bf-pass">{d}</span></li>' for n, (h, t, d) in enumerate(rows))
    body = (f'<div class="crumb"><a href="../../../">首页</a> <a href="../../">政务公开</a> <a href="./">{title}</a></div>'
            f'<div ms-controller="list"><div ms-visible="showStatic"><div ms-visible="$showStatic(1)"><ul>{lis}'
            '</ul></div></div><div ms-visible="!showStatic"><ul><li ms-repeat="list"><a ms-attr-href="el.chnldocurl"'
            ' ms-attr-title="el.doctitle"></a></li></ul></div></div>'
            '<div class="page_base" ms-controller="list_pagebar" ms-include-src="pgTemp"></div>'
            '<script>var SiteInfo = {itpSiteId: 21, searchId: 300100, defaultPgTemp: "pgBar_pt.html"};</script>'
            f"<script>{config}</script><script>require(['list2.trsapi'], function(listModel) {{ listModel({model}); }});"
            "</script>")
    return page(title, body, head=f'<meta name="ColumnName" content="{title}">')


def _api(columns: dict[str, tuple[int, list[tuple[str, str, str]]]]):
    """The search API: POST form (channelid, classsql, page, prepage) -> one page of a column's rows."""

    def answer(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
        form = {k: v[0] for k, v in parse_qs(data.decode("utf-8", "replace")).items()}
        key = next((k for k in columns if k in form.get("classsql", "")), None)
        if method != "POST" or form.get("channelid") != "300100" or key is None:
            return Answer(body=b'{"pageCount": 0, "data": []}', ctype=JSON, cache=False)
        per = int(form.get("prepage") or 10)
        page_n = max(int(form.get("page") or 1), 1)
        _, rows = columns[key]
        chunk = rows[(page_n - 1) * per: page_n * per]
        data_rows = [{"doctitle": t, "chnldocurl": h, "docreltime": f"{d} 09:00:00", "pubdate": d} for h, t, d in chunk]
        body = {"pageCount": math.ceil(len(rows) / per), "data": data_rows}
        return Answer(body=json.dumps(body, ensure_ascii=False).encode(), ctype=JSON, cache=False)

    return answer


def _reports(portal: PortalLike, expected: list[Expected], folder: str, agencies: list[str],
             first_fixture: int) -> list[tuple[str, str, str]]:
    rows = []
    for i, agency in enumerate(agencies):
        url = f"{HOST}{folder}2024{(i % 9) + 1:02d}/t2024{(i % 9) + 1:02d}15_{3000 + first_fixture * 50 + i}.htm"
        body, year = portal.report_bytes(agency, fixture=first_fixture + i)
        portal.add(url, Answer(body=body))
        expected.append(Expected(url, agency, year))
        rows.append((url, f"{agency}{year}年政府信息公开工作年度报告", f"2024-{(i % 9) + 1:02d}-15"))
    return rows


def build(portal: PortalLike) -> list[Expected]:
    """Add the fj.fixture.test routes to ``portal``; return the reports a crawl of :data:`FJ_URL` must find."""
    expected: list[Expected] = []
    czj = "/zwgk/zfxxgk/czj/zfxxgknb/"
    rows = _reports(portal, expected, czj, [f"平潭某某财政金融局第{n}科" for n in range(1, 12)], 0)
    # a 政务公开 title whose document is an OGI annual report (fetched; the document decides)
    amb_url = f"{HOST}{czj}202402/t20240220_3090.htm"
    body, year = portal.report_bytes("平潭某某财政金融局", fixture=3)
    portal.add(amb_url, Answer(body=body))
    expected.append(Expected(amb_url, "平潭某某财政金融局", year))
    rows.insert(4, (amb_url, f"平潭某某财政金融局{year}年政务公开工作年度报告", "2024-02-20"))
    letter = f"{HOST}{czj}202403/t20240301_3091.htm"
    portal.add(letter, Answer(body=page("关于2024年政务公开工作要点的函", "<p>各单位：现将工作要点印发。</p>" * 30)))
    rows.insert(7, (letter, "关于印发2024年政务公开工作要点的通知", "2024-03-01"))
    static = [(h.replace(f"{HOST}{czj}", "./"), t, d) for h, t, d in rows[:10]]
    config = ('var pageChnlInfo={ quickMode:"动静结合", maxStaticIndex: 1, classsql: "" || "chnlid=2101",'
              f" recordCount:'{len(rows)}', sortfield:'-docorderpri,-docreltime', prepage:10, cache:true }}")
    model = ("{quickMode: pageChnlInfo.quickMode, maxStaticIndex: pageChnlInfo.maxStaticIndex, listArgs: {channelid:"
             " SiteInfo.searchId, classsql: pageChnlInfo.classsql, sortfield: pageChnlInfo.sortfield||'-docreltime'},"
             ' listApi: {url: "/fjdzapp/search"}, pagebar: {recordCount: pageChnlInfo.recordCount, pgTemp:'
             " 'pgBar_pt.html', prepage: pageChnlInfo.prepage||15, pgCountMode: 'recordCount'}}")
    portal.add(f"{HOST}{czj}", Answer(body=_static_list("政府信息公开年报", static, config, model)))
    portal.add(f"{HOST}{czj}index.htm", Answer(body=_static_list("政府信息公开年报", static, config, model)))

    gaj = "/zwgk/zfxxgk/gaj/zfxxgknb/"
    rows_b = _reports(portal, expected, gaj, [f"平潭某某公安局第{n}大队" for n in range(1, 7)], 2)
    # a short page that only links its report as a .doc attachment (searched for links before "stub")
    doc, doc_year = portal.report_bytes("平潭某某公安局交警支队", layout="word_html", fixture=4)
    short = f"{HOST}{gaj}202404/t20240410_3190.htm"
    portal.add(short, Answer(body=b'<html><body><a href="./W020240410.doc">report.doc</a></body></html>'))
    portal.add(f"{HOST}{gaj}202404/W020240410.doc", Answer(body=doc, ctype="application/msword"))
    expected.append(Expected(f"{HOST}{gaj}202404/W020240410.doc", "平潭某某公安局交警支队", doc_year,
                                    "attachment"))
    rows_b.append((short, f"平潭某某公安局交警支队{doc_year}年政府信息公开工作年度报告", "2024-04-10"))
    dynamic = ('var localChnldesc = "政府信息公开年报";\n'
               'var classsql = (localChnldesc == "法定主动公开内容") ? "parentid=2102" : "parentid,chnlid+=2102";\n')
    model_b = ("{quickMode: \"动态\", listArgs: {channelid: SiteInfo.searchId, classsql: classsql + \"*modal=1\","
               " sortfield: '-pubdate'}, pagebar: {pgTemp: 'pgBar_xxgk.html', prepage: 5, displayNum: 2}}")
    portal.add(f"{HOST}{gaj}", Answer(body=_static_list("政府信息公开年报", [], dynamic, model_b)))
    portal.add(f"{HOST}/fjdzapp/search", _api({"chnlid=2101": (1, rows), "chnlid+=2102": (2, rows_b)}))

    # gkmlpt under a path prefix, no TREE: the category is the URL hash
    gk_rows = _reports(portal, expected, "/xxgk/gkmlpt/content/", [f"平潭某某区{n}镇" for n in range(1, 4)], 5)
    shell = page("政府信息公开目录", "<div id='app'></div><script>window._CONFIG = {SID: '350001'};</script>")
    portal.add(f"{HOST}/xxgk/gkmlpt/index", Answer(body=shell))

    def gk_api(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
        n = int((query.get("page") or ["1"])[0])
        if (query.get("sid") or [""])[0] != "350001":
            return Answer(body=b'{"total": 0, "articles": []}', ctype=JSON)
        arts = [{"id": i, "title": t, "url": h, "display_publish_time": 1706500000 + i}
                for i, (h, t, _) in enumerate(gk_rows[(n - 1) * 2: n * 2])]
        return Answer(body=json.dumps({"total": len(gk_rows), "articles": arts}, ensure_ascii=False).encode(),
                      ctype=JSON)

    portal.add(f"{HOST}/xxgk/gkmlpt/api/all/2541", gk_api)
    links = [(f"{HOST}{czj}", "平潭某某财政金融局政府信息公开年报"), (f"{HOST}{gaj}", "平潭某某公安局政府信息公开年报"),
             (f"{HOST}/xxgk/gkmlpt/index#2541", "平潭某某区政府信息公开年报")]
    hub = "".join(f'<li><a href="{u}" title="{t}">{t}</a></li>' for u, t in links)
    portal.add(FJ_URL, Answer(body=page("政府信息公开", f"<ul>{hub}</ul>")))
    portal.add(f"{HOST}/robots.txt", Answer(body=b"User-agent: *\nAllow: /\n", ctype="text/plain"))
    return expected
