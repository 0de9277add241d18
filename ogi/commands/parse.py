"""`ogi parse [--json] FILE...`: parse local report files and print their tables and check results."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from crawler.parsers import Report, parse_document

logger = logging.getLogger(__name__)

SUMMARY_KEYS = (
    ("新收 received_new", "t3.received_new.total"),
    ("上年结转 carried_in", "t3.carried_in.total"),
    ("办理总计 outcome", "t3.outcome.total.total"),
    ("结转下年 carried_out", "t3.carried_out.total"),
    ("复议 review", "t4.review.total"),
    ("直接起诉 litigation", "t4.litigation_direct.total"),
    ("复议后起诉", "t4.litigation_after_review.total"),
)


def parse_path(path: str) -> Report:
    """Read and parse one file; unreadable files become failed reports, never exceptions."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        return Report(source=path, ok=False, error=f"cannot read file: {exc.strerror or exc}", status="error")
    report = parse_document(data, source=path, url=p.name)
    local = local_images(report, p.parent)
    if local:  # a saved page whose tables are pictures: its images next to it (``page_files/…``), read by OCR
        report = parse_document(data, source=path, url=p.name, images=local)
    return report


MAX_LOCAL_IMAGE_BYTES = 30 * 1024 * 1024


def local_images(report: Report, folder: Path) -> dict[str, bytes]:
    """Given the report of a local HTML file whose tables are pictures and the file's folder, return the
    images it lists as ``pending`` that are files under that folder (relative ``src``), URL → bytes; web
    addresses are not fetched (``ogi crawl`` does that)."""
    out: dict[str, bytes] = {}
    root = folder.resolve()
    for entry in report.images:
        url = str(entry.get("url") or "")
        if entry.get("status") != "pending" or urlsplit(url).scheme or url.startswith("//"):
            continue
        target = (root / unquote(url.split("?")[0].split("#")[0])).resolve()
        try:
            if target.is_relative_to(root) and target.is_file() and target.stat().st_size <= MAX_LOCAL_IMAGE_BYTES:
                out[url] = target.read_bytes()
        except OSError as exc:
            logger.warning("%s: image %s not read: %s", folder, url, exc.strerror or exc)
    return out


def summary_text(report: Report) -> str:
    lines = [f"== {report.source}"]
    if not report.ok:
        lines.append(f"   error: {report.error}")
        return "\n".join(lines)
    lines.append(f"   {report.title or '(no title)'}")
    lines.append(
        f"   agency: {report.agency or '?'}   year: {report.year or '?'} (from {report.year_source or '-'})"
        f"   published: {report.published or '?'}   scope: {report.scope}   status: {report.status}"
    )
    fm = report.formats
    lines.append(f"   formats: 二 {fm['t2']}  三 {fm['t3']}  四 {fm['t4']}" + ("  (mixed)" if report.mixed_format else ""))
    if report.cells:
        parts = []
        for label, key in SUMMARY_KEYS:
            if key in report.cells:
                v = report.cells[key].value
                parts.append(f"{label} {'?' if v is None else v}")
        lines.append("   totals: " + " | ".join(parts))
        unknown = [k for k, c in report.cells.items() if c.value is None]
        flagged = sum(1 for c in report.cells.values() if c.flag not in ("num", "unknown"))
        lines.append(f"   cells: {len(report.cells)} ({len(unknown)} unknown, {flagged} blank/dash/derived/inferred)")
    counts = {s: sum(1 for c in report.checks if c.status == s) for s in ("ok", "fail", "unknown")}
    lines.append(f"   checks: {counts['ok']} ok, {counts['fail']} fail, {counts['unknown']} unknown")
    for c in report.failed_checks():
        lines.append(f"     FAIL {c.rule} {c.scope}: {c.lhs} ≠ {c.rhs}")
    for w in report.warnings:
        lines.append(f"   warning: {w}")
    return "\n".join(lines)


@click.command("parse")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per file.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def parse_cmd(as_json: bool, files: tuple[str, ...]) -> None:
    """Parse report files (HTML, text, PDF, DOCX, …) into keyed cells and check their arithmetic.

    Example:

        ogi parse --json report.html report.pdf
    """
    failed = 0
    for path in files:
        report = parse_path(path)
        if not report.ok:
            failed += 1
        if as_json:
            click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        else:
            click.echo(summary_text(report))
    if failed:
        logger.info("%d of %d files failed", failed, len(files))
        sys.exit(1)


COMMANDS: list[click.Command] = [parse_cmd]
