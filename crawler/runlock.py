"""One crawl per run: a crawl given an existing run (``ogi crawl --run-id N``) holds ``<db>.run-N.crawl.lock``.

The lock is an exclusive ``flock`` held for the life of the crawl process, so the kernel releases it when the
process ends however it ends (``kill -9`` included) and a stale file never blocks a resume. A second crawl of
the same run while the first is alive gets :class:`RunBusy` (the CLI prints one line, exit 1) instead of
crawling beside it and writing every failure and count twice. New runs need no lock: their id is new.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

__all__ = ["RunBusy", "RunLock", "run_lock_file"]


class RunBusy(RuntimeError):
    """Another live process is crawling this run."""


def run_lock_file(db: str | os.PathLike[str], run_id: int) -> Path:
    """Given the archive path and a run id, return the run's crawl lock file: ``<db>.run-<id>.crawl.lock``."""
    return Path(f"{os.fspath(db)}.run-{int(run_id)}.crawl.lock")


class RunLock:
    """Given the archive path and a run id, hold the run's crawl lock while in a ``with`` block."""

    def __init__(self, db: str | os.PathLike[str], run_id: int) -> None:
        self.path = run_lock_file(db, run_id)
        self.run_id = int(run_id)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`RunBusy` naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise RunBusy(f"run {self.run_id} is already being crawled (pid {holder}); not starting a second "
                          "crawl of it") from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)  # closing drops the flock
                self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
