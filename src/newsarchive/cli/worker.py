"""``newsarchive worker``: run crawl (and import) jobs from the cluster's queue."""

from __future__ import annotations

import argparse

from .arguments import positive_int
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a Celery worker for the config's [cluster]: take crawl jobs from the queue "
        "(sent by `daemon` or `crawl --enqueue`) and run each in a child process exactly as the "
        "daemon does ([daemon] crawl_time_limit, graceful stop, one crawl per source across the "
        "cluster). SIGTERM: running crawls stop and are recorded interrupted. A worker killed "
        "outright: its jobs are delivered again to another worker."
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=1,
        help="jobs (crawls) run at once by this worker (default 1)",
    )
    parser.add_argument(
        "--name",
        help="this worker's name in runs, status and WARC file names, unique in the cluster "
        "(default newsarchive@HOSTNAME)",
    )
    parser.add_argument("--queue", help="the queue to take jobs from (default: [cluster] queue)")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="log line format on stderr (default: [daemon] log_format, else text)",
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from newsarchive.scheduler.cluster import require_cluster_extra

    require_cluster_extra(ctx.config(required=True))  # before Celery is imported
    from newsarchive.scheduler.cluster.worker import run_worker

    # The worker re-reads the config file for every job, so it gets the path.
    return run_worker(
        ctx.config_path,
        concurrency=args.concurrency,
        name=args.name,
        queue=args.queue,
        log_format=args.log_format,
        log_level=args.log_level,
    )
