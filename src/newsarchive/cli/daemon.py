"""``newsarchive daemon``: the scheduler, in the foreground, until SIGTERM."""

from __future__ import annotations

import argparse

from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the scheduler in the foreground (for systemd, Docker, supervisord): "
        "each source is crawled on its schedule in a child process, one crawl per source at a "
        "time, up to [daemon] max_parallel_crawls at once. Overdue sources crawl once at start. "
        "SIGTERM/SIGINT: stop after running crawls finish (killed after shutdown_grace); "
        "SIGHUP: reload the config (a bad file is refused and the old one kept)."
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="log line format on stderr (default: [daemon] log_format, else text); "
        "json writes one object per line for log shippers",
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from newsarchive.scheduler.daemon import run_daemon

    # The daemon loads (and on SIGHUP reloads) the config itself, so it gets the path.
    return run_daemon(ctx.config_path, log_format=args.log_format, log_level=args.log_level)
