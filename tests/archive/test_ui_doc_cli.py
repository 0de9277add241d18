"""`ogi doc`: the original bytes by sha256 or URL, identical to what was fetched; bad input is one line, exit 2."""

from __future__ import annotations

import hashlib
import os

import pytest
from click.testing import CliRunner

from ogi.cli import cli

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture
def stored(db_path, arc):
    sha = arc.save_document(PDF, url="http://www.example.gov.cn/a/2024报告.pdf",
                            final_url="http://www.example.gov.cn/files/r.pdf", http_status=200,
                            headers={"Content-Type": "application/pdf"})
    html = "<html>年度报告</html>".encode()
    sha2 = arc.save_document(html, url="http://www.example.gov.cn/a/1.html", content_type="text/html")
    arc.close()
    return db_path, sha, sha2, html


def _state(folder):
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_doc_by_sha_to_stdout_and_file(stored, tmp_path_factory):
    db, sha, _, _ = stored
    before = _state(db.parent)
    r = CliRunner().invoke(cli, ["doc", sha, "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert hashlib.sha256(r.stdout_bytes).hexdigest() == sha and r.stdout_bytes == PDF
    out = tmp_path_factory.mktemp("out") / "x.pdf"
    r = CliRunner().invoke(cli, ["doc", sha.upper(), "--db", str(db), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == PDF
    assert _state(db.parent) == before  # a read command changes nothing beside the archive


def test_doc_by_url_requested_or_final(stored):
    db, sha, sha2, html = stored
    for url, want, want_sha in (("http://www.example.gov.cn/a/2024报告.pdf", PDF, sha),
                                ("http://www.example.gov.cn/files/r.pdf", PDF, sha),
                                ("http://www.example.gov.cn/a/1.html", html, sha2)):
        r = CliRunner().invoke(cli, ["doc", "--url", url, "--db", str(db)])
        assert r.exit_code == 0, r.output
        assert r.stdout_bytes == want and hashlib.sha256(r.stdout_bytes).hexdigest() == want_sha


@pytest.mark.parametrize("args", [
    ["doc"],
    ["doc", "abc"],
    ["doc", "0" * 64],
    ["doc", "--url", "http://nowhere/"],
    ["doc", "0" * 64, "--url", "http://nowhere/"],
])
def test_doc_bad_input_is_one_line_exit_2(stored, args):
    db = stored[0]
    r = CliRunner().invoke(cli, [*args, "--db", str(db)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_doc_missing_or_foreign_db_is_not_created(tmp_path, stored):
    sha = stored[1]
    missing = tmp_path / "none.db"
    r = CliRunner().invoke(cli, ["doc", sha, "--db", str(missing)])
    assert r.exit_code == 2 and not missing.exists()
    foreign = tmp_path / "empty.txt"
    foreign.write_bytes(b"")
    r = CliRunner().invoke(cli, ["doc", sha, "--db", str(foreign)])
    assert r.exit_code == 2 and foreign.read_bytes() == b""
    assert "not an archive" in r.output


def test_doc_damaged_blob_is_refused(stored):
    db, sha, _, _ = stored
    pack = next((db.parent / (db.name + ".blobs")).glob("*.pack"))
    data = bytearray(pack.read_bytes())
    i = data.index(PDF[:9]) + 20
    data[i] ^= 0xFF
    pack.write_bytes(bytes(data))
    r = CliRunner().invoke(cli, ["doc", sha, "--db", str(db)])
    assert r.exit_code == 2 and "damaged" in r.output
    assert r.stdout_bytes.count(b"%PDF") == 0  # never a wrong byte on stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_doc_on_a_read_only_archive(stored):
    db, sha, _, _ = stored
    for p in db.parent.rglob("*"):
        p.chmod(0o444 if p.is_file() else 0o555)
    db.parent.chmod(0o555)
    try:
        r = CliRunner().invoke(cli, ["doc", sha, "--db", str(db)])
        assert r.exit_code == 0 and r.stdout_bytes == PDF
    finally:
        db.parent.chmod(0o755)
