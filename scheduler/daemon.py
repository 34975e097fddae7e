"""``newsarchive daemon``: crawl every source on its schedule, for months, without a human.

The scheduler (APScheduler 3, in-memory job store) only decides *when*; each
crawl runs in its own child process (:mod:`.supervisor`, :mod:`.child`). What
has happened is read from ``crawl_runs``, so a restart after downtime crawls
each overdue source once and a killed daemon's stale rows are closed.

Signals: SIGTERM/SIGINT stop scheduling, ask running crawls to finish, kill
them after ``shutdown_grace`` (a second signal kills at once) and exit 0.
SIGHUP re-reads the config; a config that does not validate is refused and the
running one kept.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from newsarchive.config import Config, ConfigError, SourceConfig, load_config
from newsarchive.logformat import LogFormat
from newsarchive.storage import create_archive_engine, ensure_schema
from newsarchive.storage.locks import source_lock
from newsarchive.storage.runs import (
    RunCounters,
    RunStatus,
    consecutive_failures,
    get_run,
    mark_stale_runs_interrupted,
    recent_runs,
    sources_with_running_runs,
)

from .metrics import serve_metrics
from .supervisor import CrawlChild, CrawlOutcome, describe_exit
from .timing import next_due, source_trigger

logger = logging.getLogger("newsarchive.daemon")

# Enough history to see a failure streak and the last completed run.
HISTORY_RUNS = 50
# Source keys whose change needs the job's trigger rebuilt; others apply at the next run.
SCHEDULE_KEYS = ("schedule", "timezone", "jitter")


class Daemon:
    """The foreground scheduler process. ``run()`` blocks until a stop signal and returns 0."""

    def __init__(self, config: Config, *, log_format: LogFormat, log_level: str = "INFO") -> None:
        self.config = config
        self.log_format = log_format
        self.log_level = log_level
        self.engine: Engine = create_archive_engine(config.database_url)
        self._lock = threading.Lock()
        self._children: dict[str, CrawlChild] = {}
        self._stopping = False
        self._signals: list[int] = []
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(config.daemon.max_parallel_crawls)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        ensure_schema(self.engine)
        self._close_stale_runs()
        # Before the first crawl: a port in use stops the start, not a running daemon.
        serve_metrics(self.config, self.engine, current_config=lambda: self.config)
        for source in self.config.sources:
            self._schedule(source)
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        }
        try:
            logger.info(
                "daemon started: %d source(s), up to %d crawl(s) at once, config %s",
                len(self.config.sources),
                self.config.daemon.max_parallel_crawls,
                self.config.path,
                extra={"event": "daemon_started", "sources": len(self.config.sources)},
            )
            self._log_schedule()  # before start: an overdue run is already under way after it
            self.scheduler.start()
            self._serve()
            self._shutdown()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.engine.dispose()
        logger.info("daemon stopped", extra={"event": "daemon_stopped"})
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only record it: logging or locking inside a signal handler can deadlock.
        self._signals.append(signum)

    def _serve(self) -> None:
        while True:
            while not self._signals:
                time.sleep(0.2)
            signum = self._signals.pop(0)
            if signum == signal.SIGHUP:
                self.reload()
            else:
                logger.info("received %s: stopping", signal.Signals(signum).name)
                return

    def _shutdown(self) -> None:
        with self._lock:
            self._stopping = True  # queued runs see this and do not start
            children = list(self._children.values())
        self.scheduler.pause()
        grace = self.config.daemon.shutdown_grace
        if children:
            logger.info(
                "asking %d running crawl(s) to finish (%s); killing them after %ds",
                len(children),
                ", ".join(c.source.name for c in children),
                grace,
            )
        for child in children:
            child.stop("shutdown")
        deadline = time.monotonic() + grace
        while any(c.running() for c in children) and time.monotonic() < deadline:
            if any(s in (signal.SIGTERM, signal.SIGINT) for s in self._signals):
                logger.warning("second stop signal: killing running crawls now")
                break
            time.sleep(0.1)
        for child in children:
            if child.running():
                logger.warning("[%s] crawl did not stop in time: killing it", child.source.name)
                child.kill("shutdown")
        # The job threads close the runs of killed children; wait for them.
        self.scheduler.shutdown(wait=True)

    # ------------------------------------------------------------------ scheduling

    def _close_stale_runs(self) -> None:
        """Close ``running`` rows no live crawl owns (left by a killed daemon or crawl)."""
        for name in sources_with_running_runs(self.engine):
            with source_lock(self.engine, name) as held:
                if not held:  # another process (a cron crawl?) is crawling it right now
                    continue
                ids = mark_stale_runs_interrupted(self.engine, name)
            if ids:
                logger.warning(
                    "[%s] run(s) %s were left running by a killed crawl: marked interrupted",
                    name,
                    ", ".join(map(str, ids)),
                    extra={"event": "stale_runs", "source": name, "run_ids": ids},
                )

    def _schedule(self, source: SourceConfig) -> None:
        runs = recent_runs(self.engine, source=source.name, limit=HISTORY_RUNS)
        due = next_due(source, runs, self.config.daemon, datetime.now(UTC))
        self.scheduler.add_job(
            self._crawl_job,
            trigger=source_trigger(source),
            args=[source.name],
            id=source.name,
            name=f"crawl {source.name}",
            next_run_time=due,
            replace_existing=True,
        )

    def _log_schedule(self) -> None:
        for job in self.scheduler.get_jobs():
            logger.info(
                "[%s] next crawl at %s",
                job.id,
                job.next_run_time.isoformat(timespec="seconds") if job.next_run_time else "never",
                extra={"event": "scheduled", "source": job.id, "next_run": job.next_run_time},
            )

    def _on_skipped(self, event: JobSubmissionEvent) -> None:
        logger.debug("[%s] still crawling: the run due now is skipped", event.job_id)

    def reload(self) -> None:
        """Re-read the config file: add, remove and reschedule sources; refuse a bad file."""
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            logger.error(
                "SIGHUP: config refused, keeping the running one: %s",
                exc,
                extra={"event": "reload_refused"},
            )
            return
        problem = self._reload_problem(new)
        if problem:
            logger.error(
                "SIGHUP: config refused, keeping the running one: %s",
                problem,
                extra={"event": "reload_refused"},
            )
            return
        if new.daemon.max_parallel_crawls != self.config.daemon.max_parallel_crawls:
            logger.warning("SIGHUP: max_parallel_crawls changes take effect at the next restart")
        old = {s.name: s for s in self.config.sources}
        fresh = {s.name: s for s in new.sources}
        with self._lock:
            self.config = new
        for name in old.keys() - fresh.keys():
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(name)
            logger.info("[%s] source removed from the config: no more crawls", name)
        for name in fresh.keys() - old.keys():
            self._schedule(fresh[name])
            logger.info("[%s] source added", name)
        for name in fresh.keys() & old.keys():
            before, after = old[name], fresh[name]
            if any(getattr(before, k) != getattr(after, k) for k in SCHEDULE_KEYS):
                self._schedule(after)
                logger.info("[%s] source rescheduled: %s", name, after.schedule)
            elif before != after:
                logger.info("[%s] source settings changed: used from its next crawl", name)
        logger.info("SIGHUP: config reloaded", extra={"event": "reloaded"})
        self._log_schedule()

    def _reload_problem(self, new: Config) -> str | None:
        """Why ``new`` cannot replace the running config without a restart; None if it can."""
        if new.database_url != self.config.database_url:
            return "the database URL changed (restart the daemon to switch databases)"
        return None

    # ------------------------------------------------------------------ one crawl

    def _crawl_job(self, name: str) -> None:
        """Run one crawl of ``name`` in a child process; never raises (one source, one fate)."""
        try:
            self._crawl(name)
        except Exception:
            logger.exception("[%s] crawl supervision failed", name)

    def _crawl(self, name: str) -> None:
        with self._lock:
            config = self.config
            source = next((s for s in config.sources if s.name == name), None)
            if self._stopping or source is None:
                return
            child = CrawlChild(
                config,
                source,
                log_format=self.log_format,
                log_level=self.log_level,
                on_run_started=self._log_started,
            )
            child.start()
            self._children[name] = child
        try:
            outcome = child.wait(self.engine)
        finally:
            with self._lock:
                self._children.pop(name, None)
        self._log_finished(outcome)
        self._back_off_if_failing(name)

    def _log_started(self, source: str, run_id: int, pid: int) -> None:
        log_started(logger, source, run_id, pid)

    def _log_finished(self, outcome: CrawlOutcome) -> None:
        log_outcome(logger, self.engine, outcome)

    def _back_off_if_failing(self, name: str) -> datetime | None:
        """Push a failing source's next run back; when it is next due, None if not failing."""
        with self._lock:
            source = next((s for s in self.config.sources if s.name == name), None)
            daemon_config = self.config.daemon
            if self._stopping or source is None:
                return None
        runs = recent_runs(self.engine, source=name, limit=HISTORY_RUNS)
        failures = consecutive_failures(runs)
        if failures < daemon_config.failure_backoff_after:
            return None
        due = next_due(source, runs, daemon_config, datetime.now(UTC))
        job = self.scheduler.get_job(name)
        if job is None:
            return None
        if job.next_run_time is None or job.next_run_time < due:
            with contextlib.suppress(JobLookupError):
                self.scheduler.modify_job(name, next_run_time=due)
        logger.warning(
            "[%s] %d failed runs in a row: backing off, next crawl at %s",
            name,
            failures,
            due.isoformat(timespec="seconds"),
            extra={"event": "backoff", "source": name, "failures": failures, "next_run": due},
        )
        return due


