"""`ogi crawl`, `ogi demo`, `ogi sources`: run the spiders into the archive, the offline demo, the source list."""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from crawler.modes import CRAWL_MODES
from crawler.run import crawl_settings, run_crawl
from crawler.sources import SourceInfo, SourcesError, load_sources

logger = logging.getLogger(__name__)

MODES = CRAWL_MODES
MODE_HELP = ("full: list pages, new links, known documents re-checked conditionally (default); "
             "light: list pages, only documents the archive never fetched (known ones are not requested); "
             "revisions: no list pages, the sources' known reports re-checked conditionally (new versions).")


def sources_or_exit(path: str | Path | None) -> list[SourceInfo]:
    """The sources of ``path`` (default: the bundled registry); a SourcesError becomes a one-line CLI error."""
    from ogi.commands.errors import BadInput

    try:
        return load_sources(path)
    except SourcesError as exc:
        raise BadInput(str(exc)) from None


def show_progress(stats: dict[str, Any], seconds: float) -> None:
    """One progress line on stderr."""
    click.echo(
        f"  {seconds:6.1f}s  responses {stats.get('response_received_count', 0):>5}"
        f"  documents {stats.get('ogi/documents', 0):>5}  reports {stats.get('ogi/reports_found', 0):>5}"
        f"  failures {stats.get('ogi/failures', 0):>4}",
        err=True,
    )


def print_summary(stats: dict[str, Any], sources: list[SourceInfo], db: str | None = None) -> None:
    """The run's summary on stdout: one line for the run (responses = every HTTP answer, as on the progress
    line), one per source (list pages, reports, failures), and the failure reasons as the archive recorded
    them for the run (``db`` given: they add up to the failures; else the spider's counters)."""
    mode = stats.get("ogi/mode") or "full"
    line = (f"run {stats.get('ogi/run_id')}: {stats.get('ogi/run_status', '?')} "
            f"({stats.get('finish_reason', '?')}, {stats.get('ogi/elapsed', 0):.1f}s, "
            f"responses {stats.get('response_received_count', 0)}, failures {stats.get('ogi/failures', 0)})")
    if mode == "light":
        line += (f", mode light: new items {stats.get('ogi/new_items', 0)}"
                 f", known items not requested {stats.get('ogi/known_items', 0)}")
    elif mode == "revisions":
        line += f", mode revisions: re-checked {stats.get('ogi/not_modified', 0)} unchanged (304)"
    click.echo(line)
    for src in sources:
        name = src.name
        g = lambda k, n=name: stats.get(f"ogi/source/{n}/{k}", 0)  # noqa: E731
        extra = f"  new items {g('new_items')} (known {g('known_items')})" if mode == "light" else ""
        click.echo(f"  {name}: {g('status') or '?'}  list pages {g('pages')}  reports {g('reports_found')}"
                   f" (new {g('new_reports')}, new versions {g('new_versions')}){extra}  failures {g('failures')}"
                   f"  {completeness_text(g('completeness'), g('declared'), g('listed'), g('missing'))}")
    recorded = recorded_failures(db, stats.get("ogi/run_id")) if db else None
    if recorded is not None:
        reasons = sorted(Counter(reason for _url, reason in recorded).items())
    else:
        reasons = sorted((k.split("/", 2)[2], v) for k, v in stats.items() if k.startswith("ogi/failure/"))
    if reasons:
        click.echo("  failure reasons: " + ", ".join(f"{r} {n}" for r, n in reasons))


def recorded_failures(db: str, run_id: Any) -> list[tuple[str, str]] | None:
    """Given the archive and a run id, return the (url, reason) of every failure recorded for the run, or
    None when the archive cannot be read (opened read-only)."""
    if run_id is None:
        return None
    from archive import ArchiveError, open_archive

    try:
        arc = open_archive(db, readonly=True)
    except ArchiveError:
        return None
    try:
        return [(str(f["url"]), str(f["reason"])) for f in arc.failures(int(run_id))]
    finally:
        arc.close()


