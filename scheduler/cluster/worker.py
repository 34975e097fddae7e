"""``newsarchive worker``: a Celery worker that runs crawl and import jobs from the queue.

The pool is threads: each job's work already runs in a child process of its
own (the daemon's supervisor), so a thread per job only waits on it. On
SIGTERM (Celery's warm shutdown) every running job is asked to stop, as the
daemon stops its crawls; their runs are recorded ``interrupted`` and the jobs
acknowledged. A worker killed outright leaves its jobs unacknowledged: the
broker delivers them again to another worker, and the orphaned crawl, seeing
its parent gone, stops and records its run ``interrupted``.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any

from celery import signals

from newsarchive.config import ConfigError, load_config
from newsarchive.logformat import LogFormat, configure_logging
from newsarchive.storage import create_archive_engine, ensure_schema

from ..metrics import serve_metrics
from . import require_cluster_extra
from .app import cluster_app
from .heartbeat import Heartbeat
from .tasks import WorkerRuntime, register_tasks

logger = logging.getLogger("newsarchive.worker")


def default_worker_name() -> str:
    return f"newsarchive@{socket.gethostname()}"


def run_worker(
    config_path: Path | None,
    *,
    concurrency: int,
    name: str | None,
    queue: str | None,
    log_format: LogFormat | None,
    log_level: str | None,
) -> int:
    """Run the worker until SIGTERM/SIGINT; 0 after a clean stop."""
    config = load_config(config_path)
    cluster = require_cluster_extra(config)
    if config.path is None or not config.path.is_file():
        raise ConfigError(f"{config.path}: a worker needs a config file (it re-reads it per job)")
    fmt: LogFormat = log_format or config.daemon.log_format
    level = log_level or "INFO"
    configure_logging(fmt, level)
    if level != "DEBUG":
        logging.getLogger("celery").setLevel(logging.WARNING)
    name = name or default_worker_name()
    queue = queue or cluster.queue

    engine = create_archive_engine(config.database_url)
    ensure_schema(engine)
    # Read from the database at each scrape, so any one worker (or the dispatcher) can
    # serve the whole cluster's figures; a port in use stops the start (exit 2).
    serve_metrics(config, engine, current_config=lambda: load_config(config.path))
    runtime = WorkerRuntime(
        config.path.resolve(), engine, name=name, log_format=fmt, log_level=level
    )
    app = cluster_app(config, queue=queue, worker=True)
    register_tasks(app, runtime)

    def stop_jobs() -> None:
        logger.info("worker %s stopping: asking running jobs to finish", name)
        runtime.stop_all()

    def on_shutdown(**_kwargs: Any) -> None:
        # Called inside Celery's signal handler: logging or taking a lock there can
        # deadlock, so the work is done on a thread of its own.
        threading.Thread(target=stop_jobs, name="stop-jobs", daemon=True).start()

    def on_ready(**_kwargs: Any) -> None:
        logger.info(
            "worker %s ready: taking jobs from queue %s, %d at once",
            name,
            queue,
            concurrency,
            extra={"event": "worker_ready", "worker": name, "queue": queue},
        )

    signals.worker_shutting_down.connect(on_shutdown, weak=False)
    signals.worker_ready.connect(on_ready, weak=False)
    heartbeat = Heartbeat(engine, name, queue, cluster.heartbeat_interval)
    heartbeat.start()
    try:
        worker = app.Worker(
            hostname=name,
            queues=[queue],
            concurrency=concurrency,
            pool="threads",
            loglevel=level,
            # Mingle and gossip only talk to other workers; they cost seconds at start.
            without_mingle=True,
            without_gossip=True,
            quiet=True,
        )
        worker.start()
        return int(worker.exitcode or 0)
    finally:
        heartbeat.stop()
        signals.worker_shutting_down.disconnect(on_shutdown)
        signals.worker_ready.disconnect(on_ready)
        engine.dispose()
        logger.info("worker %s stopped", name, extra={"event": "worker_stopped", "worker": name})
