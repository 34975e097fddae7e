"""``newsarchive runs``: recent crawl runs, newest first."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .arguments import add_format, add_source, positive_int
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Recent rows of crawl_runs: id, source, started_at, finished_at, status "
        "(running, ok, failed, timeout, interrupted) and the pipeline's counters. "
        "JSON lines add the error."
    )
    add_source(parser, "only this source's runs")
    parser.add_argument("--limit", type=positive_int, default=20, help="how many (default 20)")
    add_format(parser, "table", "jsonl")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage.runs import recent_runs

    from .output.runs import print_runs

    print_runs(recent_runs(ctx.engine(), source=args.source, limit=args.limit), args.format)
    return ExitCode.OK
