"""``newsarchive stats``: articles per source, day and language; duplicates; size on disk."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .arguments import add_format
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Days are UTC days of first_seen_at. Size: the SQLite file and its WAL, or "
        "pg_database_size on PostgreSQL, plus the [archive] warc_dir folder."
    )
    add_format(parser, "table", "json")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage.stats import archive_stats

    from .output.maintenance import print_stats

    print_stats(archive_stats(ctx.engine(), ctx.config().warc_dir), args.format)
    return ExitCode.OK
