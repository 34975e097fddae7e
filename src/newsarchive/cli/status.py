"""``newsarchive status``: per source, schedule, last and next run; a health check."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .arguments import add_format
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "For each configured source: its schedule, last run and outcome, next run "
        "time (as the daemon would choose it), articles stored and health flags (silent, "
        "coverage_drop, blocked, failing; see README 'Monitoring'), each with its reason. "
        "Exits 1 when any source has a flag, or its last run was degraded (stories fetched but "
        "not stored): usable as a health check. With [cluster]: the queue depth and the "
        "workers seen in the last hour; JSON is then an object with `sources` and `cluster`."
    )
    add_format(parser, "table", "json")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.scheduler.status import cluster_status, source_statuses

    from .output.runs import print_status

    config, engine = ctx.config(required=True), ctx.engine()
    statuses = source_statuses(config, engine)
    print_status(statuses, args.format, cluster=cluster_status(config, engine))
    unhealthy = any(s.failing or s.degraded or s.flags for s in statuses)
    return ExitCode.FAILED if unhealthy else ExitCode.OK
