"""The archive's Datasette plugin on any archive database: raw documents, WARC records, the printed report page,
links from rows, metadata without `ogi serve` (no placeholder), generated rules and flags, the preset chart."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from archive import schema as S

from .conftest import datasette_process

HTML = "<html><head><title>报告</title></head><body><p>焦作 2021 政府信息公开</p></body></html>".encode()


@pytest.fixture
def demo_db(tmp_path, make_parsed):
    """An archive named demo.db (not the template's name): three reports, one with failing checks, a WARC log."""
    from archive import open_archive
    from crawler.items import DocumentItem
    from crawler.warc import WarcLog

    db = tmp_path / "demo.db"
    arc = open_archive(db)
    run_id = arc.start_run(kind="crawl", trigger="test") if hasattr(arc, "start_run") else None
    warc = WarcLog(str(db), run_id)
    docs = {}
    for i, name in enumerate(("001", "007", "008")):
        body = HTML + name.encode() if i else HTML
        url = f"http://example.gov.cn/xxgk/{name}/report{name}.html"
        fetched = f"2026-01-0{i + 1}T00:00:00Z"
        sha = arc.save_document(body, url=url, http_status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                                fetched_at=fetched, run_id=run_id, source="test")
        warc.write(DocumentItem(url=url, final_url=url, http_status=200, body=body, fetched_at=fetched,
                                headers={"Content-Type": "text/html; charset=utf-8"}))
        parsed = make_parsed(name)
        if name == "007":
            parsed["checks"] = [
                {"rule": "I1", "scope": "total", "status": "fail", "lhs": 10, "rhs": 12},
                {"rule": "I3", "scope": "t3.received_new", "status": "fail", "lhs": 3, "rhs": 4},
                {"rule": "I4", "scope": "review", "status": "ok", "lhs": 1, "rhs": 1},
            ]
        if name == "008":  # table 二 (gov2021) too
            for n, key in enumerate(S.t2_keys("gov2021")):
                parsed["cells"][key], parsed["flags"][key], parsed["raw"][key] = n + 1, "num", str(n + 1)
                parsed["paths"][key] = "text"
        arc.save_report(parsed, sha256=sha, url=url)
        docs[name] = (sha, body, url)
    warc.close()
    arc.close()
    return db, docs


def _ds(db: Path, metadata: dict | None = None):
    from datasette.app import Datasette

    return Datasette([str(db)], metadata=metadata)  # plain Datasette: the plugin comes from the entry point


def get(ds, path: str):
    return asyncio.run(ds.client.get(path))


def test_plugin_is_registered_by_the_entry_point():
    from importlib.metadata import entry_points

    assert "archive.datasette_plugin" in {e.value for e in entry_points(group="datasette")}


def test_raw_document_bytes_type_and_name(demo_db):
    db, docs = demo_db
    ds = _ds(db)
    sha, body, _ = docs["001"]
    for path in (f"/-/ogi/demo/doc/{sha}", f"/-/ogi/doc/{sha}"):
        r = get(ds, path)
        assert r.status_code == 200, path
        assert hashlib.sha256(r.content).hexdigest() == sha
        assert r.content == body
        assert r.headers["content-type"].startswith("text/html")
        assert 'filename="report001.html"' in r.headers["content-disposition"]
        assert r.headers["content-disposition"].startswith("inline")
        assert "sandbox" in r.headers["content-security-policy"]  # archived scripts never run on this origin
    r = get(ds, f"/-/ogi/demo/doc/{sha}?download=1")
    assert r.headers["content-disposition"].startswith("attachment")
    assert get(ds, "/-/ogi/demo/doc/" + "0" * 64).status_code == 404
    assert get(ds, "/-/ogi/nosuchdb/doc/" + sha).status_code == 404


def test_warc_record_of_a_fetch(demo_db):
    from warcio.archiveiterator import ArchiveIterator

    db, docs = demo_db
    ds = _ds(db)
    rows = json.loads(get(ds, "/demo/fetches.json?_shape=objects").text)["rows"]
    fetch = next(f for f in rows if f["sha256"] == docs["007"][0])
    r = get(ds, f"/-/ogi/demo/warc/{fetch['id']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/warc"
    records = list(ArchiveIterator(io.BytesIO(r.content)))
    assert [rec.rec_type for rec in records] == ["response", "request"]
    assert records[0].rec_headers.get_header("WARC-Target-URI") == docs["007"][2]
    # the record holds exactly the archived bytes (warcio reads it, gzip members intact)
    r = get(ds, f"/-/ogi/demo/warc/{fetch['id']}")
    payload = next(iter(ArchiveIterator(io.BytesIO(r.content)))).content_stream().read()
    assert payload == docs["007"][1]
    assert gzip.decompress(r.content).startswith(b"WARC/1.0")
    assert get(ds, "/-/ogi/demo/warc/999999").status_code == 404


def test_rows_link_to_documents_reports_and_warc(demo_db):
    db, docs = demo_db
    ds = _ds(db)
    sha = docs["001"][0]
    for table in ("reports", "versions", "documents", "fetches"):
        html = get(ds, f"/demo/{table}").text
        assert f'href="/-/ogi/demo/doc/{sha}"' in html, table
    assert re.search(r'href="/-/ogi/demo/report/\d+"', get(ds, "/demo/reports").text)
    assert re.search(r'href="/-/ogi/demo/report/\d+\?version_id=\d+"', get(ds, "/demo/versions").text)
    assert re.search(r'href="/-/ogi/demo/warc/\d+"', get(ds, "/demo/fetches").text)
    failing = get(ds, "/demo/failing_checks").text  # report ids in canned queries are links too
    assert re.search(r'href="/-/ogi/demo/report/\d+"', failing)


def test_report_page_as_printed(demo_db):
    db, docs = demo_db
    ds = _ds(db)
    rows = json.loads(get(ds, "/demo/reports.json?_shape=objects").text)["rows"]
    rid = next(r["id"] for r in rows if r["sha256"] == docs["007"][0])
    r = get(ds, f"/-/ogi/demo/report/{rid}")
    assert r.status_code == 200
    html = r.text
    t3 = html[html.index('class="printed t3"'):]
    t3 = t3[: t3.index("</table>")]
    labels = [S.T3_ROW_LABELS[k][0] for k in S.T3_FORMAT_ROWS["gov2021"]]
    positions = [t3.find(label) for label in labels if label in t3]
    assert len(positions) >= 20 and positions == sorted(positions)  # printed order 一 … 四
    head = t3[: t3.index("</tr>")]
    for col in S.T3_COLS:
        zh, en = S.T3_COL_LABELS[col]
        assert zh in head and en in head
    assert head.index("自然人") < head.index("总计")
    # the failing I3 check sits on the row it concerns, I1 on the column row
    row = re.search(r'<tr class="check-fail" data-row="t3.received_new">.*?</tr>', t3, re.S)
    assert row and "I3" in row.group(0)
    assert re.search(r'data-rule="I1">.*?check-fail', t3, re.S)
    assert 'class="printed t4"' in html and "行政复议" in html and "administrative review" in html
    assert 'id="t2"' in html
    assert "一、总体情况" in html and "中华人民共和国政府信息公开条例" in html  # narrative sections
    assert f'href="{docs["007"][2]}"' in html  # source URL
    assert f'href="/-/ogi/demo/doc/{docs["007"][0]}"' in html  # raw document
    assert "?version_id=" in html  # versions listed with links
    for rule in S.CHECK_RULES:
        assert rule in html
    assert get(ds, "/-/ogi/demo/report/99999").status_code == 404


def test_report_page_table_two_in_printed_shape(demo_db):
    db, docs = demo_db
    ds = _ds(db)
    rows = json.loads(get(ds, "/demo/reports.json?_shape=objects").text)["rows"]
    rid = next(r["id"] for r in rows if r["sha256"] == docs["008"][0])
    html = get(ds, f"/-/ogi/demo/report/{rid}").text
    t2 = html[html.index('class="printed t2"'):]
    t2 = t2[: t2.index("</table>")]
    order = [t2.find(S.T2_ROW_LABELS[row][0]) for row, _ in S.T2_FORMAT_ROWS["gov2021"]]
    assert -1 not in order and order == sorted(order)
    assert "本年制发件数" in t2 and "issued this year" in t2
    values = [int(v) for v in re.findall(r'<td class="num"[^>]*>(\d+)</td>', t2)]
    assert values == list(range(1, 11))  # 10 printed cells in printed order


def test_metadata_applies_to_any_archive_name_without_placeholders(demo_db):
    db, _ = demo_db
    meta_file = yaml.safe_load(Path("archive/metadata.yml").read_text(encoding="utf-8"))
    for ds in (_ds(db), _ds(db, meta_file)):  # `datasette demo.db` and `datasette demo.db --metadata …`
        for path in ("/", "/demo", "/demo/reports", "/demo/failing_checks", "/demo/search?q=政府信息公开条例",
                     "/demo/requests_by_year", "/demo/t3"):
            r = get(ds, path)
            assert r.status_code == 200, path
            assert "__DB__" not in r.text, path
        assert "报告 / reports" in get(ds, "/demo/reports").text
        home = get(ds, "/demo").text
        assert 'href="/demo/reports' in home and 'href="/demo/search"' in home
        assert "/archive/" not in get(ds, "/").text


def test_long_sql_hidden_and_rules_flags_generated(demo_db):
    db, _ = demo_db
    ds = _ds(db)
    page = get(ds, "/demo/failing_checks").text
    assert 'class="show-hide-sql"' in page and "_show_sql=1" in page
    assert "JOIN reports r ON r.id = c.report_id" not in page  # neither in the body nor in the title
    assert "勾稽校验未通过的报告" in page[: page.index("</title>")]
    meta = json.loads(get(ds, "/-/metadata.json").text)
    checks = meta["databases"]["demo"]["tables"]["checks"]
    for rule, (_, text) in S.CHECK_RULES.items():
        assert f"{rule} " in checks["description"] and text in checks["description"]
    for flag, text in S.FLAGS.items():
        assert text in meta["databases"]["demo"]["tables"]["cells_long"]["columns"]["flag"]


def test_headers_in_chinese_and_english_and_useful_facets(demo_db):
    db, _ = demo_db
    ds = _ds(db)
    html = get(ds, "/demo/t3").text
    labels = json.loads(re.search(r"\}\)\((\{.*?\})\);", html, re.S).group(1))
    assert labels["natural"] == ["自然人", "natural persons"]
    data = json.loads(get(ds, "/demo/reports.json?_extra=facet_results").text)
    facets = data["facet_results"].get("results", data["facet_results"])
    assert {"year", "province", "check_status"} <= set(facets)
    t3 = json.loads(get(ds, "/demo/t3.json?_extra=facet_results").text)["facet_results"]
    assert "row_key" not in t3.get("results", t3)  # no 29-value facet before the data


def test_preset_chart_query(demo_db):
    db, _ = demo_db
    ds = _ds(db)
    rows = json.loads(get(ds, "/demo/requests_by_year.json?_shape=objects").text)["rows"]
    by = {(r["year"], r["measure"].split()[0]): r["value"] for r in rows}
    fixture = {n: json.loads((Path("tests/fixtures/real") / f"{n}.json").read_text(encoding="utf-8"))["expected_cells"]
               for n in ("001", "008")}
    assert by[(2021, "received_new")] == sum(c["t3.received_new.total"] for c in fixture.values())  # 001 + 008
    assert by[(2021, "outcome_total")] == sum(c["t3.outcome.total.total"] for c in fixture.values())
    assert {m for _, m in by} == {"received_new", "outcome_total", "granted", "carried_out"}
    assert "g.color_column=measure" in get(ds, "/demo").text  # the datasette-vega preset link


def test_plain_datasette_with_the_metadata_file_in_a_process(demo_db):
    """`datasette demo.db --metadata archive/metadata.yml` as a user types it: canned queries and links work."""
    import urllib.request

    db, docs = demo_db
    with datasette_process(db, "--metadata", "archive/metadata.yml") as (_proc, base):
        for path in ("/", "/demo", "/demo/failing_checks", "/demo/totals_by_year_province", "/demo/requests_by_year"):
            with urllib.request.urlopen(base + path, timeout=10) as r:
                assert r.status == 200
                assert "__DB__" not in r.read().decode()
        with urllib.request.urlopen(f"{base}/-/ogi/doc/{docs['001'][0]}", timeout=10) as r:
            assert r.read() == docs["001"][1]


def test_report_page_links_the_page_images_a_picture_report_was_read_from(tmp_path, make_parsed):
    """A report page whose tables are pictures: each image it was read from is one click away (its archived
    copy), and an image the crawl could not fetch is shown as such."""
    from archive import open_archive

    db = tmp_path / "demo.db"
    arc = open_archive(db)
    page = HTML + b"<img src='./W1.jpg'><img src='./W2.jpg'>"
    sha = arc.save_document(page, url="http://example.gov.cn/xxgk/t1.html", http_status=200)
    img = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    img_sha = arc.save_document(img, url="http://example.gov.cn/xxgk/W1.jpg", http_status=200,
                                content_type="image/png")
    parsed = make_parsed("001")
    parsed["images"] = [
        {"url": "http://example.gov.cn/xxgk/W1.jpg", "sha256": img_sha, "bytes": len(img), "status": "read",
         "pages": [1]},
        {"url": "http://example.gov.cn/xxgk/W2.jpg", "status": "not-fetched"},
    ]
    res = arc.save_report(parsed, sha256=sha, url="http://example.gov.cn/xxgk/t1.html")
    arc.close()
    html = get(_ds(db), f"/-/ogi/demo/report/{res.report_id}").text
    block = html[html.index('class="page-images"'):]
    block = block[: block.index("</p>")]
    assert f'href="/-/ogi/demo/doc/{img_sha}"' in block and "第 1 页" in block
    assert 'href="http://example.gov.cn/xxgk/W2.jpg"' in block and "not-fetched" in block
    assert get(_ds(db), f"/-/ogi/demo/doc/{img_sha}").content == img
