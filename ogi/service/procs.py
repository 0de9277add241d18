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

from crawler.liveness import proc_start, proc_stat, process_alive

logger = logging.getLogger(__name__)

__all__ = ["alive", "end_group", "group_alive", "group_leader", "proc_start"]


# the one definition of "this very process is alive" (pid + start time, zombies dead) is the crawler's
alive = process_alive


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
    fields = proc_stat(pid)
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
