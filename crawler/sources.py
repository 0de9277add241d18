"""The portal registry: ``crawler/sources.yaml`` (or a YAML/CSV file given by the user) as SourceInfo rows.

Each entry is one start URL (an annual-report column, a hub, a gkmlpt catalogue …) with what we know of it.
``name`` must be unique; ``family`` is optional (``trs | hanweb | gkmlpt | generic`` forces it instead of
detecting it); ``verified`` says a crawl of it has found reports.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["SOURCES_FILE", "SourceInfo", "SourcesError", "load_sources"]

SOURCES_FILE = Path(__file__).resolve().parent / "sources.yaml"
TRUE = ("1", "true", "yes", "y", "on")


class SourcesError(ValueError):
    """A sources file that cannot be used (missing, unreadable, an entry without url, duplicate names)."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One start URL with what we know of it (a sources.yaml entry)."""

    name: str
    url: str
    agency: str | None = None
    region: str | None = None
    level: str | None = None
    family: str | None = None  # force a family instead of detecting it
    verified: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceInfo:
        """Given a sources-file row (``url`` required), return its SourceInfo (name defaults to the URL)."""
        known = {f.name for f in fields(cls)} - {"name", "url", "verified"}
        values = {k: (str(data[k]) if data.get(k) not in (None, "") else None) for k in known}
        verified = data.get("verified")
        flag = verified if isinstance(verified, bool) else str(verified or "").strip().lower() in TRUE
        return cls(name=str(data.get("name") or data["url"]), url=str(data["url"]), verified=flag, **values)

    def to_dict(self) -> dict[str, Any]:
        """The entry as a plain dict (the spider's ``sources`` argument)."""
        return asdict(self)


def _rows(path: Path) -> list[Any]:
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8") as fh:
            return [dict(r) for r in csv.DictReader(fh)]
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = data.get("sources", []) if isinstance(data, dict) else data
    return list(rows or [])


def load_sources(path: str | Path | None = None) -> list[SourceInfo]:
    """Given a YAML (``sources:`` list) or CSV (header row) file, default the bundled registry, return its
    sources in file order; SourcesError naming the file and the problem otherwise."""
    path = Path(path or SOURCES_FILE)
    if not path.exists():
        raise SourcesError(f"sources file not found: {path}")
    try:
        rows = _rows(path)
    except Exception as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc}") from exc
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not row.get("url"):
            raise SourcesError(f"{path}: entry {i + 1} has no url")
        out.append(SourceInfo.from_dict(row))
    names = [s.name for s in out]
    if len(names) != len(set(names)):
        raise SourcesError(f"{path}: source names must be unique")
    return out
