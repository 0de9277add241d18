"""Body identity across years and sources: normalised agency names, the alias file, stable body ids.

A body is one publishing agency at one place. Its id is a hash of (canonical normalised name, region code), so
it is stable across rebuilds. Names are merged only by the exact normalisation below or by an entry of the
user-editable alias file (``archive/aliases.yaml``); every merge is recorded in ``body_names`` with its rule.
Names in the archive are already radical-folded by the parser; NFKC is applied again here for alias entries.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

DEFAULT_ALIASES = Path(__file__).resolve().parent.parent / "aliases.yaml"

_WS_RE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_QUOTES_RE = re.compile("[\u201c\u201d\"'\u2018\u2019\u300c\u300d\u300e\u300f]")
_PAREN_NOTE_RE = re.compile(r"\s*\((?:mirror copy|镜像|转载)[^)]*\)$")
# a general office of a people's government: 办公厅 (provinces) and 办公室 (below) are one body per place
_OFFICE_RE = re.compile(r"人民政府办公厅$")
_GOV_SUFFIXES = (
    "人民政府办公室", "人民政府", "管理委员会办公室", "管理委员会", "管委会", "实验区", "新区", "街道办事处", "街道",
    "镇人民政府", "乡人民政府", "镇", "乡",
)
_TOWNSHIP_RE = re.compile(r"(?:镇|乡|街道办事处|街道)(?:人民政府)?$")


def normalise_name(name: str) -> str:
    """Given an agency name as printed, return its normalised form: NFKC, no whitespace or quotes,
    其它 → 其他, a trailing copy note dropped, and 人民政府办公厅 → 人民政府办公室 (one general office per place)."""
    text = _PAREN_NOTE_RE.sub("", unicodedata.normalize("NFKC", name or "").strip())
    text = _WS_RE.sub("", text)
    text = _QUOTES_RE.sub("", text).replace("其它", "其他")
    return _OFFICE_RE.sub("人民政府办公室", text)


def body_kind(norm: str) -> str:
    """Given a normalised name, return ``government`` (a people's government, its general office, a zone's
    committee, a township or street office) or ``department``."""
    return "government" if norm.endswith(_GOV_SUFFIXES) else "department"


def body_level(norm: str, prefecture: str | None, county: str | None, province: str | None) -> str:
    """Given a normalised name and its region, return the level: township, county, prefecture, province or
    unknown (the deepest region the name resolved to)."""
    if _TOWNSHIP_RE.search(norm):
        return "township"
    if county:
        return "county"
    if prefecture:
        return "prefecture"
    if province:
        return "province"
    return "unknown"


def body_id(canonical: str, region_code: str | None) -> str:
    """Given a canonical normalised name and a region code, return the stable body id (12 hex digits)."""
    return hashlib.sha1(f"{canonical}|{region_code or ''}".encode()).hexdigest()[:12]


@dataclass
class Aliases:
    """The alias file: normalised ``from`` → (normalised ``to``, years or None, note)."""

    renamed: dict[str, list[tuple[str, tuple[int, int] | None, str]]] = field(default_factory=dict)
    distinct: list[set[str]] = field(default_factory=list)
    path: str = ""

    def canonical(self, norm: str, year: int | None) -> tuple[str, str | None]:
        """Given a normalised name and a report year, return (canonical name, alias note or None), following
        chains of renamings (at most 10 steps: a cycle in the file stops there)."""
        note: str | None = None
        seen = {norm}
        for _ in range(10):
            step = None
            for to, years, why in self.renamed.get(norm, []):
                if years is None or (year is not None and years[0] <= year <= years[1]):
                    step = (to, why)
                    break
            if step is None or step[0] in seen:
                break
            norm, note = step[0], step[1] or f"alias file {self.path}"
            seen.add(norm)
        return norm, note


def load_aliases(path: str | Path | None = None) -> Aliases:
    """Given the alias file path (default ``archive/aliases.yaml``), return its parsed entries; a missing file
    gives no aliases, a malformed entry is skipped with a warning (never a crash of the recompute)."""
    p = Path(path) if path else DEFAULT_ALIASES
    out = Aliases(path=str(p))
    if not p.exists():
        return out
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("%s: alias file not read: %s", p, exc)
        return out
    for group in data.get("distinct") or []:
        if isinstance(group, list):
            out.distinct.append({normalise_name(str(n)) for n in group})
    for entry in data.get("renamed") or []:
        if not isinstance(entry, dict) or not entry.get("from") or not entry.get("to"):
            logger.warning("%s: alias entry without from/to skipped: %r", p, entry)
            continue
        src, dst = normalise_name(str(entry["from"])), normalise_name(str(entry["to"]))
        if any(src in g and dst in g for g in out.distinct):
            logger.warning("%s: %s -> %s refused: listed as distinct bodies", p, src, dst)
            continue
        years = entry.get("years")
        span = (int(years[0]), int(years[1])) if isinstance(years, list) and len(years) == 2 else None
        out.renamed.setdefault(src, []).append((dst, span, str(entry.get("note") or "")))
    return out


def assign_bodies(reports: list[dict[str, Any]], aliases: Aliases) -> tuple[list[dict], list[dict], list[dict]]:
    """Given the current report rows and the aliases, return (bodies, body_reports, body_names) rows.

    Region: a name resolved to a region code in one year and to none in another is the same body (merge
    recorded as ``region_unknown``); two different region codes stay two bodies.
    """
    names: dict[tuple[str, str | None], dict[str, Any]] = {}
    placed: list[tuple[dict[str, Any], str, str, str | None]] = []  # report, canonical, rule, note
    codes_by_name: dict[str, set[str]] = {}
    body_reports: list[dict[str, Any]] = []
    for r in reports:
        if not r.get("agency") or not isinstance(r.get("year"), int):
            body_reports.append({
                "report_id": r["id"], "body_id": None, "year": r.get("year"), "series": None,
                "name_rule": None, "duplicate_of": None,
                "reason": "no agency" if not r.get("agency") else "no report year",
            })
            continue
        norm = normalise_name(r["agency"])
        canon, note = aliases.canonical(norm, r["year"])
        rule = "alias" if canon != norm else ("normalised" if norm != r["agency"] else "exact")
        placed.append((r, canon, rule, note))
        if r.get("region_code"):
            codes_by_name.setdefault(canon, set()).add(r["region_code"])
    bodies: dict[str, dict[str, Any]] = {}
    for r, canon, rule, note in placed:
        code = r.get("region_code")
        codes = codes_by_name.get(canon, set())
        if not code and len(codes) == 1:
            code, rule, note = next(iter(codes)), "region_unknown", "region code taken from the same name's other reports"
        bid = body_id(canon, code)
        b = bodies.get(bid)
        if b is None:
            bodies[bid] = b = {
                "body_id": bid, "name": canon, "kind": body_kind(canon), "level": "unknown",
                "province": None, "prefecture": None, "county": None, "region_code": code,
                "first_year": r["year"], "last_year": r["year"], "reports": 0, "expected_only": 0,
            }
        if b["level"] == "unknown" or (code and not b["province"] and r.get("province")):
            b["level"] = body_level(canon, r.get("prefecture"), r.get("county"), r.get("province"))
            b.update(province=r.get("province"), prefecture=r.get("prefecture"), county=r.get("county"))
        b["reports"] += 1
        b["first_year"] = min(b["first_year"], r["year"])
        b["last_year"] = max(b["last_year"], r["year"])
        body_reports.append({
            "report_id": r["id"], "body_id": bid, "year": r["year"], "series": r.get("scope"), "name_rule": rule,
            "duplicate_of": None, "reason": None, "series_note": None,
        })
        key = (r["agency"], bid)
        n = names.get(key)
        if n is None:
            names[key] = n = {"body_id": bid, "name": r["agency"], "normalised": normalise_name(r["agency"]),
                              "canonical": canon, "rule": rule, "note": note, "reports": 0, "years": set()}
        n["reports"] += 1
        n["years"].add(r["year"])
    _assign_series(body_reports)
    _mark_duplicates(body_reports)
    name_rows = [{**n, "years": ",".join(str(y) for y in sorted(n["years"]))} for n in names.values()]
    return list(bodies.values()), body_reports, name_rows


def _assign_series(rows: list[dict[str, Any]]) -> None:
    """Given body_report rows holding the report's scope in ``series``, set the series: ``aggregate`` or
    ``self``; a report of unknown scope joins its body's aggregate series when the body has aggregate reports
    and no self-scope one (noted in ``series_note``), else the self series."""
    scopes: dict[str, set[Any]] = {}
    for row in rows:
        if row["body_id"]:
            scopes.setdefault(row["body_id"], set()).add(row["series"])
    for row in rows:
        if not row["body_id"]:
            continue
        scope = row["series"]
        if scope in ("self", "aggregate"):
            continue
        seen = scopes[row["body_id"]]
        if "aggregate" in seen and "self" not in seen:
            row["series"], row["series_note"] = "aggregate", "scope unknown: joined the body's aggregate reports"
        else:
            row["series"], row["series_note"] = "self", "scope unknown: taken as self"


def _mark_duplicates(rows: list[dict[str, Any]]) -> None:
    """Given body_report rows, mark every report after the first of the same (body, series, year) as a
    duplicate of the first (lowest report id), so each series has one report per year."""
    first: dict[tuple[Any, Any, Any], int] = {}
    for row in sorted((r for r in rows if r["body_id"]), key=lambda r: r["report_id"]):
        k = (row["body_id"], row["series"], row["year"])
        if k in first:
            row["duplicate_of"] = first[k]
            row["reason"] = "same body, series and year as another report"
        else:
            first[k] = row["report_id"]


def expected_governments(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Given the bodies, return an expected-only government body for every region code that has bodies but no
    government body of its own (its report is then ``missing`` in coverage, never silently absent)."""
    gov_codes = {b["region_code"] for b in bodies if b["kind"] == "government" and b["region_code"]}
    out: dict[str, dict[str, Any]] = {}
    for b in bodies:
        code = b["region_code"]
        if not code or code in gov_codes or b.get("level") == "township":
            continue
        if code in out:
            e = out[code]
            e["first_year"] = min(e["first_year"], b["first_year"])
            e["last_year"] = max(e["last_year"], b["last_year"])
            continue
        place = b["county"] or b["prefecture"] or b["province"]
        if not place:
            continue
        name = f"{place}人民政府"
        level = "county" if b["county"] else ("prefecture" if b["prefecture"] else "province")
        out[code] = {
            "body_id": body_id(name, code), "name": name, "kind": "government", "level": level,
            "province": b["province"], "prefecture": b["prefecture"], "county": b["county"], "region_code": code,
            "first_year": b["first_year"], "last_year": b["last_year"], "reports": 0, "expected_only": 1,
        }
    return list(out.values())
