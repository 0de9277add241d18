"""The yearly refresh service: APScheduler 3.x jobs that run `ogi crawl` in a subprocess.

Run it with `python scheduler.py [--db PATH] [--config PATH]` or `ogi schedule`. This module holds the
service (build / reconcile / start / shutdown / serve_forever), the functions the stored jobs name
(`scheduler:run_scheduled`, `scheduler:run_resume`, `scheduler:run_health_check`: persisted in the job
store, so they stay here under these names), the `schedule` click command and main(). The parts live in
ogi/service/: locks.py, jobstore.py (the job store, `<db>.jobs.sqlite`), state.py (the service's runs and
alerts), runner.py (one run: subprocess, lock, time limit, history, alerts), status.py, config.py, alerts.py.

SIGTERM (or Ctrl-C) stops the service: a running crawl gets SIGTERM so it can stop cleanly, its run is
recorded `interrupted`, and the next start resumes it under the same run id.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from datetime import UTC

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from ogi.service.common import (
    LockedError,
    SchedulerError,
    format_delay,
    iso,
    jobs_path,
    parse_time,
    run_lock_path,
    run_log_path,
    service_lock_path,
    utcnow,
)
from ogi.service.config import ConfigError, JobConfig, ScheduleConfig, load_config
from ogi.service.jobstore import JobInfo, SQLiteJobStore, list_jobs
from ogi.service.locks import FileLock, lock_holder
from ogi.service.runner import Runner, RunOutcome, RunRequest, schedule_interval
from ogi.service.state import StateStore
from ogi.service.status import format_job_list

__all__ = [
    "HEALTH_JOB_ID", "FileLock", "JobInfo", "LockedError", "RunOutcome", "RunRequest", "Runner", "SQLiteJobStore",
    "SchedulerError", "Service", "StateStore", "jobs_path", "list_jobs", "lock_holder", "main", "parse_time",
    "run_health_check", "run_lock_path", "run_log_path", "run_resume", "run_scheduled", "schedule",
    "schedule_interval", "service_lock_path", "utcnow",
]

logger = logging.getLogger(__name__)

HEALTH_JOB_ID = "health-check"
RESUME_PREFIX = "resume-"
DB_ENV = "OGI_DB"
DEFAULT_DB = "ogi.db"


# ---------------------------------------------------------------------------------------------- service

_SERVICE: Service | None = None


def run_scheduled(job_id: str) -> None:
    """The function every persisted job calls (by its textual reference `scheduler:run_scheduled`)."""
    service = _SERVICE
    if service is None:
        logger.error("Job %s fired with no service running; ignored", job_id)
        return
    service.run_job(job_id)


def run_resume() -> None:
    """The resume job's function (`scheduler:run_resume`): resume the runs a stop or crash left unfinished."""
    service = _SERVICE
    if service is not None:
        service.runner.resume_pending()


def run_health_check() -> None:
    """The health job's function (`scheduler:run_health_check`): the stale-source alert rule."""
    service = _SERVICE
    if service is not None:
        service.runner.check_stale()


