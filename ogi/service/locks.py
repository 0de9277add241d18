"""Exclusive `flock` locks on files: the kernel releases them when the holder dies, so no lock goes stale."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path

from ogi.service.common import POLL_SECONDS, LockedError


class FileLock:
    """An exclusive `flock` on a file; released by the kernel if the process dies (no stale locks)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self, *, blocking: bool = False, stop: threading.Event | None = None) -> None:
        """Take the lock; raise LockedError (naming the holder's pid) when it is held and not blocking."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not blocking or (stop is not None and stop.is_set()):
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                    os.close(fd)
                    raise LockedError(f"{self.what} is held by process {holder} ({self.path})") from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Given a held lock, release it (a lock not held: nothing to do)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def inheritable(self) -> tuple[int, ...]:
        """Given the lock, return its descriptor for a child's `pass_fds` (the child then holds the lock with
        this process, and alone once this process is gone); () when not held."""
        return () if self._fd is None else (self._fd,)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(path: Path) -> int | None:
    """Given a lock file, return the pid holding its FileLock (-1 when unreadable), or None when nobody holds it."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
