"""``newsarchive export``: articles as JSON lines, CSV or Parquet; captures as WARC or WACZ."""

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
        "--until",
        type=iso_datetime,
        metavar="ISO",
        help="warc/wacz only: versions fetched before this time",
    )
    parser.add_argument(
        "--query",
        metavar="TEXT",
        help="warc/wacz only: articles a full-text search for TEXT finds (copies included)",
    )
    parser.add_argument(
        "--all-versions", action="store_true", help="every stored version, not only the latest"
    )
    add_format(
        parser,
        "jsonl",
        "csv",
        "parquet",
        "warc",
        "wacz",
        help="jsonl and csv go to stdout; parquet (optional extra: pip install "
        "'newsarchive[parquet]') to --output; warc (.warc.gz) and wacz write the archived "
        "responses themselves to --output, for replay tools and other archives",
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="file for --format parquet, warc or wacz"
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import iter_articles, read_session

    from .output.export import ParquetUnavailable, write_parquet, write_records

    if args.format in ("parquet", "warc", "wacz") and args.output is None:
        print(f"newsarchive: --format {args.format} needs --output FILE", file=sys.stderr)
        return ExitCode.USAGE
    if args.format in ("warc", "wacz"):
        if args.access is not None:
            print("newsarchive: --access goes with jsonl, csv or parquet", file=sys.stderr)
            return ExitCode.USAGE
        return _export_captures(args, ctx)
    if args.until is not None or args.query is not None:
        print("newsarchive: --until and --query go with --format warc or wacz", file=sys.stderr)
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


def _export_captures(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import read_session
    from newsarchive.storage.warc_export import Selection, export_captures

    selection = Selection(
        source=args.source,
        since=args.since,
        until=args.until,
        query=args.query,
        all_versions=args.all_versions,
    )
    with read_session(ctx.engine()) as session:
        try:
            report = export_captures(
                session, args.output, args.format, selection, ctx.config().warc_dir
            )
        except ValueError as exc:  # a search query with no terms
            print(f"newsarchive: --query: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    logger.info("exported %d captures to %s", report.records, args.output)
    if report.missing:
        print(
            f"newsarchive: {report.missing} selected captures could not be read "
            f"(see the log); {report.records} exported to {args.output}",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    return ExitCode.OK
