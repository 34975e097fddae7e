"""``newsarchive daemon`` with ``[cluster]``: the daemon's schedule, but crawls go to the queue.

Everything the daemon decides stays the same (schedules, catch-up after
downtime, failure backoff, SIGHUP reload, all read from ``crawl_runs``); only
the crawl itself becomes a job for a worker. One dispatcher is active per
database (:mod:`.leader`); another waits as a standby and takes over when the
lock frees.

A broker that cannot be reached does not stop the schedule: the crawl is kept
due and sent again with backoff (1 s doubling to a minute) until the broker
answers. A dispatcher stopped meanwhile loses nothing either: on start the
daemon's catch-up finds those sources overdue in ``crawl_runs``.

A job expires at its source's next scheduled time: when workers fall behind,
a source waits in the queue once, not once per missed tick.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from newsarchive.config import Config, ConfigError, load_config
from newsarchive.logformat import LogFormat
from newsarchive.scheduler.daemon import Daemon
from newsarchive.storage import ensure_schema

from .app import CRAWL_TASK, broker_label, cluster_app
from .jobs import BrokerUnavailable, send
from .leader import POLL_SECONDS, DispatcherLock

logger = logging.getLogger("newsarchive.dispatcher")

RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Dispatcher(Daemon):
    """The daemon, sending each due crawl to the cluster's queue instead of a child process."""

    def __init__(self, config: Config, *, log_format: LogFormat, log_level: str = "INFO") -> None:
        super().__init__(config, log_format=log_format, log_level=log_level)
        self.app = cluster_app(config)
        self._leader = DispatcherLock(config.database_url)
        self._missed: dict[str, None] = {}
        """Sources due whose job the broker did not take (an ordered set)."""
        self._missed_changed = threading.Event()
        self._stopped = threading.Event()
        self._lost_lock = False

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        ensure_schema(self.engine)
        try:
            if not self._stand_by():
                logger.info("standby dispatcher stopped", extra={"event": "daemon_stopped"})
                return 0
            threads = [
                threading.Thread(target=self._watch_lock, name="dispatcher-lock", daemon=True),
                threading.Thread(target=self._resend_missed, name="broker-retry", daemon=True),
            ]
            for thread in threads:
                thread.start()
            code = super().run()
            if self._lost_lock:
                # Another dispatcher may be active by now: never run two.
                logger.error("dispatcher lock lost: exiting so a restart stands by")
                return 1
            return code
        finally:
            self._stopped.set()
            self._leader.release()

    def _stand_by(self) -> bool:
        """Wait until this dispatcher holds the lock; False if told to stop first."""
        signals: list[int] = []
        previous = {
            sig: signal.signal(sig, lambda signum, _frame: signals.append(signum))
            for sig in (*STOP_SIGNALS, signal.SIGHUP)
        }
        try:
            announced = False
            while not self._leader.try_acquire():
                if not announced:
                    logger.info(
                        "another dispatcher is active on this database: standing by",
                        extra={"event": "standby"},
                    )
                    announced = True
                deadline = time.monotonic() + POLL_SECONDS
                while time.monotonic() < deadline:
                    if any(s in STOP_SIGNALS for s in signals):
                        return False
                    if signal.SIGHUP in signals:
                        signals.remove(signal.SIGHUP)
                        self._reload_standby()
                    time.sleep(0.1)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info(
            "dispatcher active: sending crawls to queue %s on %s",
            self.app.conf.task_default_queue,
            broker_label(self.app),
            extra={"event": "dispatcher_active", "queue": self.app.conf.task_default_queue},
        )
        return True

    def _reload_standby(self) -> None:
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            new, problem = None, str(exc)
        else:
            problem = self._reload_problem(new)
        if new is None or problem:
            logger.error("SIGHUP: config refused, keeping the running one: %s", problem)
            return
        self.config = new
        logger.info("SIGHUP: config reloaded (standby)", extra={"event": "reloaded"})

    def _reload_problem(self, new: Config) -> str | None:
        if new.cluster != self.config.cluster:
            return "[cluster] changed (restart the daemon to apply it)"
        return super()._reload_problem(new)

    def _watch_lock(self) -> None:
        while not self._stopped.wait(POLL_SECONDS):
            if not self._leader.held():
                self._lost_lock = True
                self._signals.append(signal.SIGTERM)  # the daemon's loop stops as on SIGTERM
                return

    def _shutdown(self) -> None:
        super()._shutdown()
        self._stopped.set()
        with self._lock:
            missed = list(self._missed)
        if missed:
            logger.warning(
                "stopping with %d crawl(s) the broker never took (%s): due at the next start",
                len(missed),
                ", ".join(missed),
            )

    # ------------------------------------------------------------------ one crawl

    def _crawl(self, name: str) -> None:
        with self._lock:
            if self._stopping or not any(s.name == name for s in self.config.sources):
                return
        # Before sending, not after the crawl as the daemon does: here the crawl's
        # outcome is only known from crawl_runs by the next time the source is due.
        due = self._back_off_if_failing(name)
        if due is not None and due > datetime.now(UTC) + timedelta(seconds=1):
            return
        self._send(name)

    def _send(self, name: str) -> bool:
        """Put one crawl of ``name`` on the queue; on failure keep it due. Whether it went."""
        job = self.scheduler.get_job(name)
        expires = job.next_run_time if job is not None else None
        try:
            job_id = send(self.app, CRAWL_TASK, [name], expires=expires)
        except BrokerUnavailable as exc:
            with self._lock:
                self._missed[name] = None
                waiting = len(self._missed)
            self._missed_changed.set()
            logger.error(
                "[%s] crawl not sent (%s): kept due, %d crawl(s) waiting for the broker",
                name,
                exc,
                waiting,
                extra={"event": "broker_unavailable", "source": name},
            )
            return False
        with self._lock:
            self._missed.pop(name, None)
        logger.info(
            "[%s] crawl sent to the queue (job %s)",
            name,
            job_id,
            extra={"event": "crawl_sent", "source": name, "job_id": job_id},
        )
        return True

    def _resend_missed(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while not self._stopped.is_set():
            with self._lock:
                missed = list(self._missed)
            if not missed:
                delay = RETRY_FIRST_SECONDS
                self._missed_changed.wait(1.0)
                self._missed_changed.clear()
                continue
            if self._stopped.wait(delay):
                return
            with self._lock:
                if self._stopping:
                    return
            try:
                sent_all = all(self._send(name) for name in missed)  # stops at a failure
            except Exception:
                # This thread is the only way back for missed crawls: it must not die.
                logger.exception("resending missed crawls failed; trying again")
                sent_all = False
            delay = RETRY_FIRST_SECONDS if sent_all else min(delay * 2, RETRY_MAX_SECONDS)
