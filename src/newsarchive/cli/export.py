"""``newsarchive export``: stored articles as JSON lines, CSV or Parquet."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from newsarchive.exit_codes import ExitCode

from .arguments import add_access, add_format, add_source, iso_datetime
from .context import CommandContext

logger = logging.getLogger("newsarchive")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from newsarchive.storage.articles import EXPORT_FIELDS

    parser.description = (
        f"One record per article (its latest version unless --all-versions) with the "
        f"fields: {', '.join(EXPORT_FIELDS)}."
    )
    add_source(parser)
    parser.add_argument(
        "--since",
        type=iso_datetime,
        metavar="ISO",
        help="only versions fetched at or after this time (e.g. 2024-05-01 or "
        "2024-05-01T12:00+02:00; UTC when no offset)",
    )
    add_access(parser)
    parser.add_argument(
        "--all-versions", action="store_true", help="every stored version, not only the latest"
    )
    add_format(
        parser,
        "jsonl",
        "csv",
        "parquet",
        help="jsonl and csv go to stdout; parquet (optional extra: pip install "
        "'newsarchive[parquet]') to --output",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="file for --format parquet")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import iter_articles, read_session

    from .output.export import ParquetUnavailable, write_parquet, write_records

    if args.format == "parquet" and args.output is None:
        print("newsarchive: --format parquet needs --output FILE", file=sys.stderr)
        return ExitCode.USAGE
    with read_session(ctx.engine()) as session:
        rows = iter_articles(
            session,
            source=args.source,
            since=args.since,
            all_versions=args.all_versions,
            access=args.access,
        )
        if args.format == "parquet":
            try:
                count = write_parquet(rows, args.output)
            except ParquetUnavailable as exc:
                print(f"newsarchive: {exc}", file=sys.stderr)
                return ExitCode.USAGE
        else:
            count = write_records(rows, args.format, sys.stdout)
    logger.info("exported %d records", count)
    return ExitCode.OK
