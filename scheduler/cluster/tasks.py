"""What a worker does with a job: run it in a child process, as the daemon runs a crawl.

A crawl job runs :class:`~newsarchive.scheduler.supervisor.CrawlChild`, the
daemon's own supervisor: the same time limit, graceful stop and per-source
lock. An import job runs ``python -m newsarchive import ...`` under the same
limit and stop. The worker re-reads its config file for every job, so a
source added to a shared config is crawled without restarting workers.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery, Task
from sqlalchemy import Engine

from newsarchive.config import Config, ConfigError, load_config
from newsarchive.scheduler.daemon import log_outcome, log_started
from newsarchive.scheduler.supervisor import CrawlChild, SupervisedProcess, describe_exit

from .app import CRAWL_TASK, IMPORT_TASK

logger = logging.getLogger("newsarchive.worker")

# A job delivered again after its worker died may find that worker's crawl
# still finishing (it stops within ORPHAN_GRACE_SECONDS of losing its parent)
# and holding the source's lock: it is retried until that crawl is gone.
BUSY_RETRY_SECONDS = 5
BUSY_RETRIES = 12


class WorkerRuntime:
    """The worker's state shared by its job threads: who it is and what is running."""

    def __init__(
        self, config_path: Path, engine: Engine, *, name: str, log_format: str, log_level: str
    ) -> None:
        self.config_path = config_path
        self.engine = engine
        self.name = name
        self.log_format = log_format
        self.log_level = log_level
        self._lock = threading.Lock()
        self._running: set[SupervisedProcess] = set()
        self._stopping = False

    def stop_all(self) -> None:
        """Worker shutdown: ask every running job to finish now (crawls record ``interrupted``)."""
        with self._lock:
            self._stopping = True
            running = list(self._running)
        for process in running:
            process.stop("shutdown")

    def _supervise(self, process: SupervisedProcess, start: Callable[[], object]) -> bool:
        """Start ``process`` unless the worker is stopping; False if it did not start."""
        with self._lock:
            if self._stopping:
                return False
            start()
            self._running.add(process)
        return True

    def _done(self, process: SupervisedProcess) -> None:
        with self._lock:
            self._running.discard(process)

    def _config(self) -> Config:
        return load_config(self.config_path)

    # ------------------------------------------------------------------ crawl

    def crawl(self, task: Task, source_name: str) -> dict[str, Any]:
        try:
            config = self._config()
            source = config.select_sources([source_name])[0]
        except ConfigError as exc:
            # Retrying cannot fix the config: the job is done, the reason logged.
            logger.error("[%s] crawl job refused: %s", source_name, exc)
            return {"source": source_name, "error": str(exc)}
        child = CrawlChild(
            config,
            source,
            log_format=self.log_format,
            log_level=self.log_level,
            on_run_started=functools.partial(log_started, logger),
            worker=self.name,
        )
        if not self._supervise(child, child.start):
            task.retry(countdown=1)  # the worker is stopping: back on the queue, for another
        try:
            outcome = child.wait(self.engine)
        finally:
            self._done(child)
        if outcome.busy:
            delivered_again = task.request.delivery_info.get("redelivered") or task.request.retries
            if delivered_again and task.request.retries < BUSY_RETRIES:
                logger.info(
                    "[%s] source locked (a dead worker's crawl still stopping?): retry in %ds",
                    source_name,
                    BUSY_RETRY_SECONDS,
                )
                task.retry(countdown=BUSY_RETRY_SECONDS, max_retries=BUSY_RETRIES)
        log_outcome(logger, self.engine, outcome)
        return {
            "source": source_name,
            "run_ids": outcome.run_ids,
            "returncode": outcome.returncode,
        }

    # ------------------------------------------------------------------ import

    def run_import(self, task: Task, location: str, import_args: list[str]) -> dict[str, Any]:
        try:
            config = self._config()
        except ConfigError as exc:
            logger.error("import job for %s refused: %s", location, exc)
            return {"location": location, "error": str(exc)}
        process = SupervisedProcess(
            f"import {location}",
            time_limit=config.daemon.crawl_time_limit,
            grace=config.daemon.shutdown_grace,
        )
        argv = [
            sys.executable,
            "-m",
            "newsarchive",
            "--log-level",
            self.log_level,
            "--config",
            str(self.config_path),
            "import",
            location,
            *import_args,
        ]
        if not self._supervise(process, lambda: process.spawn(argv, read_stdout=False)):
            task.retry(countdown=1)
        try:
            returncode, duration = process.wait_limited()
        finally:
            process.close_stdin()
            self._done(process)
        log = logger.info if returncode == 0 else logger.error
        log(
            "import of %s %s after %.1fs%s",
            location,
            describe_exit(returncode),
            duration,
            f" ({process.stopped_for})" if process.stopped_for else "",
        )
        return {"location": location, "returncode": returncode}


def register_tasks(app: Celery, runtime: WorkerRuntime) -> None:
    """The worker's two tasks, bound to ``runtime``."""

    @app.task(name=CRAWL_TASK, bind=True)
    def crawl(task: Task, source: str) -> dict[str, Any]:
        return runtime.crawl(task, source)

    @app.task(name=IMPORT_TASK, bind=True)
    def run_import(task: Task, location: str, import_args: list[str]) -> dict[str, Any]:
        return runtime.run_import(task, location, import_args)
