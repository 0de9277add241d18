"""The `ogi` command line. Each area owns one module in ogi/commands/ that exports COMMANDS."""

from __future__ import annotations

import importlib
import logging
import sys

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

# area -> module; every module exports COMMANDS: list[click.Command]
COMMAND_MODULES = (
    "ogi.commands.parse",  # ogi parse
    "ogi.commands.archive",  # ogi import / export / serve
    "ogi.commands.crawl",  # ogi crawl / demo / sources
    "ogi.commands.schedule",  # ogi schedule / run-now / status
    "ogi.commands.discover",  # ogi discover
    "ogi.commands.doc",  # ogi doc
)


def _version_message() -> str:
    """Given the installed package, return ``ogi X.Y.Z (archive schema vN, parser P)``."""
    from importlib.metadata import PackageNotFoundError, version

    from archive.schema import SCHEMA_VERSION
    from crawler.parsers.version import parser_version

    try:
        package = version("ogi-archive")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout that was never installed
        package = "unknown"
    return f"ogi {package} (archive schema v{SCHEMA_VERSION}, parser {parser_version()})"


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_message())
        ctx.exit(0)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version (package, archive schema, parser) and exit.")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """OGI Archive: find, archive and parse 政府信息公开工作年度报告.

    Example:

        ogi parse report.html
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


for _name in COMMAND_MODULES:
    _mod = importlib.import_module(_name)
    for _cmd in getattr(_mod, "COMMANDS", []):
        cli.add_command(_cmd)


def main() -> None:
    cli()
