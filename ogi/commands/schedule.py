"""`ogi schedule [--list]`, `ogi run-now [--source NAME]`, `ogi status`: the scheduler's commands.

`schedule` is scheduler.py's own command (registered here); `run-now` and `status` are thin over
ogi.service.runner and ogi.service.status. Nothing imports this module back.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys

import click

from ogi.service.runner import Runner, RunRequest
from ogi.service.status import build_status, format_status
from scheduler import (
    SchedulerError,
    config_option,
    config_or_fail,
    db_option,
    run_log_path,
    schedule,
    service_logging,
)


@click.command("run-now")
@db_option
@config_option
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable).")
@click.option("--mode", default="full", show_default=True,
              help="full, light (list pages, new items only) or revisions (known reports re-checked); any key of "
                   "the config's modes, whose `ogi crawl` arguments the run gets.")
@click.option("--wait/--no-wait", default=False, help="Wait for a run in progress instead of refusing.")
def run_now(db: str, config_path: str | None, sources: tuple[str, ...], mode: str, wait: bool) -> None:
    """Run one refresh now, through the same path as scheduled runs (subprocess, lock, history, alerts).

    Exits 0 when the run completed (ok, empty or suspect; alerts are delivered), 1 when it failed
    or was interrupted.

    Example:

        ogi run-now --db ogi.db --source beijing_gov

        ogi run-now --db ogi.db --mode light
    """
    config = config_or_fail(config_path)
    if mode not in config.modes:
        raise click.ClickException(f"Unknown mode {mode!r}; configured: {', '.join(sorted(config.modes))}")
    service_logging()
    runner = Runner(db, config)
    request = RunRequest(job_id="run-now", mode=mode, sources=sources, trigger="run-now")

    def _stop(signum: int, _frame: object) -> None:  # Ctrl-C / SIGTERM: stop the crawl cleanly; it resumes later
        logging.getLogger("scheduler").warning("Received %s; stopping the run", signal.Signals(signum).name)
        runner.stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = runner.run(request, wait_for_lock=wait)
    except SchedulerError as e:
        raise click.ClickException(str(e)) from e
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    counts = outcome.counts
    new_items = f", new items {counts['new_items']}" if "new_items" in counts else ""
    click.echo(f"run {outcome.run_id}: {outcome.status}"
               f" (pages {counts.get('pages', 0)}, reports {counts.get('reports_found', 0)},"
               f" new {counts.get('new_reports', 0)}, new versions {counts.get('new_versions', 0)},"
               f" failures {counts.get('failures', 0)}{new_items}) in {outcome.seconds:.1f}s, mode {mode}"
               + (f": {outcome.detail}" if outcome.detail else ""))
    click.echo(f"log: {run_log_path(db, outcome.run_id)}")
    if outcome.status == "interrupted":
        click.echo("interrupted: the next `ogi schedule` start resumes it", err=True)
    if outcome.status in ("failed", "interrupted"):
        sys.exit(1)


@click.command("status")
@db_option
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--limit", default=10, show_default=True, help="How many recent runs.")
@click.option("--check", is_flag=True, help="Also run the archive's integrity check; exit 1 when it finds a problem.")
def status(db: str, config_path: str | None, as_json: bool, limit: int, check: bool) -> None:
    """Show the last runs, the next runs, archive counts, failing sources and the last run's completeness.

    Example:

        ogi status --db ogi.db

        ogi status --db ogi.db --check
    """
    config = config_or_fail(config_path)
    data = build_status(db, config, limit=limit, check=check)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(format_status(data))
    if check and (data.get("error") or (data.get("integrity") or {}).get("ok") is False):
        sys.exit(1)  # --check: an archive that cannot be opened or checked is not healthy
    if data.get("error") and (os.path.exists(db) or _given(click.get_current_context(), "db")):
        # a file that is not a readable archive (another app's database, a newer schema …), or an archive the
        # user named that is not there; without --db (the default ogi.db) a missing archive only means that
        # nothing has run yet, and the next runs above are still worth showing
        click.echo(f"Error: {data['error']}", err=True)
        sys.exit(2)


def _given(ctx: click.Context, name: str) -> bool:
    """Given the command's context, return whether the user gave option `name` (not its default or env)."""
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


COMMANDS: list[click.Command] = [schedule, run_now, status]
