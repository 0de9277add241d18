"""`ogi discover URL`: find the annual-report columns a portal page leads to, printed as sources.yaml entries."""

from __future__ import annotations

import json
import logging
from typing import Any

import click
import yaml

from crawler.discover import DiscoveryResult, discover
from crawler.safety import UnsafeURL
from ogi.commands.errors import BadInput

logger = logging.getLogger(__name__)


class DiscoverError(BadInput):
    """A discovery that could not start or found nothing to read: one line on stderr, exit status 2."""


def parse_host_map(values: tuple[str, ...]) -> dict[str, str]:
    """``NAME=HOST:PORT`` options as a dict (``*.NAME`` is served from ``HOST:PORT``)."""
    out = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not target:
            raise click.BadParameter(f"expected NAME=HOST:PORT, got {value!r}", param_hint="--host-map")
        out[name.strip().lower()] = target.strip()
    return out


def run_discovery(url: str, *, depth: int = 1, allow_private: bool = False,
                  host_map: dict[str, str] | None = None, max_pages: int = 60,
                  check_columns: bool = True, timeout: float = 20.0, delay: float = 0.5) -> DiscoveryResult:
    """Given a start URL, return the discovery result; a DiscoverError (one line, exit 2) when the URL is not
    http(s), is refused by the safety rules, or its page could not be read."""
    if not url.startswith(("http://", "https://")):
        raise DiscoverError(f"not an http(s) URL: {url!r}")
    if depth < 0:
        raise DiscoverError(f"--depth must be 0 or more, got {depth}")
    try:
        result = discover(url, depth=depth, allow_private=allow_private, host_map=host_map, max_pages=max_pages,
                          check_columns=check_columns, timeout=timeout, delay=delay)
    except UnsafeURL as exc:  # pragma: no cover - discover records refusals; kept for safety
        raise DiscoverError(f"refused: {exc}") from None
    if not result.pages:
        reason = next((r for u, r in result.failures), "no page read")
        raise DiscoverError(f"cannot read {url}: {reason}")
    return result


def sources_yaml(result: DiscoveryResult) -> str:
    """The candidates as a ``sources:`` YAML document (one flow mapping per entry, like crawler/sources.yaml)."""
    head = [f"# ogi discover {result.start}", f"# {result.summary()}"]
    if not result.candidates:
        return "\n".join([*head, "sources: []", ""])
    body = yaml.safe_dump({"sources": [c.to_source() for c in result.candidates]}, allow_unicode=True,
                          sort_keys=False, default_flow_style=None, width=1000)
    return "\n".join(head) + "\n" + body


@click.command("discover")
@click.argument("url")
@click.option("--depth", type=int, default=1, show_default=True,
              help="How many levels of directory links (部门信息公开, 政府信息公开 …) to follow from URL.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per column (with how it was found and whether it answered).")
@click.option("--allow-private", is_flag=True, help="Allow loopback/private addresses (tests, local portals).")
@click.option("--max-pages", type=int, default=60, show_default=True, help="At most this many pages read.")
@click.option("--no-check", is_flag=True, help="Do not fetch the columns found (no family, no status).")
@click.option("--timeout", type=float, default=20.0, show_default=True, help="Seconds per request.")
@click.option("--delay", type=float, default=0.5, show_default=True, help="Seconds between two requests.")
@click.option("--host-map", multiple=True, hidden=True, help="NAME=127.0.0.1:PORT: serve *.NAME from loopback.")
def discover_cmd(url: str, depth: int, as_json: bool, allow_private: bool, max_pages: int, no_check: bool,
                 timeout: float, delay: float, host_map: tuple[str, ...]) -> None:
    """Find the annual-report columns (政府信息公开年报) of a portal and its departments.

    URL is a portal's 政府信息公开 page, a department directory or a home page. The columns are printed as
    sources.yaml entries (name, url, agency, level, family); the level is a guess from the agency's name and
    the family is detected from the column page (null when it was not fetched or did not answer). Rejected
    confusable links and failed fetches are counted on stderr (and listed with -v).

    Example:

        ogi discover https://www.example.gov.cn/zwgk/ --depth 1 >> my-sources.yaml
    """
    result = run_discovery(url, depth=depth, allow_private=allow_private, host_map=parse_host_map(host_map),
                           max_pages=max_pages, check_columns=not no_check, timeout=timeout, delay=delay)
    for link, text, reason in result.rejected:
        logger.info("rejected %s (%s): %s", link, text, reason)
    for link, reason in result.failures:
        logger.info("failed %s: %s", link, reason)
    if as_json:
        for cand in result.candidates:
            row: dict[str, Any] = {**cand.to_source(), "via": cand.via, "evidence": cand.evidence,
                                   "page": cand.page, "checked": cand.checked}
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        click.echo(sources_yaml(result), nl=False)
    click.echo(result.summary(), err=True)


COMMANDS: list[click.Command] = [discover_cmd]


def main() -> None:  # python -m ogi.commands.discover discover ... (works without the other areas)
    group = click.Group("ogi", commands={c.name: c for c in COMMANDS if c.name})
    group()


if __name__ == "__main__":
    main()
