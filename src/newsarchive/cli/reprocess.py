"""``newsarchive reprocess``: re-extract archived responses with today's code, no fetching."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .arguments import add_source, iso_datetime
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Each article's latest archived response is extracted again with the "
        "current code and the source's learned template; a new version is stored only where "
        "the cleaned text changed. Prints counts as JSON: examined, empty, new, updated, "
        "unchanged, duplicate."
    )
    add_source(parser)
    parser.add_argument(
        "--since", type=iso_datetime, metavar="ISO", help="only versions fetched at or after this"
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.crawler.reprocess import reprocess

    from .output.maintenance import print_reprocess_summary

    # reprocess opens its own engine: find an unusable database before any work starts.
    ctx.check_database()
    print_reprocess_summary(reprocess(ctx.config(), source=args.source, since=args.since))
    return ExitCode.OK
