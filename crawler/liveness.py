"""Which process owns a running crawl: an owner tag in the run's detail, and a check that it is still alive.

``owner_tag()`` is ``running: pid=N start=T host=H`` (T: the process start time from /proc, so a reused pid is
not mistaken for the crawl); :func:`parse_owner_tag` reads it back and :func:`process_alive` checks it.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

__all__ = ["owner_tag", "parse_owner_tag", "process_alive"]


def _proc_start(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a process, from /proc; None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def owner_tag(pid: int | None = None) -> str:
    """``running: pid=N start=T host=H`` for this process (T: its start time, to survive pid reuse)."""
    pid = os.getpid() if pid is None else pid
    start = _proc_start(pid)
    return f"running: pid={pid} start={start if start is not None else '-'} host={socket.gethostname()}"


OWNER_RE = re.compile(r"pid=(\d+) start=(\d+|-) host=(\S+)")


def parse_owner_tag(text: str) -> tuple[int, int | None, str] | None:
    """Given a run detail, return (pid, start, host) of its owner tag, or None when it carries none."""
    m = OWNER_RE.search(text)
    if m is None:
        return None
    return int(m.group(1)), None if m.group(2) == "-" else int(m.group(2)), m.group(3)


def process_alive(pid: int, start: int | None) -> bool:
    """True when process ``pid`` exists and (when known) is the same process that started at ``start``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if start is not None:
        now = _proc_start(pid)
        if now is not None and now != start:
            return False  # the pid was reused by another process
    return True
