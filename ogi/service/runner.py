"""Runs: one at a time per archive, each crawl in a subprocess with a hard time limit, recorded in the archive.

A run: take the run lock, create a run row in the archive (`start_run`), execute the crawl command with
`--run-id`, enforce the hard time limit (SIGTERM, then SIGKILL), classify the outcome
(ok / failed / empty / suspect, ogi/service/alerts.py), `finish_run` with the counts, deliver alerts.
A stop (the service's SIGTERM) asks the crawl to stop cleanly; the run is recorded `interrupted` and
resumed later under the same run id, its counts so far carried into the totals.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.liveness import parse_owner_tag
from crawler.modes import CRAWL_MODES
from ogi.service import alerts as alert_rules
from ogi.service.alerts import Alert
from ogi.service.common import (
    POLL_SECONDS,
    LockedError,
    SchedulerError,
    iso,
    jobs_path,
    parse_time,
    run_lock_path,
    run_log_path,
    utcnow,
)
from ogi.service.config import ScheduleConfig
from ogi.service.history import (
    all_source_histories,
    close_quietly,
    json_dict,
    open_history,
    source_history,
    source_result,
)
from ogi.service.locks import FileLock
from ogi.service.procs import alive, end_group, group_alive, group_leader, proc_start
from ogi.service.state import StateStore
from ogi.service.totals import carry_snapshot, run_totals

if TYPE_CHECKING:  # the archive (sqlite-utils) loads when a command opens one, not at `ogi` start-up
    from archive import Archive

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the project root: the crawl subprocess imports from it
MAX_ATTEMPTS = 3


def default_crawl_command() -> list[str]:
    """This Python's `ogi crawl` (works without the console script being on PATH)."""
    return [sys.executable, "-c", "import sys; from ogi.cli import main; sys.argv[0] = 'ogi'; main()",
            "crawl", "--db", "{db}", "--run-id", "{run_id}", "--trigger", "{trigger}"]


@dataclass
class RunRequest:
    """What to run: the job it belongs to, its mode, and the sources (empty = all)."""

    job_id: str
    mode: str = "full"
    sources: tuple[str, ...] = ()
    trigger: str = ""

    def __post_init__(self) -> None:
        if not self.trigger:
            self.trigger = f"schedule:{self.job_id}"


@dataclass
class RunOutcome:
    """How a run ended."""

    run_id: int
    status: str
    detail: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    counts: dict[str, Any] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    seconds: float = 0.0


def live_claim(run_row: dict[str, Any]) -> int | None:
    """Given the archive's run row, return the pid of a live process on this host whose owner tag claims the run
    (the crawl's `claim_run`), or None."""
    owner = parse_owner_tag(str(run_row.get("detail") or ""))
    if owner is None or owner[2] != socket.gethostname() or owner[0] == os.getpid():
        return None
    running = str(run_row.get("status")) == "running" and alive(owner[0], owner[1])
    return owner[0] if running else None