class Service:
    """The scheduler service for one archive."""

    def __init__(self, db: str | os.PathLike[str], config: ScheduleConfig | None = None) -> None:
        self.db = os.fspath(db)
        self.config = config or load_config()
        self.stop = threading.Event()
        self.runner = Runner(self.db, self.config, stop=self.stop)
        self.lock = FileLock(service_lock_path(self.db), "the scheduler lock")
        self.jobstore = SQLiteJobStore(jobs_path(self.db))
        self.scheduler: BackgroundScheduler | None = None
        self.missed: list[str] = []

    def build_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            jobstores={"memory": MemoryJobStore(), "default": self.jobstore},  # memory first: resumes go first
            executors={"default": ThreadPoolExecutor(1), "checks": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.config.misfire_grace_hours * 3600)},
            timezone=self.config.tz,
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        return scheduler

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self._missed(event)
        elif event.exception is not None:
            logger.error("Job %s raised %r", event.job_id, event.exception)

    def _missed(self, event: JobExecutionEvent) -> None:
        """Given a fire time later than its job's misfire grace, log how late it was and record it."""
        self.missed.append(event.job_id)
        scheduled = event.scheduled_run_time
        late = utcnow() - scheduled.astimezone(UTC)
        try:
            grace: float = self.config.job(event.job_id).misfire_grace_hours * 3600
        except ValueError:  # the health check: the service's default grace
            grace = self.config.misfire_grace_hours * 3600
        logger.warning("Job %s missed its run at %s: %s late, beyond its misfire grace of %s; the next run does "
                       "the work", event.job_id, scheduled, format_delay(late.total_seconds()),
                       format_delay(grace))
        try:
            self.runner.state.missed(event.job_id, scheduled_at=iso(scheduled) or "", late_seconds=late.total_seconds(),
                                     grace_seconds=grace)
        except sqlite3.Error as e:
            logger.error("Could not record the missed run of %s: %s", event.job_id, e)

    def reconcile(self, scheduler: BackgroundScheduler) -> None:
        """Make the stored jobs match the config, keeping next run times (and so missed runs) of unchanged jobs."""
        wanted = {job.id: job for job in self.config.jobs}
        for stored in scheduler.get_jobs(jobstore="default"):
            if stored.id not in wanted and stored.id != HEALTH_JOB_ID:
                logger.info("Removing job %s (no longer configured)", stored.id)
                scheduler.remove_job(stored.id, jobstore="default")
        for job in self.config.jobs:
            self._sync_job(scheduler, job)
        health = CronTrigger(hour=9, minute=0, timezone=self.config.tz)
        existing = scheduler.get_job(HEALTH_JOB_ID, jobstore="default")
        if existing is None or repr(existing.trigger) != repr(health):
            scheduler.add_job("scheduler:run_health_check", health, id=HEALTH_JOB_ID, name="alerts: stale sources",
                              executor="checks", replace_existing=True, jobstore="default")

    def _sync_job(self, scheduler: BackgroundScheduler, job: JobConfig) -> None:
        trigger = job.trigger(self.config.tz)
        grace = int(job.misfire_grace_hours * 3600)
        name = f"{job.mode}: {job.description}" if job.description else job.mode
        stored = scheduler.get_job(job.id, jobstore="default")
        if stored is not None and repr(stored.trigger) == repr(trigger):
            if stored.misfire_grace_time != grace or stored.name != name or tuple(stored.args) != (job.id,):
                scheduler.modify_job(job.id, jobstore="default", misfire_grace_time=grace, name=name,
                                     args=[job.id])
            return
        if stored is not None:
            logger.info("Job %s changed its schedule; next run recomputed", job.id)
        scheduler.add_job("scheduler:run_scheduled", trigger, args=[job.id], id=job.id, name=name,
                          misfire_grace_time=grace, coalesce=True, max_instances=1, replace_existing=True,
                          jobstore="default")

    def start(self) -> BackgroundScheduler:
        """Take the lock, sync the jobs, resume unfinished runs, and start firing (missed runs catch up once)."""
        global _SERVICE
        try:
            self.lock.acquire()
        except LockedError as e:
            raise LockedError(f"Another scheduler is running on {self.db}: {e}") from None
        scheduler = self.build_scheduler()
        try:
            scheduler.start(paused=True)
            self.reconcile(scheduler)
            _SERVICE = self
            if self.runner.state.pending():
                scheduler.add_job("scheduler:run_resume", id=f"{RESUME_PREFIX}pending", jobstore="memory",
                                  replace_existing=True, misfire_grace_time=None)
            scheduler.resume()
        except Exception:
            with contextlib.suppress(Exception):
                scheduler.shutdown(wait=False)
            _SERVICE = None
            self.lock.release()
            raise
        self.scheduler = scheduler
        for job in scheduler.get_jobs(jobstore="default"):
            logger.info("Job %s: next run %s", job.id, job.next_run_time)
        return scheduler

    def run_job(self, job_id: str) -> RunOutcome | None:
        try:
            job = self.config.job(job_id)
        except ValueError as e:
            logger.error("%s", e)
            return None
        if self.stop.is_set():
            return None
        request = RunRequest(job_id=job.id, mode=job.mode, sources=job.sources)
        try:
            return self.runner.run(request, wait_for_lock=True)
        except SchedulerError as e:
            logger.error("Job %s: %s", job_id, e)
            return None

    def shutdown(self) -> None:
        """Stop cleanly: a running crawl is asked to stop (and resumes on the next start)."""
        global _SERVICE
        self.stop.set()
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=True)
            self.scheduler = None
        if _SERVICE is self:
            _SERVICE = None
        self.lock.release()

    def serve_forever(self) -> None:
        """Run in the foreground until SIGTERM / SIGINT."""
        def _stop(signum: int, _frame: object) -> None:
            logger.info("Received %s; stopping", signal.Signals(signum).name)
            self.stop.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            logger.info("Scheduler running on %s (timezone %s); stop with SIGTERM or Ctrl-C", self.db,
                        self.config.timezone)
            while not self.stop.wait(1.0):
                pass
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            logger.info("Scheduler stopped")


# ---------------------------------------------------------------------------------------------- command

db_option = click.option("--db", "db", default=lambda: os.environ.get(DB_ENV, DEFAULT_DB), show_default="ogi.db or $OGI_DB",
                         type=click.Path(dir_okay=False), help="The archive database.")
config_option = click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
                             help="Schedule config file (default: $OGI_SCHEDULE_CONFIG or the bundled schedule.yaml).")


class BadConfig(click.ClickException):
    """A config file that cannot be used: one line naming the setting, exit 2 (bad input)."""

    exit_code = 2


def config_or_fail(path: str | None) -> ScheduleConfig:
    """Given a config path (None: the default), return the config; BadConfig (exit 2) naming the setting if
    invalid."""
    try:
        return load_config(path)
    except ConfigError as e:
        raise BadConfig(str(e)) from None


def service_logging() -> None:
    """The service logs at INFO to stderr even without -v."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("scheduler", "ogi.service", "apscheduler"):
        named = logging.getLogger(name)
        if named.getEffectiveLevel() > logging.INFO:
            named.setLevel(logging.INFO)


@click.command("schedule")
@db_option
@config_option
@click.option("--list", "list_only", is_flag=True, help="Show the jobs and their next run times, then exit.")
def schedule(db: str, config_path: str | None, list_only: bool) -> None:
    """Run the yearly refresh service in the foreground (stop with SIGTERM or Ctrl-C).

    Jobs are kept in <db>.jobs.sqlite; runs missed while the service was down are caught up once
    on start. Only one service may run per archive.

    Example:

        ogi schedule --db ogi.db

        ogi schedule --list
    """
    config = config_or_fail(config_path)
    if list_only:
        click.echo(format_job_list(db, config))
        return
    service_logging()
    service = Service(db, config)
    try:
        service.serve_forever()
    except SchedulerError as e:
        raise click.ClickException(str(e)) from e


def main(argv: Sequence[str] | None = None) -> None:
    """`python scheduler.py [--db PATH] [--config PATH] [--list]`: the same as `ogi schedule`."""
    schedule.main(args=list(argv) if argv is not None else None, prog_name="scheduler.py")


if __name__ == "__main__":
    # `python scheduler.py`: run the importable module `scheduler`, whose globals the stored jobs reach
    # (`scheduler:run_scheduled` imports `scheduler`, not `__main__`)
    import scheduler

    scheduler.main()