def print_traps(recorded: list[tuple[str, str]], planned: dict[str, str]) -> None:
    """Given the demo run's recorded failures and the sample portal's planned traps (url -> reason, ``a|b``
    for alternatives), say which failures were planned and list any that were not."""
    expected = [(u, r) for u, r in recorded if r in planned.get(u, "").split("|")]
    other = [(u, r) for u, r in recorded if (u, r) not in set(expected)]
    kinds = ", ".join(f"{r} {n}" for r, n in sorted(Counter(r for _u, r in expected).items()))
    click.echo(f"  {len(expected)} of {len(recorded)} failures are the sample portal's planned traps"
               + (f" ({kinds})" if kinds else "") + ": the crawler recorded each with its reason, as it should")
    for url, reason in other:
        click.echo(f"  not a planned trap: {reason} {url}")
    missed = sorted(set(planned) - {u for u, _r in expected})
    for url in missed:
        click.echo(f"  planned trap not recorded: {planned[url]} {url}")


def completeness_text(state: Any, declared: Any, listed: Any, missing: Any) -> str:
    """``completeness partial: listed 103, declared 107, 4 missing`` (declared: by the columns that declare
    a count)."""
    if not state:
        return "completeness ?"
    if declared in (None, 0) and state == "unknown":
        return f"completeness unknown (listed {listed or 0}, nothing declared)"
    text = f"completeness {state}: listed {listed or 0}, declared {declared if declared is not None else '?'}"
    return text + (f", {missing} missing" if missing else "")


