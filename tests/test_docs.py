"""The docs cover the code: every command and option, every status, flag and check rule is written down.

Modelled on sqlite-utils' tests/test_docs.py: parametrized over what the code defines, so a new command, option,
status, flag or rule fails here until somebody documents it.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from ogi.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _commands() -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(cli.commands.items()):
        out.append((name, cmd))
        if isinstance(cmd, click.Group):
            out.extend((f"{name} {sub}", c) for sub, c in sorted(cmd.commands.items()))
    return out


@pytest.mark.parametrize(("name", "cmd"), _commands(), ids=[n for n, _ in _commands()])
def test_command_is_documented_and_has_help(name: str, cmd: click.Command) -> None:
    assert cmd.help and cmd.help.strip(), f"ogi {name} has no help text"
    assert re.search(rf"\bogi {re.escape(name)}\b", DOCS), f"`ogi {name}` appears in no doc"


@pytest.mark.parametrize(
    ("name", "opt"),
    [(n, o) for n, c in _commands() for p in c.params if isinstance(p, click.Option)
     for o in p.opts if o.startswith("--") and o != "--help"],
)
def test_option_is_documented(name: str, opt: str) -> None:
    assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", DOCS), f"`ogi {name} {opt}` appears in no doc"


def _contract_terms() -> list[tuple[str, str]]:
    from archive import schema

    terms: list[tuple[str, str]] = []
    for attr in ("REPORT_STATUSES", "RUN_STATUSES", "FLAGS", "CHECK_STATUSES", "COMPLETENESS"):
        for value in getattr(schema, attr, ()):
            terms.append((attr, str(value)))
    for rule in getattr(schema, "CHECK_RULES", {}):
        terms.append(("CHECK_RULES", str(rule)))
    return terms


def test_the_contract_lists_are_there() -> None:
    kinds = {k for k, _ in _contract_terms()}
    assert {"REPORT_STATUSES", "RUN_STATUSES", "FLAGS", "CHECK_RULES"} <= kinds, kinds


@pytest.mark.parametrize(("kind", "term"), _contract_terms())
def test_contract_term_is_documented(kind: str, term: str) -> None:
    assert re.search(rf"`{re.escape(term)}`", DOCS), f"{kind} {term!r} is not documented (as `{term}`)"