class Runner:
    """Executes runs: one at a time per archive, each crawl in a subprocess with a hard time limit."""

    def __init__(self, db: str | os.PathLike[str], config: ScheduleConfig, *,
                 stop: threading.Event | None = None) -> None:
        self.db = os.fspath(db)
        self.config = config
        self.stop = stop or threading.Event()
        self.state = StateStore(jobs_path(self.db))
        self.run_lock = FileLock(run_lock_path(self.db), "the run lock")
        self._stop_sent_at: datetime | None = None

    # -- command line

    def command(self, request: RunRequest, run_id: int) -> list[str]:
        template = list(self.config.crawl_command or default_crawl_command())
        values = {"python": sys.executable, "db": self.db, "run_id": str(run_id), "trigger": request.trigger,
                  "mode": request.mode}
        argv = [part.format(**values) for part in template]
        extra = list(self.config.modes.get(request.mode, ()))
        if (self.config.crawl_command is None and request.mode in CRAWL_MODES
                and not any(a == "--mode" or a.startswith("--mode=") for a in extra)):
            extra = ["--mode", request.mode, *extra]  # a config written before `ogi crawl --mode` existed
        argv += extra
        for source in request.sources:
            argv += ["--source", source]
        return argv

    # -- public

    def run(self, request: RunRequest, *, wait_for_lock: bool = True, resume_run_id: int | None = None) -> RunOutcome:
        """Run one crawl through the full path; never raises for a crawl that goes wrong."""
        try:
            self.run_lock.acquire(blocking=wait_for_lock, stop=self.stop)
        except LockedError as e:
            raise SchedulerError(f"Another run is in progress: {e}") from e
        try:
            return self._run_locked(request, resume_run_id=resume_run_id)
        except Exception as e:  # an archive or state error: a failed run, never a traceback for the user
            logger.exception("Run of %s failed unexpectedly", request.job_id)
            return RunOutcome(run_id=resume_run_id or 0, status="failed", detail=f"scheduler error: {e}")
        finally:
            self.run_lock.release()

    def resume_pending(self) -> list[RunOutcome]:
        """Resume every run a stop or crash left unfinished, under its own run id."""
        outcomes: list[RunOutcome] = []
        self.end_orphans()  # before the lock: an orphan crawl still holds the run lock it inherited
        try:
            self.run_lock.acquire(blocking=True, stop=self.stop)
        except LockedError:
            return outcomes
        try:
            for row in self.state.pending():
                if self.stop.is_set():
                    break
                request = RunRequest(job_id=row["job_id"], mode=row["mode"],
                                     sources=tuple(json.loads(row["sources"])), trigger=row["trigger"])
                if row["state"] == "running":  # its runner died (the run lock is ours): close that attempt first
                    try:
                        adopted = self._close_dead_attempt(request, row)
                    except SchedulerError as e:
                        logger.error("Run %d: %s", row["run_id"], e)
                        adopted = None
                    if adopted is not None:
                        outcomes.append(adopted)
                        continue
                    row = self.state.get(row["run_id"]) or row
                if row["attempts"] >= MAX_ATTEMPTS:
                    logger.error("Run %d was interrupted %d times; giving up on it", row["run_id"], row["attempts"])
                    outcomes.append(self._give_up(row))
                    continue
                logger.info("Resuming run %d (%s, attempt %d)", row["run_id"], row["job_id"], row["attempts"] + 1)
                outcomes.append(self._run_locked(request, resume_run_id=row["run_id"]))
        finally:
            self.run_lock.release()
        return outcomes

    def end_orphans(self) -> list[int]:
        """End every crawl that outlived the process that started it (a kill -9 of the service or of `ogi run-now`),
        so a resume cannot run beside it; return the process groups ended."""
        ended: list[int] = []
        for row in self.state.pending():
            pid, run_id = row.get("pid"), int(row["run_id"])
            if not pid:
                continue
            runner = row.get("runner_pid")
            if runner and runner != os.getpid() and alive(runner, row.get("runner_start")):
                continue  # its runner lives (an `ogi run-now` in progress): not an orphan
            if row.get("pid_start") is not None:
                leader_ours = alive(pid, row["pid_start"])
            else:  # a state row from before pid_start: a live pid counts only as the leader of its own group
                leader_ours = alive(pid) and group_leader(pid)
            if not (leader_ours or (not alive(pid) and group_alive(pid))):
                continue  # gone (or the pid now belongs to another process)
            logger.warning("Run %d: its crawl (pid %d) outlived the process that started it (pid %s); ending it "
                           "before the run resumes", run_id, pid, runner or "?")
            if end_group(pid, grace=self.config.stop_grace_seconds):
                ended.append(pid)
            else:
                logger.error("Run %d: the orphan crawl (process group %d) could not be ended", run_id, pid)
        return ended

    # -- internals

    def _close_dead_attempt(self, request: RunRequest, row: dict[str, Any]) -> RunOutcome | None:
        """Given a run whose runner died, record how its last attempt ended: adopt the result when the crawl had
        finished the run (returned), else record it interrupted and carry its counts (None: resume it)."""
        run_id = int(row["run_id"])
        arc = open_history(self.db)
        try:
            crawl_row = arc.run(run_id) or {}
            self._stop_sent_at = None
            if str(crawl_row.get("status") or "") in alert_rules.SEVERITY:
                logger.info("Run %d: its crawl finished (%s) after the process that started it died; adopting the "
                            "result", run_id, crawl_row.get("status"))
                return self._finish(arc, request, run_id, None, False, False)
            logger.info("Run %d: its last attempt ended with the process that started it; recording it interrupted",
                        run_id)
            self._finish(arc, request, run_id, None, False, True,
                         detail="the process running it died; resumes on the next start")
            return None
        finally:
            close_quietly(arc)

    def _give_up(self, row: dict[str, Any]) -> RunOutcome:
        run_id = int(row["run_id"])
        detail = f"interrupted {row['attempts']} times; not resumed again"
        self.state.run_finished(run_id, state="done", status="failed", exit_code=None, detail=detail)
        outcome = RunOutcome(run_id=run_id, status="failed", detail=detail)
        with contextlib.suppress(SchedulerError):
            arc = open_history(self.db)
            try:
                arc.finish_run(run_id, status="failed", counts={}, detail=detail)
            finally:
                close_quietly(arc)
        self._alert(outcome.alerts, Alert("failed", f"run {run_id} failed: {detail}", run_id=run_id,
                                          severity="error"))
        return outcome

    def _run_locked(self, request: RunRequest, *, resume_run_id: int | None) -> RunOutcome:
        started = time.monotonic()
        try:
            arc = open_history(self.db)
        except SchedulerError as e:
            logger.error("Run of %s not started: %s", request.job_id, e)
            outcome = RunOutcome(run_id=resume_run_id or 0, status="failed", detail=str(e))
            self._alert(outcome.alerts, Alert("failed", f"run of {request.job_id} could not start: {e}",
                                              run_id=resume_run_id, severity="error"))
            return outcome
        try:
            if resume_run_id is None:
                run_id = int(arc.start_run(kind="crawl", trigger=request.trigger,
                                           sources=list(request.sources) or None))
            else:
                run_id = resume_run_id
                holder = live_claim(arc.run(run_id) or {})
                if holder is not None:  # a crawl of this run that the service did not start: never beside it
                    detail = f"a crawl (process {holder}) holds the run; not resumed beside it"
                    logger.error("Run %d: %s; it stays pending", run_id, detail)
                    return RunOutcome(run_id, "interrupted", detail, None, interrupted=True)
                arc.claim_run(run_id, f"resumed by the scheduler (process {os.getpid()})")
            self.state.run_started(run_id, job_id=request.job_id, mode=request.mode, sources=request.sources,
                                   trigger=request.trigger, runner_pid=os.getpid(),
                                   runner_start=proc_start(os.getpid()))
            logger.info("Run %d started (%s, mode %s, sources %s)", run_id, request.trigger, request.mode,
                        ", ".join(request.sources) or "all")
            exit_code, timed_out, interrupted = self._execute(request, run_id)
            outcome = self._finish(arc, request, run_id, exit_code, timed_out, interrupted)
        finally:
            close_quietly(arc)
        outcome.seconds = round(time.monotonic() - started, 3)
        logger.info("Run %d ended: %s in %.1fs %s", run_id, outcome.status, outcome.seconds, outcome.detail)
        return outcome

    def _execute(self, request: RunRequest, run_id: int) -> tuple[int | None, bool, bool]:
        """Run the crawl subprocess; return (exit code, timed out, interrupted by a stop)."""
        argv = self.command(request, run_id)
        self._stop_sent_at = None
        log_path = run_log_path(self.db, run_id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        env.setdefault("PYTHONUNBUFFERED", "1")
        deadline = time.monotonic() + self.config.run_timeout_minutes * 60
        with open(log_path, "ab") as log:
            log.write(f"--- {iso(utcnow())} run {run_id}: {' '.join(argv)}\n".encode())
            log.flush()
            try:
                # its own process group (its pid), and the run lock inherited: a crawl that outlives this
                # process keeps the lock, so no other run starts beside it
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, start_new_session=True, pass_fds=self.run_lock.inheritable())
            except OSError as e:
                log.write(f"cannot start the crawl: {e}\n".encode())
                logger.error("Run %d: cannot start %s: %s", run_id, argv[0], e)
                return 127, False, False
            self.state.run_pid(run_id, proc.pid, proc_start(proc.pid))
            timed_out = interrupted = False
            code: int | None
            while True:
                try:
                    code = proc.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if self.stop.is_set():
                    self._stop_sent_at = utcnow()
                    logger.warning("Run %d: stopping the crawl (pid %d) so it can resume later", run_id, proc.pid)
                    interrupted = True
                    code = self._terminate(proc)
                    break
                if time.monotonic() > deadline:
                    logger.error("Run %d: the crawl exceeded %g minutes; stopping it", run_id,
                                 self.config.run_timeout_minutes)
                    timed_out = True
                    code = self._terminate(proc)
                    break
            log.write(f"--- {iso(utcnow())} exit {code}{' (timeout)' if timed_out else ''}"
                      f"{' (stopped)' if interrupted else ''}\n".encode())
        return code, timed_out, interrupted

    def _terminate(self, proc: subprocess.Popen[bytes]) -> int | None:
        """SIGTERM the crawl's process group (Scrapy stops cleanly), SIGKILL after the grace period."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            return proc.wait(timeout=self.config.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            logger.warning("The crawl (pid %d) did not stop in %gs; killing it", proc.pid,
                           self.config.stop_grace_seconds)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait()

    def _finish(self, arc: Archive, request: RunRequest, run_id: int, exit_code: int | None,
                timed_out: bool, interrupted: bool, *,
                detail: str = "stopped by the service; resumes on the next start") -> RunOutcome:
        """Given an attempt that ended, record the run's counts and status (interrupted: carry them), deliver
        alerts, and return the outcome."""
        rows = arc.source_results(run_id)
        results = [source_result(r) for r in rows]
        crawl_row = arc.run(run_id) or {}
        counts = run_totals(rows, results, failures_by_reason=arc.failure_counts(run_id),
                            crawl_counts=json_dict(crawl_row.get("counts")), carried=self.state.carried(run_id),
                            exit_code=exit_code, job=request.job_id, mode=request.mode)
        crawl_status, crawl_detail = str(crawl_row.get("status") or ""), str(crawl_row.get("detail") or "")
        finished_at = parse_time(crawl_row.get("finished_at"))
        if (interrupted and crawl_status in alert_rules.SEVERITY and finished_at is not None
                and self._stop_sent_at is not None and finished_at <= self._stop_sent_at):
            # the crawl had recorded its end before it was asked to stop: the work is complete
            logger.info("Run %d had finished its work (%s) before the stop", run_id, crawl_status)
            interrupted, exit_code = False, 0
        if interrupted:
            arc.finish_run(run_id, status="interrupted", counts=counts, detail=detail)
            self.state.carry(run_id, carry_snapshot(counts, rows))
            self.state.run_finished(run_id, state="interrupted", status="interrupted", exit_code=exit_code,
                                    detail=detail)
            return RunOutcome(run_id, "interrupted", detail, exit_code, interrupted=True, counts=counts)
        past = {r.source: source_history(arc, r.source, limit=self.config.alerts.median_window * 2,
                                         before_run=run_id) for r in results}
        status, detail = alert_rules.classify_run(exit_code=exit_code, timed_out=timed_out, results=results,
                                                  history=past, config=self.config.alerts)
        if crawl_status == "interrupted" and status != "failed":
            status, detail = "failed", f"the crawl stopped early ({crawl_detail or 'interrupted'})"
        elif crawl_status in alert_rules.SEVERITY and alert_rules.worst(status, crawl_status) != status:
            status, detail = crawl_status, crawl_detail or f"the crawl judged the run {crawl_status}"
        if not detail and crawl_detail:
            detail = crawl_detail
        arc.finish_run(run_id, status=status, counts=counts, detail=detail)
        self.state.run_finished(run_id, state="done", status=status, exit_code=exit_code, detail=detail)
        outcome = RunOutcome(run_id, status, detail, exit_code, timed_out=timed_out, counts=counts)
        for alert in alert_rules.run_alerts(run_id=run_id, status=status, detail=detail, results=results,
                                            history=past, config=self.config.alerts):
            self._alert(outcome.alerts, alert)
        return outcome

    def _alert(self, sink: list[Alert], alert: Alert) -> None:
        sink.append(alert)
        if self.state.alert_seen(alert.key):
            logger.info("Alert %s already delivered", alert.key)
            return
        channels = alert_rules.deliver(alert, self.config.alerts)
        self.state.alert_sent(alert, channels)

    def check_stale(self, *, now: datetime | None = None) -> list[Alert]:
        """The `stale` rule over every known source; deliver new alerts."""
        now = now or utcnow()
        interval = schedule_interval(self.config, now)
        try:
            arc = open_history(self.db)
        except SchedulerError as e:
            logger.error("Health check: %s", e)
            return []
        try:
            per_source = all_source_histories(arc, limit=self.config.alerts.median_window * 2)
        finally:
            close_quietly(arc)
        out: list[Alert] = []
        for alert in alert_rules.stale_sources(per_source, now=now, interval=interval, config=self.config.alerts):
            self._alert(out, alert)
        return out


def schedule_interval(config: ScheduleConfig, now: datetime) -> timedelta:
    """The current spacing of runs: the gap between the two latest scheduled fire times before `now`."""
    tz = config.tz
    start = now.astimezone(tz) - timedelta(days=400)
    times = sorted({t for job in config.jobs for t in job.fire_times(tz, start, now.astimezone(tz))})
    if len(times) < 2:
        return timedelta(days=31)
    return times[-1] - times[-2]
