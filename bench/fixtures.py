"""Cells right / wrong / unknown / absent on the real fixtures, and THE RULE's violations: the closing-note figures.

    .venv/bin/python bench/fixtures.py [--json]

Sets: ``tests/fixtures/real/*.json`` (real published reports with hand-checked ``expected_cells``) and
``tests/fixtures/hazards/expected.json`` (real-looking excerpts of each hazard of issue 11). For every expected
key of every document: ``right`` (the value; or null flagged unknown where the fixture expects null: a row
printed without digits, a run with several readings), ``wrong`` (another value), ``unknown`` (null, flagged unknown: the
parser says it could not read it), ``absent`` (no such key in the report at all: silent loss). ``rule`` counts
the documents for which tests/parsers/invariant.py reports a violation of THE RULE (a printed table whose keys
are not all there, or a null without the unknown flag).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.parsers import parse_document  # noqa: E402
from tests.parsers.invariant import rule_violations  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "real"
HAZARDS = ROOT / "tests" / "fixtures" / "hazards"


def cases() -> list[tuple[str, str, Path, dict[str, Any]]]:
    """(set, name, document path, expected cells) of every fixture with hand-checked cells."""
    out = []
    for meta in sorted(REAL.glob("*.json")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        doc = REAL / str(data.get("file") or "")
        if data.get("expected_cells") and doc.is_file():
            out.append(("real", meta.stem, doc, data["expected_cells"]))
    expected = json.loads((HAZARDS / "expected.json").read_text(encoding="utf-8"))
    for name, want in sorted(expected.items()):
        if (HAZARDS / name).is_file() and want.get("cells"):
            out.append(("hazards", name, HAZARDS / name, want["cells"]))
    return out


def score(doc: Path, want: dict[str, Any]) -> dict[str, Any]:
    """Given a document and its expected cells, return its counts and THE RULE's violations."""
    report = parse_document(doc.read_bytes(), source=str(doc), url=doc.name)
    counts = {"cells": len(want), "right": 0, "wrong": 0, "unknown": 0, "absent": 0}
    for key, value in want.items():
        cell = report.cells.get(key)
        if cell is None:
            counts["absent"] += 1
        elif cell.value is None and value is None and cell.flag == "unknown":
            counts["right"] += 1  # expected unknown (a row printed without digits, an ambiguous run): it is
        elif cell.value is None:
            counts["unknown"] += 1
        elif cell.value == value:
            counts["right"] += 1
        else:
            counts["wrong"] += 1
    return {**counts, "rule": rule_violations(report), "status": report.status}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="one JSON object per document, then the totals")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    totals: dict[str, dict[str, int]] = {}
    for group, name, doc, want in cases():
        res = score(doc, want)
        tot = totals.setdefault(group, {"docs": 0, "cells": 0, "right": 0, "wrong": 0, "unknown": 0, "absent": 0,
                                        "rule": 0})
        tot["docs"] += 1
        tot["rule"] += bool(res["rule"])
        for k in ("cells", "right", "wrong", "unknown", "absent"):
            tot[k] += res[k]
        if args.json:
            print(json.dumps({"set": group, "name": name, **res}, ensure_ascii=False))
        elif res["wrong"] or res["unknown"] or res["absent"] or res["rule"]:
            print(f"{group}/{name}: {res['right']}/{res['cells']} right, {res['wrong']} wrong, {res['unknown']} unknown,"
                  f" {res['absent']} absent{'; RULE: ' + '; '.join(res['rule'][:3]) if res['rule'] else ''}")
    for group, tot in totals.items():
        line = {"set": group, **tot}
        print(json.dumps(line) if args.json else
              f"{group}: {tot['docs']} documents, {tot['right']}/{tot['cells']} cells right, {tot['wrong']} wrong,"
              f" {tot['unknown']} unknown, {tot['absent']} absent; THE RULE broken in {tot['rule']} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
