"""``newsarchive prune``: retention, deleting articles first seen before a date."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .arguments import add_format, add_source, iso_datetime
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Retention, in one transaction: articles whose first_seen_at is before "
        "--before go, with every version, near-duplicate band and search entry. WARC files "
        "that only the removed versions referenced are listed, and deleted only with "
        "--delete-warc. --dry-run runs the same deletes and rolls them back."
    )
    parser.add_argument("--before", type=iso_datetime, required=True, metavar="DATE")
    add_source(parser)
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    parser.add_argument("--delete-warc", action="store_true", help="delete unreferenced WARCs")
    add_format(parser, "table", "json")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage.prune import prune_articles

    from .output.maintenance import print_prune_report

    report = prune_articles(
        ctx.engine(),
        args.before,
        source=args.source,
        dry_run=args.dry_run,
        warc_dir=ctx.config().warc_dir,
        delete_warc=args.delete_warc,
    )
    print_prune_report(report, args.format)
    return ExitCode.OK
