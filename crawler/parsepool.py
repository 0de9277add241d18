"""Parse worker processes fed through pipes that the crawl's event loop reads directly.

``concurrent.futures.ProcessPoolExecutor`` keeps a feeder thread and a manager thread in the crawl process;
every ``submit`` wakes them, and the reactor then waits for the GIL behind them (profiled at ~1.5 ms per
document, more than the parse itself). Here the crawl process has no helper thread: each worker has one
duplex pipe, at most :data:`IN_FLIGHT` jobs are queued on it (so a send never blocks on a full pipe), and
results are read by ``loop.add_reader`` callbacks.

Workers ignore SIGINT/SIGTERM (the scheduler signals the whole process group; the crawl process decides
when parsing stops) and exit when their pipe closes or the crawl process is gone (``kill -9``). A worker that
dies mid-job is replaced and its jobs are retried once; a document that kills two workers fails with
:class:`WorkerDied`.
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


def parse_to_json(body: bytes, url: str, final_url: str | None, content_type: str | None,
                  title: str | None) -> dict[str, Any]:
    """``parse_document(...).to_json()``; what a worker runs (this module imports neither Scrapy nor the
    archive, so a worker starts in a fraction of the time and memory)."""
    from crawler.parsers import parse_document

    return parse_document(body, source=url, url=final_url or url, content_type=content_type,
                          title_hint=title).to_json()


class WorkerDied(RuntimeError):
    """The worker process parsing a document died (twice)."""


@dataclass
class _Job:
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    attempts: int = 0


@dataclass
class _Worker:
    process: Any
    conn: Any
    jobs: deque[_Job] = field(default_factory=deque)
    registered: bool = False


def _worker_main(conn: Any, parent_pid: int, func: Callable[..., Any]) -> None:
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
    while True:
        try:
            args = conn.recv()
        except (EOFError, OSError):
            return
        if args is None:
            return
        try:
            result: tuple[bool, Any] = (True, func(*args))
        except Exception as exc:  # reported to the crawl, which records it as a parse error
            result = (False, f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


class ParsePool:
    """``await pool.run(*args)`` runs ``func(*args)`` in one of ``size`` worker processes."""

    def __init__(self, size: int, func: Callable[..., Any]) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.func = func
        self.waiting: deque[_Job] = deque()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        self.workers = [self._spawn() for _ in range(max(1, size))]

    def _spawn(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(target=_worker_main, args=(child, os.getpid(), self.func), daemon=True,
                                   name="ogi-parse")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        if self.loop is not None:
            self._register(worker)
        return worker

    def _register(self, worker: _Worker) -> None:
        assert self.loop is not None
        self.loop.add_reader(worker.conn.fileno(), self._readable, worker)
        worker.registered = True

    async def run(self, *args: Any) -> Any:
        if self.closed:
            raise RuntimeError("parse pool is closed")
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            for worker in self.workers:
                self._register(worker)
        job = _Job(args, self.loop.create_future())
        self.waiting.append(job)
        self._dispatch()
        return await job.future

    def _dispatch(self) -> None:
        while self.waiting:
            worker = min(self.workers, key=lambda w: len(w.jobs))
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
            if not job.future.done():
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(RuntimeError(value))
        self._dispatch()

    def _replace(self, worker: _Worker) -> None:
        """A worker died: retry its jobs once on a new worker."""
        if worker not in self.workers:
            return
        self._drop(worker)
        self.workers.remove(worker)
        if worker.jobs:  # the first job was being parsed; the others only waited in the pipe
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
