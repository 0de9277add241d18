"""The parser's version, recorded on every archived version so that re-parsing can tell which code read it.

A stable digest of the parser package's own Python sources: any change to the parser gives a new version,
the same code always gives the same one. (The one place in crawler/parsers that reads files: its own code.)
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def parser_version() -> str:
    """``src-`` and 12 hex digits of a sha256 over every ``*.py`` file of this package (path and bytes)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return "src-" + digest.hexdigest()[:12]