def print_timings(stats: dict[str, Any]) -> None:
    """``timings: {...}`` on stderr: seconds per pipeline stage and the CPU time of this process and its
    parse workers (read by bench/crawl.py)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {k.split("/", 2)[2]: round(float(v), 3) for k, v in stats.items() if k.startswith("ogi/time/")}
    out.update(elapsed=round(float(stats.get("ogi/elapsed", 0)), 3), cpu_crawl=round(me.ru_utime + me.ru_stime, 3),
               rss_crawl_mib=round(me.ru_maxrss / 1024, 1), rss_worker_mib=round(kids.ru_maxrss / 1024, 1),
               cpu_workers=round(kids.ru_utime + kids.ru_stime, 3))
    click.echo("timings: " + json.dumps(out, sort_keys=True), err=True)



@click.command("crawl")
@click.option("--source", "source_names", multiple=True, help="A source name from the sources file (repeatable).")
@click.option("--url", "urls", multiple=True, help="A list-page URL to crawl (repeatable).")
@click.option("--discover", "discover_urls", multiple=True,
              help="A portal page: crawl the annual-report columns `ogi discover` finds there (repeatable).")
@click.option("--db", default="ogi.db", show_default=True, help="Archive database.")
@click.option("--allow-private", is_flag=True, help="Allow loopback/private addresses (tests, local portals).")
@click.option("--run-id", type=int, default=None, help="Use this existing run row (created by the scheduler).")
@click.option("--trigger", default="manual", show_default=True, help="What started the run.")
@click.option("--mode", type=click.Choice(MODES), default="full", show_default=True, help=MODE_HELP)
@click.option("--sources-file", default=None, help="YAML or CSV sources file (default: the bundled one).")
@click.option("--host-map", multiple=True, hidden=True, help="NAME=127.0.0.1:PORT: serve *.NAME from loopback.")
@click.option("--fast", is_flag=True, hidden=True, help="Throttling off (loopback benchmark only).")
@click.option("--download-timeout", type=float, default=None, help="Seconds per response (default 60).")
@click.option("-s", "--set", "overrides", multiple=True, help="A Scrapy/OGI setting NAME=VALUE (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--timings", is_flag=True, hidden=True, help="Print a JSON line of time spent per stage (benchmark).")
def crawl_cmd(source_names: tuple[str, ...], urls: tuple[str, ...], discover_urls: tuple[str, ...], db: str,
              allow_private: bool,
              run_id: int | None, trigger: str, mode: str, sources_file: str | None, host_map: tuple[str, ...],
              fast: bool, download_timeout: float | None, overrides: tuple[str, ...], quiet: bool,
              timings: bool) -> None:
    """Crawl annual-report columns into the archive.

    With no --source and no --url every source of the sources file is crawled. Exit status 0 when the run
    completed (ok, partial with every loss recorded with its reason, empty or suspect), 1 when the run
    failed (no source could be crawled) or was interrupted, 2 for bad input (see docs/crawler.md).
    --mode light only looks at list pages for new items (the scheduler's weekly pass); --mode revisions
    re-checks the known reports for new versions (monthly).

    Example:

        ogi crawl --url http://www.example.gov.cn/zfxxgk/zfxxgknb/ --db ogi.db

        ogi crawl --mode light --db ogi.db
    """
    from ogi.commands.discover import parse_host_map
    from ogi.commands.errors import BadInput

    known = {s.name: s for s in sources_or_exit(sources_file)}
    chosen: list[SourceInfo] = []
    for name in source_names:
        if name not in known:
            raise BadInput(f"unknown source {name!r} (see `ogi sources`)")
        chosen.append(known[name])
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"not an http(s) URL: {url!r}")
        chosen.append(SourceInfo(name=url, url=url))
    for start in discover_urls:  # ogi discover's columns (family left to the spider's own detection)
        from ogi.commands.discover import run_discovery

        found = run_discovery(start, allow_private=allow_private, host_map=parse_host_map(host_map),
                              check_columns=False)
        click.echo(f"discover {start}: {found.summary()}", err=True)
        for cand in found.candidates:
            name = cand.name if cand.name not in known and cand.name not in {s.name for s in chosen} else cand.url
            if cand.url not in {s.url for s in chosen}:
                chosen.append(SourceInfo(name=name, url=cand.url, agency=cand.agency, level=cand.level))
    if discover_urls and not chosen:  # never fall back to the whole registry when discovery found nothing
        raise click.ClickException("--discover found no annual-report column to crawl")
    if not chosen:
        chosen = list(known.values())
    extra: dict[str, Any] = {"DOWNLOAD_TIMEOUT": download_timeout} if download_timeout else {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        if name.strip() == "OGI_MODE" and value.strip().lower() not in MODES:
            raise click.BadParameter(f"OGI_MODE must be one of {', '.join(MODES)}, got {value!r}",
                                     param_hint="--set")
        extra[name.strip()] = value
    settings = crawl_settings(db, allow_private=allow_private, run_id=run_id, trigger=trigger,
                              host_map=parse_host_map(host_map), fast=fast, extra=extra, mode=mode)
    check_archive_path(db)
    click.echo(f"crawling {len(chosen)} source(s) into {db} (mode {settings.get('OGI_MODE')})", err=True)
    stats = crawl_holding_run(db, run_id, chosen, settings, quiet=quiet)
    print_summary(stats, chosen, db)
    if timings:
        print_timings(stats)
    if stats.get("ogi/run_id") is None:
        raise click.ClickException("the crawl did not start (see the log above)")
    check_completed(stats)


def crawl_holding_run(db: str, run_id: int | None, chosen: list[SourceInfo], settings: Any, *,
                      quiet: bool) -> dict[str, Any]:
    """Given the sources and settings, run the crawl; a crawl of an existing run (``--run-id``) holds the run's
    crawl lock (crawler.runlock), so a second crawl of the same run is one line, exit 1, never a twin crawl."""
    from contextlib import nullcontext

    from crawler.runlock import RunBusy, RunLock

    try:
        with RunLock(db, run_id) if run_id is not None else nullcontext():
            return run_crawl(chosen, settings, progress=None if quiet else show_progress)
    except RunBusy as exc:
        raise click.ClickException(str(exc)) from None


def check_archive_path(db: str) -> None:
    """Given the --db of a crawl, open (create or migrate) it once before crawling; a directory, a file of
    another kind or application, a newer schema … is one line, exit 2 (not a traceback from the pipeline)."""
    from archive import ArchiveError, open_archive
    from ogi.commands.errors import BadInput

    if Path(db).is_dir():
        raise BadInput(f"{db}: is a directory, not an archive database")
    try:
        open_archive(db).close()
    except ArchiveError as exc:
        raise BadInput(str(exc)) from None


def check_completed(stats: dict[str, Any]) -> None:
    """A clear error (exit status 1) when the run failed (every source failed) or was stopped before it
    finished (SIGTERM, Ctrl-C). ok, partial (losses recorded with reasons), empty and suspect exit 0."""
    if stats.get("ogi/run_status") == "failed" and stats.get("ogi/commit_error"):
        raise click.ClickException(
            f"run {stats.get('ogi/run_id')} failed: the archive could not store everything"
            f" ({stats.get('ogi/commit_error')}); what was not stored is not counted above")
    if stats.get("ogi/run_status") == "failed":
        raise click.ClickException(
            f"run {stats.get('ogi/run_id')} failed: no source could be crawled (the reasons are listed above)")
    if stats.get("ogi/run_status") == "interrupted":
        raise click.ClickException(
            f"the crawl was interrupted ({stats.get('ogi/finish_reason') or stats.get('finish_reason')}): run "
            f"{stats.get('ogi/run_id')} is recorded as interrupted; start the crawl again to finish the work "
            "(what was archived is kept and not fetched twice)")


@click.command("demo")
@click.option("--db", default="demo.db", show_default=True, help="Where to put the demo archive.")
@click.option("--no-serve", is_flag=True, help="Crawl only; do not start Datasette.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Datasette port.")
def demo_cmd(db: str, no_serve: bool, port: int) -> None:
    """Crawl the bundled sample portal (offline, on 127.0.0.1) into ./demo.db and serve it with Datasette.

    Example:

        ogi demo
    """
    from ogi.demo.portal import FJ_URL, HUB_URL, SERIES_URL, Portal, PortalServer

    if not no_serve:
        from ogi.commands.errors import check_listen

        check_listen("127.0.0.1", port)  # before crawling: a port in use is one line, exit 2
    check_archive_path(db)
    portal = Portal(slow_seconds=2.0)
    server = PortalServer(portal).start()
    click.echo(f"sample portal on 127.0.0.1:{server.port} (hosts *.fixture.test)", err=True)
    sources = [SourceInfo(name="sample-hub", url=HUB_URL, agency="样例门户", level="demo"),
               SourceInfo(name="sample-fj", url=FJ_URL, agency="样例门户（动静结合）", level="demo"),
               SourceInfo(name="sample-series", url=SERIES_URL, agency="样例门户（多年度）", level="demo")]
    # the portal's slow page is a planned timeout: recorded and explained below, not an ERROR line (a filter:
    # Scrapy's logging set-up resets the level of its loggers, not their filters)
    logging.getLogger("scrapy.downloadermiddlewares.retry").addFilter(lambda rec: rec.levelno < logging.ERROR)
    settings = crawl_settings(db, allow_private=True, run_id=None, trigger="demo", host_map=server.host_map,
                              fast=True, extra={"DOWNLOAD_TIMEOUT": 1.5})
    try:
        stats = run_crawl(sources, settings, progress=show_progress)
    finally:
        server.stop()
    print_summary(stats, sources, db)
    recorded = recorded_failures(db, stats.get("ogi/run_id"))
    if recorded is not None:
        print_traps(recorded, portal.manifest["failures"])
    check_completed(stats)
    if no_serve:
        return
    click.echo(f"serving {db} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", err=True)
    try:
        from archive.serve import serve  # the archive's `ogi serve`
    except ImportError:
        import subprocess

        subprocess.run([sys.executable, "-m", "datasette", "serve", db, "--port", str(port)], check=False)
        return
    serve(db, host="127.0.0.1", port=port)


@click.command("sources")
@click.option("--db", default="ogi.db", show_default=True, help="Archive database (for the last crawl results).")
@click.option("--sources-file", default=None, help="YAML or CSV sources file (default: the bundled one).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
def sources_cmd(db: str, sources_file: str | None, as_json: bool) -> None:
    """List the sources with the result of their last crawl.

    Example:

        ogi sources --db ogi.db
    """
    sources = sources_or_exit(sources_file)
    arc = None
    given = click.get_current_context().get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE
    if given and not Path(db).exists():  # a named archive that is not there (the default only: nothing crawled yet)
        from ogi.commands.errors import BadInput

        raise BadInput(f"{db}: no such archive")
    if Path(db).exists():  # read-only: listing the sources never creates, migrates or changes the archive
        from ogi.commands.errors import open_readonly

        arc = open_readonly(db)
    try:
        for src in sources:
            last = arc.source_history(src.name, limit=1) if arc is not None else []
            row: dict[str, Any] = {k: getattr(src, k) for k in ("name", "url", "agency", "region", "level", "family")}
            row["verified"] = src.verified or bool(last and (last[0].get("reports_found") or 0) > 0)
            row["last_crawl"] = last[0] if last else None
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False, default=str))
                continue
            if last:
                h = last[0]
                result = (f"{h.get('status')} {h.get('started_at') or ''} reports {h.get('reports_found')}"
                          f" failures {h.get('failures')}  "
                          + completeness_text(h.get("completeness"), h.get("declared"), h.get("listed"),
                                              h.get("missing")))
            else:
                result = "never crawled"
            flag = "verified" if row["verified"] else "unverified"
            click.echo(f"{src.name:<16} {flag:<10} {result:<50} {src.url}")
    finally:
        if arc is not None:
            arc.close()


COMMANDS: list[click.Command] = [crawl_cmd, demo_cmd, sources_cmd]


def main() -> None:  # python -m ogi.commands.crawl crawl ... (works without the other areas)
    group = click.Group("ogi", commands={c.name: c for c in COMMANDS if c.name})
    group()


if __name__ == "__main__":
    main()
