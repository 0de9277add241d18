"""Parse worker processes fed through pipes that the crawl's event loop reads directly.

``concurrent.futures.ProcessPoolExecutor`` keeps a feeder thread and a manager thread in the crawl process;
every ``submit`` wakes them, and the reactor then waits for the GIL behind them (profiled at ~1.5 ms per
document, more than the parse itself). Here the crawl process has no helper thread: each worker has one
duplex pipe, at most :data:`IN_FLIGHT` jobs are queued on it (so a send never blocks on a full pipe), and
results are read by ``loop.add_reader`` callbacks.

Workers ignore SIGINT/SIGTERM (the scheduler signals the whole process group; the crawl process decides
when parsing stops) and exit when their pipe closes or the crawl process is gone (``kill -9``). A worker that
dies mid-job is replaced and its jobs are retried once; a document that kills two workers fails with
:class:`WorkerDied` (reason ``parse_crashed``).

Per-document budgets (issue 12): a worker's address space is capped with ``RLIMIT_AS`` at its size after
importing the parsers plus ``memory_mb`` (``OGI_PARSE_MEMORY_MB``, default 2048: an OCR page needs ~1.5 GB of
address space) and glibc kept to :data:`MALLOC_ARENAS` arenas (each thread's own 64 MB arena is address space
too): a document that needs more
gets a ``MemoryError`` (``parse_memory``) and the worker is recycled; a document parsed longer than
``seconds`` (``OGI_PARSE_SECONDS``, default 90) has its worker killed (``parse_timeout``, not retried: the
next document goes on at once); a worker is recycled after ``recycle`` documents (``OGI_PARSE_RECYCLE``,
default 500). Each exceeded budget fails that one document with :class:`ParseBudgetExceeded`, whose ``reason``
the pipeline records; the crawl goes on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

IN_FLIGHT = 2  # jobs per worker: one being parsed, one waiting in the pipe
DEFAULT_SECONDS = 90.0
DEFAULT_MEMORY_MB = 2048
MALLOC_ARENAS = "2"  # MALLOC_ARENA_MAX of the workers: OCR threads would each reserve an arena under the cap
DEFAULT_RECYCLE = 500
MEMORY_EXIT = 77  # a worker that ran out of its memory budget reports it, then exits with this code


def parse_to_json(body: bytes, url: str, final_url: str | None, content_type: str | None,
                  title: str | None, images: dict[str, bytes] | None = None) -> dict[str, Any]:
    """``parse_document(...).to_json()``; what a worker runs (this module imports neither Scrapy nor the
    archive, so a worker starts in a fraction of the time and memory). ``images``: the fetched images of a
    page whose tables are pictures (URL → bytes)."""
    from crawler.parsers import parse_document

    return parse_document(body, source=url, url=final_url or url, content_type=content_type,
                          title_hint=title, images=images).to_json()


class WorkerDied(RuntimeError):
    """The worker process parsing a document died (twice)."""

    reason = "parse_crashed"


class ParseBudgetExceeded(RuntimeError):
    """A document exceeded a parse budget; ``reason`` is ``parse_timeout`` or ``parse_memory``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class _Job:
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    attempts: int = 0
    seconds: float | None = None  # this job's wall-time budget (None: the pool's)


@dataclass
class _Worker:
    process: Any
    conn: Any
    jobs: deque[_Job] = field(default_factory=deque)
    registered: bool = False
    done: int = 0  # documents parsed (recycled after ``recycle``)
    started: float = 0.0  # monotonic time the head job began (the wall-time budget)
    timer: Any = None
    killed_for: str | None = None  # the budget the head job exceeded (its worker was killed for it)