def log_started(log: logging.Logger, source: str, run_id: int, pid: int) -> None:
    """The line a crawl's start gets, from the daemon or a worker."""
    log.info(
        "[%s] crawl started (run %d, pid %d)",
        source,
        run_id,
        pid,
        extra={"event": "crawl_started", "source": source, "run_id": run_id, "pid": pid},
    )


def log_outcome(log: logging.Logger, engine: Engine, outcome: CrawlOutcome) -> None:
    """The lines a finished crawl gets (its runs' status and counters), from daemon or worker."""
    name = outcome.source
    if outcome.busy:
        log.info(
            "[%s] crawl skipped: another process is crawling this source",
            name,
            extra={"event": "crawl_skipped", "source": name},
        )
        return
    if not outcome.run_ids:
        log.error(
            "[%s] crawl process %s before it could record a run (see its log above)",
            name,
            describe_exit(outcome.returncode),
            extra={"event": "crawl_failed_to_start", "source": name},
        )
        return
    for run_id in outcome.run_ids:
        run = get_run(engine, run_id)
        if run is None:
            continue
        counters = RunCounters.of(run).as_dict()
        log.log(
            logging.INFO
            if run.status in (RunStatus.OK, RunStatus.INTERRUPTED)
            else logging.WARNING,
            "[%s] crawl %s (run %d) in %.1fs: %s%s",
            name,
            run.status,
            run_id,
            outcome.duration,
            ", ".join(f"{k}={v}" for k, v in counters.items()),
            f"; {run.error}" if run.error else "",
            extra={
                "event": "crawl_finished",
                "source": name,
                "run_id": run_id,
                "status": run.status,
                "duration": round(outcome.duration, 3),
                "error": run.error,
                **counters,
            },
        )


def run_daemon(
    config_path: Path | None, *, log_format: LogFormat | None, log_level: str | None
) -> int:
    """Load the config, set up logging, and run the daemon until it is told to stop."""
    from newsarchive.logformat import configure_logging

    config = load_config(config_path)
    fmt: LogFormat = log_format or config.daemon.log_format
    level = log_level or "INFO"
    configure_logging(fmt, level)
    if level != "DEBUG":
        # Our own lines say what ran and how it went; APScheduler's repeat them.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
    if not config.sources:
        raise ConfigError(f"{config.path}: no [[sources]] defined: nothing to schedule")
    if config.cluster is not None:
        from .cluster import require_cluster_extra

        require_cluster_extra(config)
        from .cluster.dispatcher import Dispatcher

        return Dispatcher(config, log_format=fmt, log_level=level).run()
    return Daemon(config, log_format=fmt, log_level=level).run()
