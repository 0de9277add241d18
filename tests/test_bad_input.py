"""Every `ogi` command given a bad path, port, option, database or config: exit status, one clear line on
stderr, no traceback — and no read command creates or changes a file."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ogi.cli import cli
from tests.conftest import REAL

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An archive and the bad inputs: empty file, another app's database, a newer schema, a picture …"""
    root = tmp_path_factory.mktemp("bad")
    good = root / "good.db"
    res = CliRunner().invoke(cli, ["import", str(REAL / "001.txt"), "--db", str(good)])
    assert res.exit_code == 0, res.output
    (root / "empty.db").write_bytes(b"")
    (root / "picture.png").write_bytes(PNG)
    (root / "adir").mkdir()
    con = sqlite3.connect(root / "other.db")
    con.execute("CREATE TABLE notes(x)")
    con.commit()
    con.close()
    con = sqlite3.connect(root / "newer.db")
    con.execute("CREATE TABLE reports(x)")
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    (root / "bad.yaml").write_text("jobs: [unclosed\n", encoding="utf-8")
    return {"root": root, "good": good}


# (command line with {root} / {good} placeholders, exit status, a fragment of the one stderr line)
CASES: list[tuple[str, int, str]] = [
    ("export --db {good} -o /nonexistent/dir/x.csv", 2, "cannot write"),
    ("export --db {root}/empty.db", 2, "empty file, not an OGI archive"),
    ("export --db {root}/adir", 2, "is a directory"),
    ("export --db {root}/missing.db", 2, "does not exist"),
    ("export --db {root}/other.db", 2, "not an OGI archive"),
    ("export --db {root}/newer.db", 2, "newer than this program"),
    ("export --db {root}/picture.png", 2, "not an SQLite database"),
    ("export --db {good} --format parquet", 2, "give -o FILE"),
    ("export --db {good} --format nosuch", 2, "Invalid value for '--format'"),
    ("serve --db {good} --port 99999", 2, "99999 is not in the range"),
    ("serve --db {root}/empty.db", 2, "empty file"),
    ("serve --db {good} --port {busy}", 2, "Address already in use"),
    ("serve --db {good} --host no-such-interface.invalid", 2, "not an address of this machine"),
    ("demo --db {root}/d.db --port {busy}", 2, "Address already in use"),
    ("serve --db {root}/other.db", 2, "not an OGI archive"),
    ("sources --db {root}/empty.db", 2, "empty file"),
    ("sources --db {root}/newer.db", 2, "newer than this program"),
    ("sources --sources-file {root}/picture.png", 2, "cannot read the sources file"),
    ("sources --db {root}/missing.db", 2, "no such archive"),
    ("status --db {root}/missing.db", 2, "no archive at"),
    ("status --db {root}/other.db", 2, "not an OGI archive"),
    ("status --db {root}/empty.db", 2, "empty file"),
    ("doc --db {root}/empty.db --url http://x.test/", 2, "not an archive database"),
    ("schedule --list --config {root}/picture.png", 2, "not UTF-8 text"),
    ("schedule --list --config {root}/bad.yaml", 2, "not valid YAML"),
    ("schedule --list --config {root}/missing.yaml", 2, "Cannot read schedule config"),
    ("run-now --db {good} --config {root}/picture.png", 2, "not UTF-8 text"),
    ("crawl --db {root}/adir --url http://127.0.0.1:9/", 2, "is a directory"),
    ("crawl --db {root}/other.db --url http://127.0.0.1:9/", 2, "not an OGI archive"),
    ("crawl --db {root}/newer.db --url http://127.0.0.1:9/", 2, "newer than this program"),
    ("crawl --db {root}/x.db --url ftp://example.gov.cn/", 2, "not an http(s) URL"),
    ("crawl --db {root}/x.db --source no-such-source", 2, "unknown source"),
    ("crawl --db {root}/x.db --mode sideways", 2, "Invalid value for '--mode'"),
    ("crawl --db {root}/x.db --set NOEQUALS --url http://127.0.0.1:9/", 2, "expected NAME=VALUE"),
    ("demo --db {root}/adir --no-serve", 2, "is a directory"),
    ("demo --port 0 --no-serve", 2, "not in the range"),
    ("import {root}/picture.png --db {root}/newer.db", 2, "newer than this program"),
    ("import {root}/picture.png --db {root}/adir", 2, "is a directory"),
    ("reparse --db {root}/other.db --all", 2, "not an OGI archive"),
    ("gc --db {root}/other.db --dry-run", 2, "not an OGI archive"),
    ("parse {root}/adir", 2, "is a directory"),
    ("--no-such-option", 2, "No such option"),
]


def _snapshot(root: Path) -> dict[str, str]:
    """Given a folder, return every file under it -> sha256 (to show that nothing was created or changed)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("line", "code", "fragment"), CASES, ids=[c[0].split(" {")[0] + f" [{i}]"
                                                                    for i, c in enumerate(CASES)])
def test_bad_input_is_one_clear_line(files: dict[str, Path], line: str, code: int, fragment: str) -> None:
    with socket.socket() as busy:  # a port something already listens on
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        args = line.format(root=files["root"], good=files["good"], busy=busy.getsockname()[1]).split()
        before = _snapshot(files["root"])
        result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == code, (result.exit_code, result.output)
    err = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith(("Usage:", "Try "))]
    assert len(err) == 1, result.stderr
    assert fragment in err[0], err[0]
    assert "Traceback" not in result.output
    if not args[0].startswith(("import", "crawl")):  # only the write commands may create their --db
        assert _snapshot(files["root"]) == before


def test_a_real_process_prints_no_traceback(files: dict[str, Path]) -> None:
    """The same in a real process (no CliRunner between the command and the terminal)."""
    exe = Path(sys.executable).with_name("ogi")
    proc = subprocess.run([str(exe), "export", "--db", str(files["good"]), "-o", "/nonexistent/dir/x.csv"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["Error: /nonexistent/dir/x.csv: cannot write: No such file or directory"]


def test_parse_reports_an_unreadable_file_in_its_results(files: dict[str, Path]) -> None:
    """`ogi parse` is a batch: an unreadable file is one result line (stdout, with the others), exit 1."""
    result = CliRunner().invoke(cli, ["parse", str(files["root"] / "missing.html"), str(REAL / "001.txt")])
    assert result.exit_code == 1
    assert "cannot read file: No such file or directory" in result.stdout
    assert "Traceback" not in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("ogi ") and "archive schema v" in result.output


def test_read_commands_leave_a_non_archive_file_alone(files: dict[str, Path]) -> None:
    """`ogi export --db empty.txt` used to exit 0 and turn the empty file into a 372 KB archive."""
    empty = files["root"] / "empty.txt"
    empty.write_bytes(b"")
    for args in (["export", "--db", str(empty)], ["status", "--db", str(empty)], ["sources", "--db", str(empty)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
    assert empty.read_bytes() == b""
    assert sorted(p.name for p in files["root"].glob("empty.txt*")) == ["empty.txt"]
