"""Archive benchmark: import N synthetic reports, compare with a raw executemany of the same rows, time Datasette.

    .venv/bin/python bench/archive.py [--n 100000] [--dir DIR] [--json] [--check]

1. Generates N parse objects with ``ogi.demo.synth`` (the helper of the parser's property tests: random
   consistent gov2021/gov2019 reports rendered in a real layout) with unique (agency, year) pairs built from
   the administrative-division dataset, and imports them through the archive API (``save_document`` with
   the rendered bytes + ``save_report``, one transaction per report). Generation is not timed.
2. Baseline: the very rows the import wrote (every table: documents, fetches, reports, versions, texts,
   cells, t2/t3/t4, checks, sections + FTS) are read back and inserted into a fresh database with the same
   schema by plain ``executemany`` (and the same FTS index), one transaction per 1000 reports. Reading them
   back is not timed.
   Target: import rows/s ≥ 50 % of the baseline's.
3. Size: database bytes per report (after a WAL checkpoint), blob-store bytes per report.
4. Datasette at that size (test client, in process): the main pages, facet pages and canned queries.
   Target: < 1 s each.

Exit status is 0 even when a target is missed; ``--check`` makes it 1.

``--save-report N`` times only :meth:`Archive.save_report` on N realistic parsed reports (synth reports
rendered in the four layouts and parsed once, untimed, by ``crawler.parsers.parse_document``), committing
every 100 saves as the crawl pipeline does; it prints ms per report (median of ``--rounds``) for the save
and for the commits (which include the FTS indexing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import open_archive, schema  # noqa: E402
from archive.regions import divisions  # noqa: E402
from archive.serve import make_datasette  # noqa: E402
from ogi.demo.render import render  # noqa: E402
from ogi.demo.synth import random_report, to_parsed_json  # noqa: E402

TARGET_RATIO = 0.5
TARGET_PAGE_S = 1.0
LAYOUTS = ("official_html", "word_html", "tsv_text", "markdown_text")
UNITS = ("人民政府", "人民政府办公室", "财政局", "教育局", "公安局", "自然资源局", "生态环境局", "卫生健康委员会",
         "住房和城乡建设局", "交通运输局", "农业农村局", "市场监督管理局", "人力资源和社会保障局", "民政局",
         "司法局", "统计局", "应急管理局", "审计局", "水利局", "商务局")  # fmt: skip
YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)
# tables copied for the baseline, in foreign-key order; (table, column that ties a row to a version/report)
COPY_TABLES = ("documents", "fetches", "reports", "versions", "version_texts", "cells", "t3", "t4", "t2", "checks",
               "sections")  # fmt: skip


def synth_reports(n: int, seed: int) -> Iterator[tuple[bytes, dict[str, Any], str]]:
    """(document bytes, parse object, url) for n reports with unique (agency, year)."""
    rng = random.Random(seed)
    places = sorted({d.name for d in divisions().values()}) or [f"第{i}市" for i in range(4000)]
    combos = len(places) * len(UNITS) * len(YEARS)
    if n > combos:
        raise SystemExit(f"--n {n} is more than the {combos} unique (agency, year) pairs available")
    picks = rng.sample(range(combos), n)
    for i, idx in enumerate(picks):
        year = YEARS[idx % len(YEARS)]
        rest = idx // len(YEARS)
        agency = places[rest // len(UNITS)] + UNITS[rest % len(UNITS)]
        fmt = "gov2021" if year >= 2021 else "gov2019"
        rep = random_report(rng, fmt, agency=agency, year=year)
        layout = LAYOUTS[i % len(LAYOUTS)]
        data = render(rep, layout, seed=i)
        parsed = to_parsed_json(rep, layout, derived_groups=True)
        parsed.update(
            source=f"synth/{i}.html",
            source_kind="text" if "text" in layout else "html",
            year_source="title",
            paths={k: "derived" if parsed["flags"][k] == "derived" else layout for k in parsed["cells"]},
            warnings=[],
            text=data.decode("utf-8", errors="replace")[:4000],
        )
        yield data, parsed, f"https://gov.example.cn/{i}/report.html"


def count_rows(conn: sqlite3.Connection) -> int:
    return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COPY_TABLES)


def import_archive(path: Path, n: int, seed: int, chunk: int, batched: bool = True) -> dict[str, Any]:
    arc = open_archive(path)
    gen = synth_reports(n, seed)
    timed = 0.0
    gen_s = 0.0
    done = 0
    while done < n:
        t0 = time.perf_counter()
        batch = [next(gen) for _ in range(min(chunk, n - done))]
        gen_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        with arc.batch(size=chunk) if batched else nullcontext():
            for data, parsed, url in batch:
                sha = arc.save_document(
                    data, url=url, http_status=200, content_type="text/html", source="bench"
                )
                res = arc.save_report(parsed, sha256=sha, url=url, source="bench")
                if res.change != "new":
                    raise SystemExit(f"unexpected {res}")
        timed += time.perf_counter() - t0
        done += len(batch)
        if done % (chunk * 10) == 0 or done == n:
            print(f"  imported {done}/{n} ({timed:.1f}s)", file=sys.stderr)
    rows = count_rows(arc.conn)
    arc.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    arc.close()
    return {"seconds": timed, "generate_seconds": gen_s, "rows": rows}


def baseline(src: Path, dst: Path, chunk: int) -> dict[str, Any]:
    """executemany of the same rows into a fresh database with the same schema (indexes, FTS triggers)."""
    out = sqlite3.connect(dst, isolation_level=None)
    out.execute("PRAGMA journal_mode = WAL")
    out.execute("PRAGMA synchronous = NORMAL")
    out.execute("PRAGMA cache_size = -65536")
    out.executescript("BEGIN;" + "".join(schema.MIGRATIONS[v] for v in sorted(schema.MIGRATIONS)) + "COMMIT;")
    inp = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    out.executemany("INSERT INTO keys VALUES (?,?,?,?,?,?,?,?)", inp.execute("SELECT * FROM keys").fetchall())
    max_vid = inp.execute("SELECT max(id) FROM versions").fetchone()[0] or 0
    where = {
        "documents": "sha256 IN (SELECT sha256 FROM versions WHERE id BETWEEN ? AND ?)",
        "fetches": "sha256 IN (SELECT sha256 FROM versions WHERE id BETWEEN ? AND ?)",
        "reports": "current_version_id BETWEEN ? AND ?",
        "versions": "id BETWEEN ? AND ?",
        "version_texts": "version_id BETWEEN ? AND ?",
    }
    timed = 0.0
    rows = 0
    for lo in range(1, max_vid + 1, chunk):
        hi = lo + chunk - 1
        batches = []
        for t in COPY_TABLES:
            cond = where.get(t, "version_id BETWEEN ? AND ?")
            data = inp.execute(f"SELECT * FROM {t} WHERE {cond}", (lo, hi)).fetchall()
            if data:
                batches.append((f"INSERT INTO {t} VALUES ({','.join('?' * len(data[0]))})", data))
        t0 = time.perf_counter()
        out.execute("BEGIN")
        for sql, data in batches:
            out.executemany(sql, data)
            rows += len(data)
        # the FTS index of the same sections (the archive indexes them at commit too)
        out.execute(
            "INSERT INTO sections_fts(rowid, text) SELECT id, text FROM sections WHERE version_id BETWEEN ? AND ?",
            (lo, hi),
        )
        out.execute("COMMIT")
        timed += time.perf_counter() - t0
    out.close()
    inp.close()
    return {"seconds": timed, "rows": rows}


def sizes(path: Path, n: int) -> dict[str, Any]:
    db = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-*"))
    blobs = sum(p.stat().st_size for p in path.with_name(path.name + ".blobs").rglob("*") if p.is_file())
    return {"db_bytes": db, "db_bytes_per_report": db / n, "blob_bytes_per_report": blobs / n}


def page_times(path: Path) -> list[dict[str, Any]]:
    ds = make_datasette(path)
    name = path.stem
    con = sqlite3.connect(path)
    year = con.execute("SELECT year FROM reports GROUP BY year ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    prov = con.execute("SELECT province FROM reports WHERE province IS NOT NULL LIMIT 1").fetchone()[0]
    con.close()
    pages = [
        "/",
        f"/{name}",
        f"/{name}/reports",
        f"/{name}/reports?year={year}",
        f"/{name}/reports?province={prov}&year={year}",
        f"/{name}/reports?check_status=fail",
        f"/{name}/reports?_facet=parse_status&_facet=scope",
        f"/{name}/t3",
        f"/{name}/t3?row_key=t3.received_new&is_current=1",
        f"/{name}/t3?row_key=t3.received_new&year={year}&province={prov}",
        f"/{name}/t4",
        f"/{name}/t2",
        f"/{name}/checks",
        f"/{name}/checks?status=fail",
        f"/{name}/sections",
        f"/{name}/sections?_search=信息处理费",
        f"/{name}/cells_long",
        f"/{name}/cells",
        f"/{name}/documents",
        f"/{name}/versions",
        f"/{name}/failing_checks",
        f"/{name}/totals_by_year_province",
        f"/{name}/narrative_mismatch",
        f"/{name}/changed_reports",
        f"/{name}/search?q=信息处理费",
        f"/{name}/search?q=培训",
    ]

    async def run() -> list[dict[str, Any]]:
        out = []
        for page in pages:
            await ds.client.get(page)  # warm (first request runs Datasette's startup)
            t0 = time.perf_counter()
            r = await ds.client.get(page)
            elapsed = time.perf_counter() - t0
            timed_out: list[str] = []
            path, _, query = page.partition("?")
            if r.status_code == 200 and path.count("/") == 2:
                j = await ds.client.get(f"{path}.json?{query + '&' if query else ''}_extra=facets_timed_out")
                if j.status_code == 200:
                    timed_out = json.loads(j.text).get("facets_timed_out") or []
            out.append(
                {"page": page, "status": r.status_code, "seconds": elapsed, "facets_timed_out": timed_out}
            )
        return out

    return asyncio.run(run())


def save_report_times(n: int, seed: int, rounds: int) -> dict[str, Any]:
    """ms per report of save_report (and of the commits) on n parsed synth reports; median of rounds."""
    import statistics

    from crawler.parsers import parse_document

    docs = []
    for data, _parsed, url in synth_reports(n, seed):
        docs.append((data, parse_document(data, source=url, url=url).to_json(), url))
    saves, commits = [], []
    for _ in range(rounds):
        work = Path(tempfile.mkdtemp(prefix="ogi-bench-save-"))
        try:
            arc = open_archive(work / "save.db")
            with arc.batch(size=1 << 30, seconds=1e9):
                shas = [arc.save_document(d, url=u, http_status=200, source="bench") for d, _, u in docs]
            t_save = t_commit = 0.0
            for i in range(0, n, 100):
                with arc.batch(size=1 << 30, seconds=1e9):
                    for (_, parsed, url), sha in zip(docs[i : i + 100], shas[i : i + 100], strict=True):
                        t0 = time.perf_counter()
                        arc.save_report(parsed, sha256=sha, url=url, source="bench")
                        t_save += time.perf_counter() - t0
                    t0 = time.perf_counter()
                t_commit += time.perf_counter() - t0
            arc.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        saves.append(t_save * 1000 / n)
        commits.append(t_commit * 1000 / n)
    return {
        "n": n,
        "rounds": rounds,
        "save_report_ms": round(statistics.median(saves), 3),
        "save_report_ms_min": round(min(saves), 3),
        "commit_ms": round(statistics.median(commits), 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="number of synthetic reports (default 100000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: a temporary one, removed)"
    )
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument(
        "--save-report", type=int, default=0, metavar="N", help="only time save_report on N parsed reports"
    )
    ap.add_argument("--rounds", type=int, default=5, help="rounds for --save-report (median reported)")
    args = ap.parse_args()
    if args.save_report:
        res = save_report_times(args.save_report, args.seed, args.rounds)
        if args.json:
            print(json.dumps(res))
        else:
            print(
                f"save_report  {res['save_report_ms']:.3f} ms/report (median of {res['rounds']}, min "
                f"{res['save_report_ms_min']:.3f}); commits incl. FTS {res['commit_ms']:.3f} ms/report"
            )
        return 0
    work = args.dir or Path(tempfile.mkdtemp(prefix="ogi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.db"
    raw = work / "raw.db"
    for p in (db, raw):
        for q in p.parent.glob(p.name + "*"):
            shutil.rmtree(q) if q.is_dir() else q.unlink()
    try:
        print(f"importing {args.n} synthetic reports into {db}", file=sys.stderr)
        imp = import_archive(db, args.n, args.seed, args.chunk)
        print("baseline executemany of the same rows", file=sys.stderr)
        base = baseline(db, raw, args.chunk)
        size = sizes(db, args.n)
        print("timing Datasette pages", file=sys.stderr)
        pages = page_times(db)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    imp_rate = imp["rows"] / imp["seconds"]
    base_rate = base["rows"] / base["seconds"]
    ratio = imp_rate / base_rate
    result = {
        "n": args.n,
        "rows": imp["rows"],
        "import_seconds": round(imp["seconds"], 2),
        "import_rows_per_s": round(imp_rate),
        "import_reports_per_s": round(args.n / imp["seconds"], 1),
        "baseline_rows": base["rows"],
        "baseline_seconds": round(base["seconds"], 2),
        "baseline_rows_per_s": round(base_rate),
        "ratio": round(ratio, 3),
        **{k: round(v, 1) for k, v in size.items()},
        "pages": pages,
    }
    slow = [p for p in pages if p["seconds"] >= TARGET_PAGE_S or p["status"] != 200 or p["facets_timed_out"]]
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"reports            {args.n}")
        print(f"rows written       {imp['rows']} (all tables; baseline copied {base['rows']})")
        print(
            f"import             {imp_rate:,.0f} rows/s  ({args.n / imp['seconds']:,.0f} reports/s, {imp['seconds']:.1f}s)"
        )
        print(f"raw executemany    {base_rate:,.0f} rows/s  ({base['seconds']:.1f}s)")
        print(f"ratio              {ratio:.0%}  (target ≥ {TARGET_RATIO:.0%})")
        print(
            f"db size / report   {size['db_bytes_per_report']:,.0f} bytes  (db {size['db_bytes'] / 1e6:,.1f} MB)"
        )
        print(f"blobs / report     {size['blob_bytes_per_report']:,.0f} bytes")
        print("datasette pages (warm, in-process test client):")
        for p in pages:
            mark = "" if p["seconds"] < TARGET_PAGE_S and p["status"] == 200 else "  <-- SLOW/FAIL"
            if p["facets_timed_out"]:
                mark += f"  facets timed out: {p['facets_timed_out']}"
            print(f"  {p['seconds'] * 1000:8.1f} ms  {p['status']}  {p['page']}{mark}")
    missed = ratio < TARGET_RATIO or bool(slow)
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    raise SystemExit(main())
