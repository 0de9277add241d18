"""Which process owns a running crawl: an owner tag in the run's detail, and a check that it is still alive.

``owner_tag()`` is ``running: pid=N start=T host=H`` (T: the process start time from /proc, so a reused pid is
not mistaken for the crawl); :func:`parse_owner_tag` reads it back and :func:`process_alive` checks it.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

__all__ = ["owner_tag", "parse_owner_tag", "proc_start", "proc_stat", "process_alive"]


def proc_stat(pid: int) -> list[str] | None:
    """Given a pid, return the fields of /proc/<pid>/stat after the command name (None: no such process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def proc_start(pid: int) -> int | None:
    """Given a pid, return its process start time (clock ticks since boot), or None when unknown."""
    fields = proc_stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (ValueError, IndexError):
        return None


def owner_tag(pid: int | None = None) -> str:
    """``running: pid=N start=T host=H`` for this process (T: its start time, to survive pid reuse)."""
    pid = os.getpid() if pid is None else pid
    start = proc_start(pid)
    return f"running: pid={pid} start={start if start is not None else '-'} host={socket.gethostname()}"


OWNER_RE = re.compile(r"pid=(\d+) start=(\d+|-) host=(\S+)")


def parse_owner_tag(text: str) -> tuple[int, int | None, str] | None:
    """Given a run detail, return (pid, start, host) of its owner tag, or None when it carries none."""
    m = OWNER_RE.search(text)
    if m is None:
        return None
    return int(m.group(1)), None if m.group(2) == "-" else int(m.group(2)), m.group(3)


def process_alive(pid: int | None, start: int | None = None) -> bool:
    """Given a pid (and the start time it had), return whether that very process still runs: not when it is
    gone, a zombie, or the pid was reused by another process (its start time differs)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    fields = proc_stat(pid)
    if fields is None:
        return True  # no /proc: trust kill(0)
    if fields[0] in ("Z", "X"):
        return False
    return start is None or proc_start(pid) == start
