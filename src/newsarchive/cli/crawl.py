"""``newsarchive crawl``: one crawl of all (or the named) sources, then a summary."""

from __future__ import annotations

import argparse
import sys

from newsarchive.exit_codes import ExitCode

from .arguments import add_format, add_source
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Crawl the configured sources once: discover pages from feeds, sitemaps and "
        "links, keep the articles, store new ones and new versions. Bad pages are logged and "
        "counted; they do not fail the crawl."
    )
    add_source(parser, "crawl only this source (repeatable)", repeatable=True)
    add_format(parser, "table", "json", help="summary format on stdout (default: table)")
    parser.add_argument(
        "--enqueue",
        action="store_true",
        help="do not crawl here: put one crawl job per source on the [cluster] queue for the "
        "workers, and print the job ids",
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    if args.enqueue:
        return _enqueue(args, ctx)
    from newsarchive.config import ConfigError

    config = ctx.config(required=True)
    sources = config.select_sources(args.source)
    if not sources:
        raise ConfigError(f"{config.path}: no [[sources]] defined")
    # run_crawl opens its own engine: find an unusable database before any work starts,
    # and before the crawl's stack (Scrapy, extraction: seconds on a slow machine) loads.
    ctx.check_database()
    from newsarchive.crawler.run import BUSY, run_crawl
    from newsarchive.storage.runs import RunStatus

    from .output.runs import print_crawl_summary

    overrides = {"LOG_LEVEL": args.log_level} if args.log_level else {}
    summaries = run_crawl(config, sources, overrides=overrides)
    print_crawl_summary(summaries, args.format)
    busy = [s.source for s in summaries if s.status == BUSY]
    if busy:
        print(
            f"newsarchive: already being crawled by another process, skipped: {', '.join(busy)}",
            file=sys.stderr,
        )
    # Degraded: stories were fetched and lost; a script must not read that as success.
    if any(s.status in (RunStatus.FAILED, RunStatus.DEGRADED) for s in summaries):
        return ExitCode.FAILED
    return ExitCode.BUSY if busy else ExitCode.OK


def _enqueue(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    import json

    from newsarchive.config import ConfigError
    from newsarchive.scheduler.cluster import require_cluster_extra

    config = ctx.config(required=True)
    if config.cluster is None:
        raise ConfigError(f"{config.path}: crawl --enqueue needs a [cluster] section")
    require_cluster_extra(config)
    from newsarchive.scheduler.cluster import BrokerUnavailable, enqueue_crawl

    sources = config.select_sources(args.source)
    if not sources:
        raise ConfigError(f"{config.path}: no [[sources]] defined")
    jobs = []
    for source in sources:
        try:
            jobs.append({"source": source.name, "job_id": enqueue_crawl(config, source.name)})
        except BrokerUnavailable as exc:
            print(f"newsarchive: {source.name}: not queued: {exc}", file=sys.stderr)
            break
    if args.format == "json":
        print(json.dumps(jobs, indent=2))
    else:
        for job in jobs:
            print(f"{job['source']}\t{job['job_id']}")
    return ExitCode.OK if len(jobs) == len(sources) else ExitCode.FAILED
