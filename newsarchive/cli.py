"""The ``newsarchive`` command line: parses arguments and calls one package function per command.

Exit codes: 0 success; 1 the command failed; 2 bad usage or bad config;
3 the database cannot be reached.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import sys
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import __version__, report
from .config import ConfigError, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 0, 1, 2, 3

logger = logging.getLogger("newsarchive")


def _iso_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _open_engine(args: argparse.Namespace, *, migrate: bool = True):
    from .storage import create_archive_engine, ensure_schema

    config = load_config(args.config, required=False)
    engine = create_archive_engine(config.database_url)
    if migrate:
        ensure_schema(engine)
    return engine


def cmd_db(args: argparse.Namespace) -> int:
    from .storage import schema

    engine = _open_engine(args, migrate=False)
    if args.action == "upgrade":
        schema.upgrade(engine, args.revision or "head")
    elif args.action == "downgrade":
        schema.downgrade(engine, args.revision or "-1")
    print(
        f"database at revision {schema.current_revision(engine) or '(empty)'}"
        f" (head {schema.head_revision()})"
    )
    return EXIT_OK


def cmd_crawl(args: argparse.Namespace) -> int:
    from .crawler.run import run_crawl

    config = load_config(args.config)
    sources = config.select_sources(args.source)
    if not sources:
        raise ConfigError(f"{config.path}: no [[sources]] defined")
    overrides = {"LOG_LEVEL": args.log_level} if args.log_level else {}
    summaries = run_crawl(config, sources, overrides=overrides)
    report.print_crawl_summary(summaries, args.format)
    return EXIT_OK if all(s.status != "failed" for s in summaries) else EXIT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    from .storage import iter_articles, read_session

    engine = _open_engine(args)
    with read_session(engine) as session:
        rows = iter_articles(
            session, source=args.source, since=args.since, all_versions=args.all_versions
        )
        count = report.write_records(rows, args.format, sys.stdout)
    logger.info("exported %d records", count)
    return EXIT_OK


def _read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def cmd_extract(args: argparse.Namespace) -> int:
    from .crawler.extraction import extract_article

    failed = 0
    for path in args.files:
        try:
            result = extract_article(_read_page(path), args.url)
        except (OSError, EOFError, zlib.error) as exc:
            logger.error("%s: cannot read: %s", path, exc)
            failed += 1
            continue
        report.print_extraction(str(path), result, args.format)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.dir), log_level=args.log_level)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsarchive",
        description="Crawl news sites on a schedule and keep clean, deduplicated articles "
        "in SQLite or PostgreSQL.",
        epilog="Exit codes: 0 ok, 1 command failed, 2 bad usage or config, 3 database unreachable.",
    )
    parser.add_argument("--version", action="version", version=f"newsarchive {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default: $NEWSARCHIVE_CONFIG or ./newsarchive.toml)",
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity on stderr (default INFO for crawls, WARNING otherwise)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="manage the database schema (Alembic migrations)")
    db.add_argument(
        "action",
        choices=["upgrade", "downgrade", "current"],
        help="upgrade to head (or REVISION), downgrade one step (or to REVISION), "
        "or show the current revision",
    )
    db.add_argument("revision", nargs="?", help="target revision (default: head / one step down)")
    db.set_defaults(func=cmd_db)

    crawl = sub.add_parser(
        "crawl",
        help="crawl all (or the named) sources once and print a summary",
        description="Crawl the configured sources once: discover pages from feeds, sitemaps and "
        "links, keep the articles, store new ones and new versions. Bad pages are logged and "
        "counted; they do not fail the crawl.",
    )
    crawl.add_argument(
        "--source", action="append", metavar="NAME", help="crawl only this source (repeatable)"
    )
    crawl.add_argument(
        "--format",
        choices=["table", "json"],
        default="table",
        help="summary format on stdout (default: table)",
    )
    crawl.set_defaults(func=cmd_crawl)

    export = sub.add_parser(
        "export",
        help="write stored articles to stdout as JSON lines or CSV",
        description=f"One record per article (its latest version unless --all-versions) with the "
        f"fields: {', '.join(report.EXPORT_FIELDS)}.",
    )
    export.add_argument("--source", metavar="NAME", help="only this source's articles")
    export.add_argument(
        "--since",
        type=_iso_datetime,
        metavar="ISO",
        help="only versions fetched at or after this time (e.g. 2024-05-01 or "
        "2024-05-01T12:00+02:00; UTC when no offset)",
    )
    export.add_argument(
        "--all-versions", action="store_true", help="every stored version, not only the latest"
    )
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.set_defaults(func=cmd_export)

    extract = sub.add_parser(
        "extract",
        help="run the pipeline's extraction on saved HTML files",
        description="Extract article text and metadata from saved pages (raw bytes in any "
        "encoding; .gz accepted) exactly as a crawl would: one result per file.",
    )
    extract.add_argument("files", nargs="+", type=Path, metavar="FILE")
    extract.add_argument("--url", help="the URL the page came from (helps metadata and links)")
    extract.add_argument("--format", choices=["jsonl", "text"], default="jsonl")
    extract.set_defaults(func=cmd_extract)

    demo = sub.add_parser(
        "demo",
        help="crawl a bundled sample news site into a fresh SQLite file (no internet needed)",
        description="Serve the sample site on 127.0.0.1, crawl it with the full pipeline into "
        "DIR/newsarchive-demo.db, then print the summary and three articles.",
    )
    demo.add_argument("--dir", default=".", help="where to write the demo database (default: .)")
    demo.set_defaults(func=cmd_demo)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in ("crawl", "demo"):  # crawls log through Scrapy's own handler
        _configure_logging(args.log_level or "WARNING")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(f"newsarchive: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        print(
            f"newsarchive: database error ({_database_url(args)}): {_first_line(exc)}",
            file=sys.stderr,
        )
        return EXIT_DATABASE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newsarchive export | head`
        sys.stderr.close()
        return EXIT_OK


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _database_url(args: argparse.Namespace) -> str:
    try:
        url = load_config(args.config, required=False).database_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # only decorates an error message
        return "database"


if __name__ == "__main__":
    sys.exit(main())
