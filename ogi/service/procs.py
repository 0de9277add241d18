"""The crawl's process group: who is alive (a reused pid or a zombie is not), and ending a group that outlived its runner.

The service starts each crawl in a new session (`start_new_session`), so the crawl's pid is also its process
group id, and signalling the group reaches the crawl's parse workers too. Linux does not hand out a pid that
is still some group's id, so a group found by that id is the crawl's own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def _stat(pid: int) -> list[str] | None:
    """Given a pid, return the fields of /proc/<pid>/stat after the command name (None: no such process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def proc_start(pid: int) -> int | None:
    """Given a pid, return its process start time (clock ticks since boot), or None when unknown."""
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (ValueError, IndexError):
        return None


def alive(pid: int | None, start: int | None = None) -> bool:
    """Given a pid (and the start time it had), return whether that very process still runs (zombies do not)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat(pid)
    if fields is None:
        return True  # no /proc: trust kill(0)
    if fields[0] in ("Z", "X"):
        return False
    return start is None or proc_start(pid) == start


def group_leader(pid: int) -> bool:
    """Given a pid, return whether that process leads its own process group (as a crawl the service started does)."""
    return _pgid(pid) == pid


def group_alive(pgid: int) -> bool:
    """Given a process group id, return whether any live (non-zombie) member remains."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    members = [p for p in _pids() if _pgid(p) == pgid]
    return any(alive(p) for p in members) if members else True


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _pgid(pid: int) -> int | None:
    fields = _stat(pid)
    try:
        return int(fields[2]) if fields else None
    except (ValueError, IndexError):
        return None


def end_group(pgid: int, *, grace: float, poll: float = 0.1) -> bool:
    """Given a crawl's process group, SIGTERM it (the crawl stops cleanly), SIGKILL it after `grace` seconds;
    return True when the group is gone."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_alive(pgid):
                return True
            time.sleep(poll)
        if sig == signal.SIGTERM:
            logger.warning("The orphan crawl (process group %d) did not stop in %gs; killing it", pgid, grace)
    return not group_alive(pgid)
