"""The Celery app of a cluster, built from the config's ``[cluster]`` section.

Jobs are acknowledged only once they are done (``task_acks_late``), and a job
whose worker died is put back (``task_reject_on_worker_lost``): a crawl is
lost neither with a worker killed mid-run nor with one stopping. Each worker
takes one job per free slot (``worker_prefetch_multiplier = 1``), so a job
never waits behind a long crawl on a busy worker while another is idle.
There is no result backend: ``crawl_runs`` is where results are kept.
"""

from __future__ import annotations

from celery import Celery

from newsarchive.config import Config

from . import require_cluster_extra

CRAWL_TASK = "newsarchive.crawl"
IMPORT_TASK = "newsarchive.import"
# Seconds to wait for the broker before calling it unreachable.
BROKER_TIMEOUT = 3


def cluster_app(config: Config, *, queue: str | None = None, worker: bool = False) -> Celery:
    """A Celery app for the cluster's broker whose jobs go to ``queue`` (default: the config's).

    Senders (``worker`` False) give up on an unreachable broker after one quick retry:
    the dispatcher has its own backoff, and a command should say so at once.
    """
    cluster = require_cluster_extra(config)
    app = Celery("newsarchive", broker=cluster.broker_url, set_as_current=False)
    options: dict[str, object] = {}
    if cluster.broker_url.startswith("redis"):
        # Redis hands an unacknowledged job to another worker after this long: it
        # must outlast the longest crawl, which is acknowledged only at its end.
        daemon = config.daemon
        options["visibility_timeout"] = 2 * (daemon.crawl_time_limit + daemon.shutdown_grace)
    if not worker:
        options.update(max_retries=1, interval_start=0, interval_step=0.5, interval_max=0.5)
    app.conf.broker_transport_options = options
    app.conf.update(
        task_default_queue=queue or cluster.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_timeout=BROKER_TIMEOUT,
        broker_connection_retry_on_startup=True,
        # Our log format (text or JSON lines) for Celery's lines too.
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        # No remote control or events: nothing listens or broadcasts beyond the jobs.
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app


def broker_label(app: Celery) -> str:
    """The broker URL with its password masked, for messages."""
    with app.connection_for_write() as conn:
        return conn.as_uri()
