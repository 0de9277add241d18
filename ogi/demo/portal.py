"""A local imitation of real government portals, for the crawl tests, ``ogi demo`` and the benchmark.

One threaded HTTP server on 127.0.0.1 serves several virtual hosts under ``fixture.test``; the crawler reaches
them through ``OGI_HOST_MAP = {"fixture.test": "127.0.0.1:<port>"}`` (the server also answers proxy-style
absolute URLs), so URLs keep their real shapes. Families and faults follow ``shared/spec/portals.md`` §7:

* ``hub.fixture.test/zfxxgknb/``: a 年报 hub linking the columns below, a university report, a 政府网站年度
  报表, a dead link and a spam mirror;
* ``ministry.fixture.test``: TRS, 0-based ``createPageHTML`` column (declared last page 404, a 503-then-OK
  article, a gb2312-declared GBK article, a picture report (three page images, OCR), a soft 404, a row listed twice, a year-first
  title, a confusable sibling) and a 1-based ``.shtml`` column;
* ``province.fixture.test``: Hanweb jpage column (embedded XML first page, POST dataproxy windows, split
  dates, a ``downfile.jsp`` attachment that 302s to ``/attach/``, one that 302s to a 404, a title without a
  year, an off-site mirror row);
* ``city.fixture.test``: gkmlpt JSON (BOM, 503 with Retry-After then OK, a 政府工作报告 category);
* ``county.fixture.test``: plain list with 下一页, a 412 challenge wall, a 521 cookie wall, a slow page,
  ``robots.txt`` disallowing ``/search/``;
* ``closed.fixture.test``: answers 403 on ``robots.txt``; its report column must never be fetched;
* ``series.fixture.test``: one prefecture's bodies 2021–2024 with a finding of each across-report kind planted
  (:mod:`ogi.demo.series`; its own source in ``ogi demo``, not linked from the hub);
* ``bench.fixture.test`` (when ``bench_reports`` > 0): a TRS column with that many generated reports.

Reports are generated from the bundled real fixtures (``ogi/demo/reports/*.json``) with
``ogi.demo.synth``. Every static page has an ETag and Last-Modified and answers conditional requests
with 304. :attr:`Portal.manifest` says what a crawl must find and which URLs must fail with which reason.

Between two crawls the portal can change like a real one (the scheduler's light and revisions passes are
tested with these switches): :meth:`Portal.publish_report` lists a new report on the first page of the TRS
column, :meth:`Portal.revise_report` changes the bytes of a published report (a new version).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ogi.demo import fujian, series, synth
from ogi.demo.pages import HTML, LAST_MODIFIED, Answer, Expected, Handler, page
from ogi.demo.render import render
from ogi.demo.server import PortalServer

logger = logging.getLogger(__name__)

__all__ = ["FJ_URL", "HTML", "HUB_URL", "SERIES_URL", "Answer", "Expected", "Handler", "Portal", "PortalServer",
           "page"]
FJ_URL = fujian.FJ_URL
SERIES_URL = series.SERIES_URL

REPORTS_DIR = Path(__file__).with_name("reports")
ASSETS_DIR = Path(__file__).with_name("assets")
# the picture report (…（图片版）): fixture 010's cells as this agency's report, rendered to three page images by
# scripts/demo_images.py (committed in ogi/demo/assets/); the crawl fetches them and reads the tables by OCR
IMAGE_REPORT: dict[str, Any] = {"fixture": "010.json", "agency": "某某部机关服务局", "year": 2023,
                                "images": ["W020240125000001.jpg", "W020240125000002.jpg", "W020240125000003.jpg"]}


def _fixtures() -> list[dict[str, Any]]:
    out = []
    for path in sorted(REPORTS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") in synth.FORMATS and data.get("expected_cells"):
            out.append(data)
    return out


class Portal:
    """The routes of all fixture hosts, plus the manifest of what a crawl must find."""

    def __init__(
        self, *, bench_reports: int = 0, slow_seconds: float = 3.0, seed: int = 7, delay: float = 0.0
    ) -> None:
        self.routes: dict[str, Answer | Handler] = {}
        self.expected: list[Expected] = []
        self.expected_failures: dict[str, str] = {}  # url -> reason
        self.hits: Counter[str] = Counter()
        self.bytes_sent = 0
        self.slow_seconds = slow_seconds
        self.delay = delay  # seconds added to every answer (to make a crawl slow enough to interrupt)
        self.lock = threading.Lock()
        self.fixtures = _fixtures()
        self.rng = random.Random(seed)
        self._n = 0
        self._published = 0  # reports added by publish_report
        self._build_hub()
        self._build_trs()
        self._build_hanweb()
        self._build_gkmlpt()
        self._build_county()
        self._build_closed()
        self.fj_expected = fujian.build(self)  # what a crawl of FJ_URL must find
        self.series_expected = series.build(self)  # what a crawl of SERIES_URL must find (ogi.demo.series)
        if bench_reports:
            self._build_bench(bench_reports)

    # ---- reports -----------------------------------------------------------------------------------------
    def report_bytes(
        self,
        agency: str,
        *,
        layout: str = "official_html",
        encoding: str = "utf-8",
        fixture: int | None = None,
    ) -> tuple[bytes, int]:
        """A report of ``agency`` built from one real fixture's cells: (bytes, report year)."""
        data = self.fixtures[(self._n if fixture is None else fixture) % len(self.fixtures)]
        self._n += 1
        rep = synth.from_expected(data["expected_cells"], data["format"], agency, int(data["year"]))
        return render(rep, layout, encoding=encoding), int(data["year"])

    def add(self, url: str, answer: Answer | Handler) -> str:
        parts = urlsplit(url)
        key = f"{parts.hostname}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        self.routes[key] = answer
        return url

    def add_report(self, url: str, agency: str, **kw: Any) -> tuple[str, int]:
        body, year = self.report_bytes(agency, **kw)
        charset = "text/html; charset=utf-8" if kw.get("encoding", "utf-8") == "utf-8" else "text/html"
        self.add(url, Answer(body=body, ctype=charset))
        self.expected.append(Expected(url, agency, year))
        return url, year

    @property
    def manifest(self) -> dict[str, Any]:
        return {"reports": [e.__dict__ for e in self.expected], "failures": dict(self.expected_failures)}

    # ---- hub ---------------------------------------------------------------------------------------------
    def _build_hub(self) -> None:
        links = [
            ("http://ministry.fixture.test/zfxxgk/zfxxgknb/index.html", "某某部政府信息公开年报"),
            ("http://ministry.fixture.test/zfxxgk/zfxxgknb2/index.shtml", "某某部直属机构政府信息公开年报"),
            ("http://province.fixture.test/col/col1001/index.html", "某某省政府信息公开年报汇总"),
            ("http://city.fixture.test/gkmlpt/index", "某某市政府信息公开年报"),
            (
                "http://county.fixture.test/InfoPublic.aspx?cid=1019&pid=971&page=1&kw=",
                "某某县政府信息公开年报",
            ),
            ("http://county.fixture.test/rs/zfxxgknb/", "某某县人社局政府信息公开年报"),
            ("http://county.fixture.test/jsl/zfxxgknb/", "某某县公安局政府信息公开年报"),
            ("http://closed.fixture.test/zfxxgknb/", "某某县教育局政府信息公开年报"),
            ("http://hub.fixture.test/dead/zfxxgknb/", "某某区政府信息公开年报"),
            ("http://www.some-univ.edu.cn/xxgkndbg.htm", "某某大学2023年信息公开年度报告"),
            ("http://hub.fixture.test/zfwzgzndbb/", "某某市政府网站工作年度报表"),
            ("http://mirror-spam.example/zfxxgknb/2023.html", "某某市2023年政府信息公开工作年度报告"),
        ]
        rows = "".join(f'<li><a href="{u}" title="{t}">{t}</a></li>' for u, t in links)
        self.add(
            "http://hub.fixture.test/zfxxgknb/", Answer(body=page("政府信息公开年报", f"<ul>{rows}</ul>"))
        )
        self.expected_failures["http://hub.fixture.test/dead/zfxxgknb/"] = "http/404"
        self.expected_failures["http://county.fixture.test/rs/zfxxgknb/"] = "blocked/412-challenge"
        self.expected_failures["http://county.fixture.test/jsl/zfxxgknb/"] = "blocked/521-jsl"
        for confusable in ("http://www.some-univ.edu.cn/xxgkndbg.htm", "http://hub.fixture.test/zfwzgzndbb/"):
            self.expected_failures[confusable] = "confusable"  # a university's report, a website report
        self.expected_failures["http://mirror-spam.example/zfxxgknb/2023.html"] = "offsite"
        self.add(
            "http://hub.fixture.test/robots.txt",
            Answer(body=b"User-agent: *\nAllow: /\n", ctype="text/plain"),
        )

    # ---- TRS ---------------------------------------------------------------------------------------------
    def _trs_list(
        self, rows: list[tuple[str, str, str]], pager: str, title: str = "政府信息公开年报"
    ) -> bytes:
        lis = "".join(
            f'<li><a href="{href}" title="{full}">{(full[:14] + "…") if len(full) > 16 else full}</a>'
            f"<span>{date}</span></li>"
            for href, full, date in rows
        )
        sib = (
            '<div class="side"><a href="../zfwzgzndbb/">政府网站工作年度报表</a> <a href="../zfxxgkzn/">'
            "政府信息公开指南</a></div>"
        )
        return page(
            title,
            f'<ul class="list">{lis}</ul>{sib}<script>{pager}</script>',
            head='<meta name="ColumnName" content="政府信息公开年报">',
        )

    def _build_trs(self) -> None:
        base = "http://ministry.fixture.test/zfxxgk/zfxxgknb/"
        agencies = [
            "某某部",
            "某某部办公厅",
            "某某部规划司",
            "某某部法规司",
            "某某部人事司",
            "某某部财务司",
            "某某部科技司",
            "某某部国际司",
        ]
        pages: list[list[tuple[str, str, str]]] = [[], [], []]
        for i, agency in enumerate(agencies):
            url = f"{base}2024{i + 1:02d}/t202401{i + 10}_1001{i:02d}.html"
            _, year = self.add_report(url, agency, fixture=i)
            title = f"{agency}{year}年政府信息公开工作年度报告"
            if i == 3:
                title = f"{year}年{agency}政府信息公开工作年度报告"  # year-first
            pages[i % 3].append((url.replace(base, "./"), title, f"2024-01-{i + 10}"))
        # (g) gb2312 declared in meta only, GBK-only characters in the body
        gbk_url = f"{base}202402/t20240201_100200.html"
        body, year = self.report_bytes("某某部堃镕管理局", encoding="gbk", fixture=1)
        self.add(gbk_url, Answer(body=body, ctype="text/html"))
        self.expected.append(Expected(gbk_url, "某某部堃镕管理局", year))
        pages[1].append(
            (
                "./202402/t20240201_100200.html",
                f"某某部堃镕管理局{year}年政府信息公开工作年度报告",
                "2024-02-01",
            )
        )
        # a 503 (Retry-After 1) on the first request, then OK
        flaky_url = f"{base}202402/t20240202_100201.html"
        flaky_body, flaky_year = self.report_bytes("某某部信息中心", fixture=2)
        calls: Counter[str] = Counter()

        def flaky(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
            calls["n"] += 1
            if calls["n"] == 1:
                return Answer(
                    503,
                    b"<html><body>Service Unavailable</body></html>",
                    headers={"Retry-After": "1"},
                    cache=False,
                )
            return Answer(body=flaky_body)

        self.add(flaky_url, flaky)
        self.expected.append(Expected(flaky_url, "某某部信息中心", flaky_year))
        pages[2].append(
            (
                "./202402/t20240202_100201.html",
                f"某某部信息中心{flaky_year}年政府信息公开工作年度报告",
                "2024-02-02",
            )
        )
        # a picture report (its tables are three page images, read by OCR), soft 404, duplicate row
        agency, year = IMAGE_REPORT["agency"], IMAGE_REPORT["year"]
        img_title = f"{agency}{year}年政府信息公开工作年度报告（图片版）"
        imgs = "".join(f'<p><img src="./{name}"></p>' for name in IMAGE_REPORT["images"])
        img_url = self.add(
            f"{base}202401/t20240125_100300.html",
            Answer(body=page(img_title, '<div class="header"><img src="/images/logo.png"></div>'
                                        f'<div class="TRS_Editor">{imgs}</div>' + "<!-- padding -->" * 40)),
        )
        for name in IMAGE_REPORT["images"]:
            self.add(f"{base}202401/{name}", Answer(body=(ASSETS_DIR / name).read_bytes(), ctype="image/jpeg"))
        self.expected.append(Expected(img_url, agency, year))
        pages[0].append(("./202401/t20240125_100300.html", img_title, "2024-01-25"))
        soft = self.add(
            f"{base}202401/t20240126_100301.html",
            Answer(body=page("提示", "<p>对不起，您访问的页面不存在！</p>")),
        )
        pages[1].append(
            (
                "./202401/t20240126_100301.html",
                "某某部离退休干部局2023年政府信息公开工作年度报告",
                "2024-01-26",
            )
        )
        self.expected_failures[soft] = "soft-404"
        pages[1].append(pages[0][0])  # listed twice
        self._trs_base, self._trs_pages = base, pages
        for n in range(len(pages)):
            self._render_trs_page(n)
        self.expected_failures[base + "index_3.html"] = "http/404"  # declared but missing
        self.add(base + "index_4.html", Answer(body=b"<html><body></body></html>"))  # stub never reached
        self.add(
            "http://ministry.fixture.test/zfxxgk/zfwzgzndbb/",
            Answer(body=page("政府网站工作年度报表", "<p>x</p>")),
        )
        self.expected_failures["http://ministry.fixture.test/zfxxgk/zfwzgzndbb/"] = "confusable"
        # the 1-based .shtml column
        base2 = "http://ministry.fixture.test/zfxxgk/zfxxgknb2/"
        rows2: list[list[tuple[str, str, str]]] = [[], []]
        for i, agency in enumerate(["某某部直属一局", "某某部直属二局", "某某部直属三局"]):
            url = f"{base2}202403/t2024030{i + 1}_2001{i}.shtml"
            _, year = self.add_report(url, agency, fixture=i + 3)
            rows2[i % 2].append(
                (url.replace(base2, "./"), f"{agency}{year}年政府信息公开工作年度报告", "2024-03-01")
            )
        for n, rows in enumerate(rows2):
            name = "index.shtml" if n == 0 else f"index_{n + 1}.shtml"
            pager = f"createPageHTML('paging', 2, {n + 1}, 'index', 'shtml', 3);"
            self.add(base2 + name, Answer(body=self._trs_list(rows, pager)))
        self.add(
            "http://ministry.fixture.test/robots.txt",
            Answer(body=b"User-agent: *\nDisallow: /search/\n", ctype="text/plain"),
        )

    def _render_trs_page(self, n: int) -> None:
        name = "index.html" if n == 0 else f"index_{n}.html"
        pager = f'createPageHTML(4, {n}, "index", "html");var countPage = 4;'
        self.add(self._trs_base + name, Answer(body=self._trs_list(self._trs_pages[n], pager)))

    # ---- changes between crawls --------------------------------------------------------------------------
    def publish_report(self, agency: str = "某某部新设局", *, fixture: int = 5) -> str:
        """List a new report at the top of the TRS column's first page (as a portal does when a report is
        published); return its URL. Each call publishes another one."""
        with self.lock:
            self._published += 1
            n = self._published
        url = f"{self._trs_base}202404/t202404{n:02d}_1009{n:02d}.html"
        _, year = self.add_report(url, agency, fixture=fixture)
        title = f"{agency}{year}年政府信息公开工作年度报告"
        self._trs_pages[0].insert(0, (url.replace(self._trs_base, "./"), title, f"2024-04-{n:02d}"))
        self._render_trs_page(0)
        return url

    def revise_report(self, url: str, note: str = "（2024年4月修订：更正第三部分数据）") -> None:
        """Change a published report's bytes (a revision note before ``</body>``): its ETag changes, so a
        conditional re-check fetches it again and the archive keeps it as a new version."""
        parts = urlsplit(url)
        key = f"{parts.hostname}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        route = self.routes.get(key)
        if not isinstance(route, Answer):
            raise KeyError(f"no static page at {url}")
        marker = b"</body>" if b"</body>" in route.body else b""
        revised = f"<p>{note}</p>".encode("gbk" if b"charset=gb2312" in route.body[:400] else "utf-8")
        body = route.body.replace(marker, revised + marker) if marker else route.body + revised
        self.routes[key] = Answer(route.status, body, route.ctype, dict(route.headers), route.cache)

    # ---- Hanweb ------------------------------------------------------------------------------------------
    @staticmethod
    def _records(rows: list[tuple[str, str, str]]) -> str:
        return "".join(
            f'<record><![CDATA[<li><a href="{href}" title="{title}" target="_blank">{title[:12]}…</a>'
            f'<span class="time">\n{date[:5]}\n{date[5:8]}\n{date[8:]}\n</span></li>]]></record>'
            for href, title, date in rows
        )

    def _build_hanweb(self) -> None:
        host = "http://province.fixture.test"
        rows: list[tuple[str, str, str]] = []
        for i in range(7):
            agency = f"某某省第{i + 1}厅"
            url = f"{host}/art/2024/1/{i + 2}/art_1001_4179{i}.html"
            body, year = self.report_bytes(agency, fixture=i)
            attach = ""
            if i == 0:  # attachment behind a download servlet that redirects to /attach/
                doc, doc_year = self.report_bytes(f"{agency}（附件）", layout="word_html", fixture=i + 1)
                fname = hashlib.md5(doc).hexdigest() + ".doc"
                attach = (
                    f'<p>附件：<a href="/module/download/downfile.jsp?classid=0&filename={fname}">'
                    f"{agency}年报.doc</a></p>"
                    '<p>附件：<a href="/module/download/downfile.jsp?classid=0&filename=dead.pdf">旧版.pdf</a></p>'
                )
                self.add(
                    f"{host}/module/download/downfile.jsp?classid=0&filename={fname}",
                    Answer(302, headers={"Location": f"/attach/0/{fname}"}, cache=False),
                )
                self.add(f"{host}/attach/0/{fname}", Answer(body=doc, ctype="application/msword"))
                self.add(
                    f"{host}/module/download/downfile.jsp?classid=0&filename=dead.pdf",
                    Answer(302, headers={"Location": "/attach/0/dead.pdf"}, cache=False),
                )
                self.expected.append(
                    Expected(
                        f"{host}/module/download/downfile.jsp?classid=0&filename={fname}",
                        f"{agency}（附件）",
                        doc_year,
                        "attachment",
                    )
                )
                self.expected_failures[f"{host}/attach/0/dead.pdf"] = (
                    "http/404"
                )
            if attach:
                body = body.replace(b"</body>", attach.encode() + b"</body>")
            self.add(url, Answer(body=body))
            self.expected.append(Expected(url, agency, year))
            title = f"{agency}{year}年政府信息公开工作年度报告" if i != 5 else f"{agency}政府信息公开年报"
            rows.append((url.replace(host, ""), title, f"2024-01-{i + 2:02d}"))
        rows.append(
            (
                "http://mirror-spam.example/art/2024/1/2/art_1.html",
                "某某省第1厅2023年政府信息公开工作年度报告",
                "2024-01-02",
            )
        )
        self.expected_failures["http://mirror-spam.example/art/2024/1/2/art_1.html"] = "offsite"
        embedded = rows[:3]
        column = (
            '<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1">'
            f"</a>]]></nextgroup><recordset>{self._records(embedded)}</recordset></datastore></script>"
            f"<script>var pager = {{totalRecord: {len(rows)}, perPage: 3}}; "
            f'var param = "webid=1&unitid=5001&columnid=1001";</script>'
        )
        self.add(
            f"{host}/col/col1001/index.html",
            Answer(
                body=page(
                    "2024年政府信息公开年报汇总",
                    f'<div id="list">{column}</div>',
                    head='<meta name="ColumnName" content="2024年政府信息公开年报汇总">',
                )
            ),
        )

        def dataproxy(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
            form = parse_qs(data.decode("utf-8", "replace"))
            if method != "POST" or form.get("columnid") != ["1001"]:
                return Answer(body=b"<datastore></datastore>", ctype="text/xml; charset=utf-8", cache=False)
            start = int(query.get("startrecord", ["1"])[0])
            end = int(query.get("endrecord", ["3"])[0])
            window = rows[start - 1 : end]
            xml = f"<datastore><recordset>{self._records(window)}</recordset></datastore>"
            return Answer(body=xml.encode(), ctype="text/xml; charset=utf-8", cache=False)

        self.add(f"{host}/module/web/jpage/dataproxy.jsp", dataproxy)

    # ---- gkmlpt ------------------------------------------------------------------------------------------
    def _build_gkmlpt(self) -> None:
        host = "http://city.fixture.test"
        shell = (
            "<div id='app'></div><script>window._CONFIG = {SID: '755001', TREE: ["
            "{id: 3011, name: '政府信息公开年报'}, {id: 3012, name: '政府工作报告'}]};</script>"
        )
        self.add(f"{host}/gkmlpt/index", Answer(body=page("政府信息公开目录", shell + "<!-- -->" * 60)))
        articles = []
        for i in range(5):
            agency = f"某某市第{i + 1}局"
            url = f"{host}/zfxxgknb/bm/2023n/content/post_946901{i}.html"
            _, year = self.add_report(url, agency, fixture=i + 2)
            articles.append(
                {
                    "id": 9469010 + i,
                    "title": f"{agency}{year}年政府信息公开工作年度报告",
                    "url": url,
                    "publisher": agency,
                    "display_publish_time": 1706486400 + i * 86400,
                    "create_time": 1706486400,
                }
            )
        calls: Counter[str] = Counter()

        def api(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
            n = max(int(query.get("page", ["1"])[0] or 1), 1)
            if n == 2:
                calls["p2"] += 1
                if calls["p2"] == 1:
                    return Answer(503, b"busy", ctype="text/plain", headers={"Retry-After": "1"}, cache=False)
            chunk = articles[(n - 1) * 3 : n * 3]
            body = json.dumps({"total": len(articles), "articles": chunk}, ensure_ascii=False).encode()
            return Answer(body=b"\xef\xbb\xbf" + body, ctype="application/json", cache=False)

        def work_report_api(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
            arts = [
                {
                    "id": 1,
                    "title": "2024年某某市政府工作报告",
                    "url": f"{host}/zfgzbg/post_1.html",
                    "display_publish_time": 1706486400,
                }
            ]
            return Answer(
                body=json.dumps({"total": 1, "articles": arts}, ensure_ascii=False).encode(),
                ctype="application/json",
                cache=False,
            )

        self.add(f"{host}/gkmlpt/api/all/3011", api)
        self.add(f"{host}/gkmlpt/api/all/3012", work_report_api)

    # ---- legacy county and gatekeepers -------------------------------------------------------------------
    def _build_county(self) -> None:
        host = "http://county.fixture.test"
        reports = []
        for i in range(4):
            agency = f"某某县第{i + 1}局"
            url = f"{host}/InfoDetail.aspx?id={501 + i}"
            _, year = self.add_report(url, agency, fixture=i + 4)
            reports.append((url, f"{agency}{year}年政府信息公开工作年度报告"))
        slow_url = f"{host}/InfoDetail.aspx?id=599"
        reports.append((slow_url, "某某县慢局2023年政府信息公开工作年度报告"))
        self.expected_failures[slow_url] = "timeout"
        dead_url = f"{host}/InfoDetail.aspx?id=598"
        reports.append((dead_url, "某某县旧局2022年政府信息公开工作年度报告"))
        self.expected_failures[dead_url] = "http/404"
        search_url = f"{host}/search/annual.aspx?id=1"
        reports.append((search_url, "某某县搜索局2023年政府信息公开工作年度报告"))
        self.expected_failures[search_url] = "robots"
        slow_seconds = self.slow_seconds

        def slow(method: str, query: dict[str, list[str]], data: bytes) -> Answer:
            time.sleep(slow_seconds)
            return Answer(body=page("慢", "<p>slow</p>"), cache=False)

        self.add(slow_url, slow)
        self.add(search_url, Answer(body=page("x", "<p>should never be fetched</p>")))
        per = 4
        pages = [reports[i : i + per] for i in range(0, len(reports), per)]
        for n, chunk in enumerate(pages, start=1):
            rows = "".join(
                f'<tr><td><a href="{u}">{t}</a></td><td class="huise">2024-01-2{n}</td></tr>'
                for u, t in chunk
            )
            nav = f"共{len(pages)}页 "
            if n < len(pages):
                nav += f'<a href="InfoPublic.aspx?cid=1019&amp;pid=971&amp;page={n + 1}&amp;kw=">下一页</a>'
            self.add(
                f"{host}/InfoPublic.aspx?cid=1019&pid=971&page={n}&kw=",
                Answer(
                    body=page("政府信息公开年报", f"<table>{rows}</table><div>{nav}</div>", charset="gb2312"),
                    ctype="text/html",
                ),
            )
        self.add(
            f"{host}/robots.txt", Answer(body=b"User-agent: *\nDisallow: /search/\n", ctype="text/plain")
        )
        self.add(
            f"{host}/rs/zfxxgknb/",
            Answer(
                412,
                b"<html><head><script>$_ts=window['$_ts'];$_ts.nsd=123;</script></head><body></body></html>",
                cache=False,
            ),
        )
        self.add(
            f"{host}/jsl/zfxxgknb/",
            Answer(
                521,
                b"<script>document.cookie='__jsl_clearance_s=1700000000.1|0|abc';"
                b"location.href=location.pathname+location.search</script>",
                headers={"Set-Cookie": "__jsluid_s=abc123; path=/"},
                cache=False,
            ),
        )

    def _build_closed(self) -> None:
        """A host whose robots.txt answers 403: a polite crawler fetches nothing else there."""
        host = "http://closed.fixture.test"
        self.add(f"{host}/robots.txt", Answer(403, page("403", "<h1>403 Forbidden</h1>"), cache=False))
        column = f"{host}/zfxxgknb/"
        rows = "".join(
            f'<li><a href="{host}/zfxxgknb/t2024012{i}_9000{i}.html">某某县教育局{2021 + i}年政府信息公开工作年度报告</a>'
            f"<span>2024-01-2{i}</span></li>"
            for i in range(3)
        )
        self.add(column, Answer(body=page("政府信息公开年报", f"<ul>{rows}</ul>")))
        self.expected_failures[column] = "robots/403"

    # ---- benchmark ---------------------------------------------------------------------------------------
    def _build_bench(self, n: int) -> None:
        base = "http://bench.fixture.test/zfxxgknb/"
        rng = random.Random(2024)
        per = 20
        rows: list[tuple[str, str, str]] = []
        for i in range(n):
            rep = synth.random_report(rng, rng.choice(synth.FORMATS), agency=f"基准测试第{i + 1}局")
            url = f"{base}2024{i % 12 + 1:02d}/t2024{i % 12 + 1:02d}15_{300000 + i}.html"
            self.add(url, Answer(body=render(rep, "official_html")))
            self.expected.append(Expected(url, rep.agency, rep.year))
            rows.append((url.replace(base, "./"), rep.title, rep.published))
        pages = [rows[i : i + per] for i in range(0, len(rows), per)]
        for k, chunk in enumerate(pages):
            name = "index.html" if k == 0 else f"index_{k}.html"
            pager = f'createPageHTML({len(pages)}, {k}, "index", "html");'
            self.add(base + name, Answer(body=self._trs_list(chunk, pager)))

    # ---- serving -----------------------------------------------------------------------------------------
    def answer(self, method: str, host: str, target: str, headers: dict[str, str], data: bytes) -> Answer:
        parts = urlsplit(target)
        key_q = f"{host}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        route = self.routes.get(key_q) or self.routes.get(f"{host}{parts.path or '/'}")
        with self.lock:
            self.hits[f"http://{key_q}"] += 1
        if self.delay:
            time.sleep(self.delay)
        if route is None:
            if parts.path == "/robots.txt":
                return Answer(404, b"", ctype="text/plain", cache=False)
            return Answer(404, page("404", "<h1>404 Not Found</h1>"), cache=False)
        answer = route(method, parse_qs(parts.query), data) if callable(route) else route
        if answer.cache and answer.status == 200:
            etag = '"' + hashlib.sha1(answer.body).hexdigest()[:16] + '"'
            extra = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
            if headers.get("if-none-match") == etag or (
                "if-none-match" not in headers and headers.get("if-modified-since") == LAST_MODIFIED
            ):
                return Answer(304, b"", ctype="", headers=extra, cache=False)
            return Answer(answer.status, answer.body, answer.ctype, {**answer.headers, **extra}, cache=False)
        return answer


HUB_URL = "http://hub.fixture.test/zfxxgknb/"


def main() -> None:  # python -m ogi.demo.portal [port]  (serves until interrupted)
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    bench = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    srv = PortalServer(Portal(bench_reports=bench), port).start()
    sys.stdout.write(f"{srv.port}\n")
    sys.stdout.flush()
    try:
        srv.thread.join()
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
