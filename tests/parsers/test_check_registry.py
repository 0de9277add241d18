"""The check rules have one registry each side: the parser's CHECKERS and the contract's CHECK_RULES name the
same rules, and every check a real report gets is of a registered rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.schema import CHECK_KINDS, CHECK_RULES
from crawler.parsers import parse_document
from crawler.parsers.checks import CHECKERS

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"


def test_checkers_and_contract_name_the_same_rules() -> None:
    registered = [rule for rules, _ in CHECKERS for rule in rules]
    assert len(registered) == len(set(registered))
    assert set(registered) == set(CHECK_RULES)
    assert all(kind in CHECK_KINDS for kind, _ in CHECK_RULES.values())


@pytest.mark.parametrize("path", sorted(p for p in REAL.glob("*.*") if p.suffix in (".txt", ".html")),
                         ids=lambda p: p.name)
def test_every_check_of_a_real_report_is_registered(path: Path) -> None:
    report = parse_document(path.read_bytes(), source=path.name)
    rules = {c.rule for c in report.checks}
    assert rules <= set(CHECK_RULES), rules - set(CHECK_RULES)
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8")) if path.with_suffix(".json").exists() else {}
    if expected.get("format") in ("gov2021", "gov2019"):
        assert {"I1", "I2", "I3", "I5"} <= rules
