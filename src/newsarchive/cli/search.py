"""``newsarchive search``: ranked full-text search of the articles' latest versions."""

from __future__ import annotations

import argparse
import sys

from newsarchive.exit_codes import ExitCode

from .arguments import add_access, add_format, add_source, iso_datetime, positive_int
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        'Every word must match (AND); "double quotes" make a phrase. Any '
        "language: Chinese and Japanese words need no spaces (谈判 finds 贸易谈判). On SQLite "
        "words match anywhere inside words; on PostgreSQL spaced words match by prefix "
        "(bridge finds bridges). Copies of other articles are left out unless --duplicates. "
        "Dates are the publication date, else when the story was first stored."
    )
    parser.add_argument("query", metavar="QUERY")
    add_source(parser)
    parser.add_argument("--since", type=iso_datetime, metavar="ISO", help="dated at or after")
    parser.add_argument("--until", type=iso_datetime, metavar="ISO", help="dated at or before")
    parser.add_argument("--lang", metavar="CODE", help="only this language (ISO 639-1, e.g. zh)")
    add_access(parser)
    parser.add_argument("--limit", type=positive_int, default=20, help="how many (default 20)")
    parser.add_argument("--duplicates", action="store_true", help="include copies of articles")
    parser.add_argument(
        "--removed",
        choices=["only", "exclude"],
        help="only stories found taken down (404/410, redirected away), or none of them",
    )
    add_format(parser, "table", "jsonl")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import read_session
    from newsarchive.storage.search import search_articles

    from .output.articles import print_search_results

    with read_session(ctx.engine()) as session:
        try:
            hits = search_articles(
                session,
                args.query,
                source=args.source,
                since=args.since,
                until=args.until,
                language=args.lang,
                access=args.access,
                limit=args.limit,
                include_duplicates=args.duplicates,
                removed=None if args.removed is None else args.removed == "only",
            )
        except ValueError as exc:  # a query with no words
            print(f"newsarchive: search: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    print_search_results(hits, args.format)
    return ExitCode.OK
