"""Putting jobs on the cluster's queue (dispatcher, ``crawl --enqueue``, import), and its depth."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import Celery
from kombu.exceptions import OperationalError

from newsarchive.config import Config

from .app import CRAWL_TASK, IMPORT_TASK, broker_label, cluster_app

logger = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The broker could not be reached; the message names it (password masked)."""


def send(app: Celery, task: str, args: list[object], *, expires: datetime | None = None) -> str:
    """Publish one job to the app's default queue; its id. BrokerUnavailable if it cannot."""
    try:
        result = app.send_task(task, args=args, expires=expires, retry=False)
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailable(f"broker {broker_label(app)} unreachable: {exc}") from exc
    return str(result.id)


def enqueue_crawl(config: Config, source: str, *, expires: datetime | None = None) -> str:
    """Queue one crawl of ``source`` (a configured source's name); the job id."""
    return send(cluster_app(config), CRAWL_TASK, [source], expires=expires)


def enqueue_import(config: Config, location: str, import_args: list[str]) -> str:
    """Queue ``newsarchive import LOCATION *import_args`` for a worker; the job id.

    The worker runs it in a child process with its own config file, under the
    same time limit and graceful stop as a crawl.
    """
    return send(cluster_app(config), IMPORT_TASK, [location, list(import_args)])


def queue_depth(config: Config) -> int | None:
    """Jobs waiting in the cluster's queue (not those being run); None if the broker is down."""
    app = cluster_app(config)
    queue = app.conf.task_default_queue
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5)
            channel = conn.default_channel
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except conn.channel_errors:
                return 0  # no such queue yet: nothing was ever queued
    except (OperationalError, OSError) as exc:
        logger.warning("queue depth unknown: broker unreachable: %s", exc)
        return None