def _limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its current size plus ``memory_mb`` (0: no cap)."""
    if memory_mb <= 0:
        return
    import resource

    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    limit = size + memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (ValueError, OSError):
        logger.warning("cannot cap the parse worker's memory at %d MB", memory_mb)


def _worker_main(conn: Any, parent_pid: int, func: Callable[..., Any], memory_mb: int = 0) -> None:
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:  # the crawl process was killed: do not linger
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="ogi-parent-watch", daemon=True).start()
    try:  # warm up while the crawl fetches its first list pages
        import crawler.parsers  # noqa: F401
    except Exception:  # the first job reports the problem
        logger.exception("cannot import the parsers")
    _limit_memory(memory_mb)
    while True:
        try:
            args = conn.recv()
        except (EOFError, OSError):
            return
        if args is None:
            return
        try:
            result: tuple[bool, Any] = (True, func(*args))
        except MemoryError:
            result = (False, "parse_memory")
        except Exception as exc:  # reported to the crawl, which records it as a parse error
            result = (False, f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn.send(result)
        except (BrokenPipeError, OSError, MemoryError):
            return
        if result == (False, "parse_memory"):
            os._exit(MEMORY_EXIT)  # the heap may be fragmented past the cap: start afresh


class ParsePool:
    """``await pool.run(*args)`` runs ``func(*args)`` in one of ``size`` worker processes."""

    def __init__(self, size: int, func: Callable[..., Any], *, seconds: float = DEFAULT_SECONDS,
                 memory_mb: int = DEFAULT_MEMORY_MB, recycle: int = DEFAULT_RECYCLE) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.func = func
        self.seconds = seconds
        self.memory_mb = memory_mb
        self.recycle = max(1, recycle)
        self.budget_failures: dict[str, int] = {}
        self.waiting: deque[_Job] = deque()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self.workers = [self._spawn() for _ in range(max(1, size))]

    def _spawn(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(target=_worker_main, args=(child, os.getpid(), self.func, self.memory_mb),
                                   daemon=True, name="ogi-parse")
        before = os.environ.get("MALLOC_ARENA_MAX")
        os.environ["MALLOC_ARENA_MAX"] = before or MALLOC_ARENAS  # read by glibc when the worker starts
        try:
            process.start()
        finally:
            if before is None:
                del os.environ["MALLOC_ARENA_MAX"]
        child.close()
        worker = _Worker(process, parent)
        if self.loop is not None:
            self._register(worker)
        return worker

    def _register(self, worker: _Worker) -> None:
        assert self.loop is not None
        self.loop.add_reader(worker.conn.fileno(), self._readable, worker)
        worker.registered = True

    async def run(self, *args: Any, seconds: float | None = None) -> Any:
        """``func(*args)`` in a worker; ``seconds``: this job's wall-time budget instead of the pool's (an OCR
        of many images needs more than one document's parse)."""
        if self.closed:
            raise RuntimeError("parse pool is closed")
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            for worker in self.workers:
                self._register(worker)
        job = _Job(args, self.loop.create_future(), seconds=seconds)
        self.waiting.append(job)
        self._dispatch()
        return await job.future

    def _dispatch(self) -> None:
        while self.waiting:
            open_workers = [w for w in self.workers if w.done < self.recycle]
            if not open_workers:
                return
            worker = min(open_workers, key=lambda w: len(w.jobs))
            if len(worker.jobs) >= IN_FLIGHT:
                return
            job = self.waiting.popleft()
            if job.future.done():  # cancelled while waiting
                continue
            try:
                worker.conn.send(job.args)
            except (BrokenPipeError, OSError):
                self.waiting.appendleft(job)
                self._replace(worker)
                continue
            worker.jobs.append(job)
            if len(worker.jobs) == 1:
                self._start_clock(worker)

    def _start_clock(self, worker: _Worker) -> None:
        """The head job of ``worker`` begins now: arm its wall-time budget."""
        if worker.timer is not None:
            worker.timer.cancel()
            worker.timer = None
        if not worker.jobs or self.loop is None or self.seconds <= 0:
            return
        worker.started = self.loop.time()
        head = worker.jobs[0]
        worker.timer = self.loop.call_later(head.seconds or self.seconds, self._overtime, worker, head)

    def _overtime(self, worker: _Worker, job: _Job) -> None:
        """The head job ran past the budget: kill its worker; the job fails with ``parse_timeout``."""
        worker.timer = None
        if worker not in self.workers or not worker.jobs or worker.jobs[0] is not job:
            return
        logger.warning("parse of a document exceeded %.0f s: worker %s killed", job.seconds or self.seconds,
                       worker.process.pid)
        worker.killed_for = "parse_timeout"
        worker.process.kill()
        self._replace(worker)
        self._dispatch()

    def _readable(self, worker: _Worker) -> None:
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker)
            self._dispatch()
            return
        except Exception as exc:  # an unpicklable result: that document fails, the worker goes on
            ok, value = False, f"{type(exc).__name__}: {exc}"
        if worker.jobs:
            job = worker.jobs.popleft()
            worker.done += 1
            if not job.future.done():
                if ok:
                    job.future.set_result(value)
                elif value == "parse_memory":
                    self._count("parse_memory")
                    job.future.set_exception(ParseBudgetExceeded(
                        "parse_memory", f"the parse needed more than {self.memory_mb} MB"))
                else:
                    job.future.set_exception(RuntimeError(value))
            self._start_clock(worker)
        if not ok and value == "parse_memory":
            worker.killed_for = "parse_memory"  # the worker exits: its waiting jobs go elsewhere, not counted
            self._replace(worker)
        elif worker.done >= self.recycle and not worker.jobs:
            self._retire(worker)
        self._dispatch()

    def _count(self, reason: str) -> None:
        self.budget_failures[reason] = self.budget_failures.get(reason, 0) + 1

    def _retire(self, worker: _Worker) -> None:
        """A worker that parsed ``recycle`` documents is closed and replaced by a fresh one."""
        self._drop(worker)
        self.workers.remove(worker)
        try:
            worker.process.join(0)
        except Exception:  # pragma: no cover
            pass
        if not self.closed:
            self.workers.append(self._spawn())

    def _replace(self, worker: _Worker) -> None:
        """A worker died: retry its jobs once on a new worker."""
        if worker not in self.workers:
            return
        self._drop(worker)
        self.workers.remove(worker)
        if worker.timer is not None:
            worker.timer.cancel()
            worker.timer = None
        if worker.jobs and worker.killed_for == "parse_timeout":  # over its budget: never retried
            head = worker.jobs.popleft()
            self._count("parse_timeout")
            if not head.future.done():
                head.future.set_exception(ParseBudgetExceeded(
                    "parse_timeout", f"the parse ran longer than {head.seconds or self.seconds:.0f} s"))
        elif worker.jobs and worker.killed_for is None:  # the first job was being parsed; the others waited
            worker.jobs[0].attempts += 1
        for job in reversed(worker.jobs):
            if job.attempts >= 2:
                if not job.future.done():
                    job.future.set_exception(WorkerDied("the parser worker died on this document"))
            else:
                self.waiting.appendleft(job)
        worker.process.join(0.5)  # reap it
        if self.closed:
            return
        if worker.killed_for is None:
            logger.warning("parser worker %s died (exit code %s); starting another", worker.process.pid,
                           worker.process.exitcode)
        self.workers.append(self._spawn())

    def _drop(self, worker: _Worker) -> None:
        if worker.registered and self.loop is not None:
            self.loop.remove_reader(worker.conn.fileno())
            worker.registered = False
        try:
            worker.conn.close()
        except OSError:
            pass

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers (jobs still waiting are cancelled)."""
        self.closed = True
        for job in self.waiting:
            job.future.cancel()
        self.waiting.clear()
        for worker in self.workers:
            if worker.timer is not None:
                worker.timer.cancel()
            for job in worker.jobs:
                job.future.cancel()
            try:
                worker.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self._drop(worker)
        for worker in self.workers:
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
        self.workers = []
