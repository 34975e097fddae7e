"""The archive commands of the CLI: search, stats, prune, raw, reprocess.

Each parses its arguments and calls one package function, like the rest of the CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import archive_report
from .cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, _iso_datetime, _open_engine, _positive_int
from .config import load_config


def cmd_search(args: argparse.Namespace) -> int:
    from .storage import read_session
    from .storage.search import search_articles

    with read_session(_open_engine(args)) as session:
        try:
            hits = search_articles(
                session,
                args.query,
                source=args.source,
                since=args.since,
                until=args.until,
                language=args.lang,
                limit=args.limit,
                include_duplicates=args.duplicates,
            )
        except ValueError as exc:  # a query with no words
            print(f"newsarchive: search: {exc}", file=sys.stderr)
            return EXIT_USAGE
    archive_report.print_search_results(hits, args.format)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from .storage.stats import archive_stats

    config = load_config(args.config, required=False)
    archive_report.print_stats(archive_stats(_open_engine(args), config.warc_dir), args.format)
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from .storage.prune import prune_articles

    config = load_config(args.config, required=False)
    report = prune_articles(
        _open_engine(args),
        args.before,
        source=args.source,
        dry_run=args.dry_run,
        warc_dir=config.warc_dir,
        delete_warc=args.delete_warc,
    )
    if args.format == "json":
        record: dict[str, Any] = {**report.__dict__, "articles": report.articles}
        record["before"] = report.before.isoformat()
        print(json.dumps(record, ensure_ascii=False))
    else:
        archive_report.print_prune_report(report)
    return EXIT_OK


def cmd_raw(args: argparse.Namespace) -> int:
    from .storage import read_session
    from .storage.raw import raw_response

    config = load_config(args.config, required=False)
    with read_session(_open_engine(args)) as session:
        try:
            body = raw_response(session, args.id, config.warc_dir, args.version)
        except (LookupError, FileNotFoundError) as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return EXIT_FAILED
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return EXIT_OK


def cmd_reprocess(args: argparse.Namespace) -> int:
    from .crawler.reprocess import reprocess

    summary = reprocess(
        load_config(args.config, required=False), source=args.source, since=args.since
    )
    print(json.dumps({"examined": summary.examined, "empty": summary.empty, **summary.outcomes}))
    return EXIT_OK


def add_archive_commands(sub: Any) -> None:
    """Add search, stats, prune, raw and reprocess to the CLI's subparsers."""
    search = sub.add_parser(
        "search",
        help="full-text search of the articles' latest versions, best matches first",
        description='Every word must match (AND); "double quotes" make a phrase. Any '
        "language: Chinese and Japanese words need no spaces (谈判 finds 贸易谈判). On SQLite "
        "words match anywhere inside words; on PostgreSQL spaced words match by prefix "
        "(bridge finds bridges). Copies of other articles are left out unless --duplicates. "
        "Dates are the publication date, else when the story was first stored.",
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--source", metavar="NAME", help="only this source's articles")
    search.add_argument("--since", type=_iso_datetime, metavar="ISO", help="dated at or after")
    search.add_argument("--until", type=_iso_datetime, metavar="ISO", help="dated at or before")
    search.add_argument("--lang", metavar="CODE", help="only this language (ISO 639-1, e.g. zh)")
    search.add_argument("--limit", type=_positive_int, default=20, help="how many (default 20)")
    search.add_argument("--duplicates", action="store_true", help="include copies of articles")
    search.add_argument("--format", choices=["table", "jsonl"], default="table")
    search.set_defaults(func=cmd_search)

    stats = sub.add_parser(
        "stats",
        help="articles per source, day and language, duplicate share, size on disk",
        description="Days are UTC days of first_seen_at. Size: the SQLite file and its WAL, or "
        "pg_database_size on PostgreSQL, plus the [archive] warc_dir folder.",
    )
    stats.add_argument("--format", choices=["table", "json"], default="table")
    stats.set_defaults(func=cmd_stats)

    prune = sub.add_parser(
        "prune",
        help="delete articles first seen before a date, with their versions and index entries",
        description="Retention, in one transaction: articles whose first_seen_at is before "
        "--before go, with every version, near-duplicate band and search entry. WARC files "
        "that only the removed versions referenced are listed, and deleted only with "
        "--delete-warc. --dry-run runs the same deletes and rolls them back.",
    )
    prune.add_argument("--before", type=_iso_datetime, required=True, metavar="DATE")
    prune.add_argument("--source", metavar="NAME", help="only this source's articles")
    prune.add_argument("--dry-run", action="store_true", help="report, change nothing")
    prune.add_argument("--delete-warc", action="store_true", help="delete unreferenced WARCs")
    prune.add_argument("--format", choices=["table", "json"], default="table")
    prune.set_defaults(func=cmd_prune)

    raw = sub.add_parser(
        "raw",
        help="print the HTTP response body an article version was extracted from, as served",
        description="The body of article ID's latest (or --version N) response, byte for byte, "
        "from its WARC record (or the database's zlib copy for versions stored before WARC).",
    )
    raw.add_argument("id", type=int, metavar="ID")
    raw.add_argument("--version", type=_positive_int, metavar="N")
    raw.set_defaults(func=cmd_raw)

    reprocess = sub.add_parser(
        "reprocess",
        help="re-run today's extraction and dedupe over archived responses (no fetching)",
        description="Each article's latest archived response is extracted again with the "
        "current code and the source's learned template; a new version is stored only where "
        "the cleaned text changed. Prints counts as JSON: examined, empty, new, updated, "
        "unchanged, duplicate.",
    )
    reprocess.add_argument("--source", metavar="NAME", help="only this source's articles")
    reprocess.add_argument(
        "--since", type=_iso_datetime, metavar="ISO", help="only versions fetched at or after this"
    )
    reprocess.set_defaults(func=cmd_reprocess)
