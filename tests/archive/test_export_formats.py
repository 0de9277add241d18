"""`ogi export` tables researchers load: CSV long and wide with the report metadata, --excel (BOM), Parquet
long and wide, the codebook beside each — loaded back with pandas; values equal the archive's cells."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from archive.export import META_COLUMNS, WIDE_LEAD
from archive.queries import LONG_COLUMNS
from ogi.cli import cli
from tests.conftest import REAL


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "ogi.db"
    files = sorted(str(p) for p in REAL.iterdir() if p.suffix in (".txt", ".html"))[:4]
    run("import", *files, "--db", str(path))
    return path


def _cells(db: Path) -> dict[tuple[int, str], float | None]:
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT version_id, key, value FROM cells_long WHERE is_current = 1").fetchall()
    finally:
        con.close()
    return {(int(v), k): (None if x is None else float(x)) for v, k, x in rows}


def _reports(db: Path) -> dict[int, dict[str, object]]:
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in con.execute("SELECT * FROM versions WHERE is_current = 1")}
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_long_table_loads_with_metadata_and_equal_values(db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"cells.{fmt}"
    run("export", "--db", str(db), "--format", fmt, "-o", str(out))
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert list(frame.columns) == [*LONG_COLUMNS, *META_COLUMNS]
    cells = _cells(db)
    assert len(frame) == len(cells)
    for row in frame.itertuples(index=False):
        want = cells[(int(row.version_id), row.key)]
        got = None if pd.isna(row.value) else float(row.value)
        assert got == want, (row.version_id, row.key)
    versions = _reports(db)
    for vid, group in frame.groupby("version_id"):
        v = versions[int(vid)]
        assert set(group["title"]) == {v["title"]}
        assert set(group["scope"].fillna("")) == {v["scope"] or ""}
        assert set(group["checks_failed"]) == {v["checks_failed"]}
        assert all(f"t3={v['t3_format']}" in f for f in group["formats"]) if v["t3_format"] else True
    book = pd.read_csv(out.with_name(out.stem + ".codebook.csv"))
    assert set(LONG_COLUMNS) | set(META_COLUMNS) <= set(book["name"])
    assert set(frame["key"]) <= set(book["name"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_wide_table_has_one_row_per_current_report(db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"wide.{fmt}"
    run("export", "--db", str(db), "--format", fmt, "--shape", "wide", "-o", str(out))
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    versions = _reports(db)
    assert sorted(frame["version_id"]) == sorted(versions)  # also a report without any cell
    assert list(frame.columns[: len(WIDE_LEAD)]) == list(WIDE_LEAD)
    cells = _cells(db)
    keys = list(frame.columns[len(WIDE_LEAD):])
    assert {k for _v, k in cells} == set(keys)
    for row in frame.to_dict("records"):
        for key in keys:
            want = cells.get((int(row["version_id"]), key))
            got = None if pd.isna(row[key]) else float(row[key])
            assert got == want, (row["version_id"], key)
    book = pd.read_csv(out.with_name(out.stem + ".codebook.csv"))
    assert set(keys) <= set(book["name"])


def test_excel_csv_starts_with_a_bom_and_reads_back(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "excel.csv"
    run("export", "--db", str(db), "--format", "csv", "--excel", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert frame.columns[0] == "report_id"
    assert out.with_name("excel.codebook.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    plain = tmp_path / "plain.csv"
    run("export", "--db", str(db), "--format", "csv", "-o", str(plain))
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert plain.read_bytes() == data[3:]
    with out.open(encoding="utf-8-sig") as fh:
        assert any("年" in (r.get("title") or "") for r in csv.DictReader(fh))


def test_parquet_is_written_in_bounded_row_groups(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large archive is written batch by batch (row groups), the same table as in one go."""
    import pyarrow.parquet as pq

    import archive.export as export
    from archive import open_archive

    arc = open_archive(db, readonly=True)
    try:
        whole, parts = tmp_path / "whole.parquet", tmp_path / "parts.parquet"
        with whole.open("wb") as fh:
            export.write_parquet(arc, fh, None)
        monkeypatch.setattr(export, "PARQUET_BATCH", 50)
        with parts.open("wb") as fh:
            export.write_parquet(arc, fh, None)
    finally:
        arc.close()
    assert pq.ParquetFile(parts).metadata.num_row_groups > 1
    assert pq.read_table(parts).equals(pq.read_table(whole))
