"""The ``newsarchive`` command line: parses arguments and calls one package function per command.

Exit codes: 0 success; 1 the command failed; 2 bad usage or bad config;
3 the database cannot be reached; 4 ``crawl``: a source was already being crawled.
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

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE, EXIT_BUSY = 0, 1, 2, 3, 4

logger = logging.getLogger("newsarchive")


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return number


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
    busy = [s.source for s in summaries if s.status == "busy"]
    if busy:
        print(
            f"newsarchive: already being crawled by another process, skipped: {', '.join(busy)}",
            file=sys.stderr,
        )
    if any(s.status == "failed" for s in summaries):
        return EXIT_FAILED
    return EXIT_BUSY if busy else EXIT_OK


def cmd_daemon(args: argparse.Namespace) -> int:
    from .scheduler.daemon import run_daemon

    return run_daemon(args.config, log_format=args.log_format, log_level=args.log_level)


def cmd_runs(args: argparse.Namespace) -> int:
    from .storage.runs import recent_runs

    engine = _open_engine(args)
    report.print_runs(recent_runs(engine, source=args.source, limit=args.limit), args.format)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from .scheduler.status import source_statuses

    config = load_config(args.config)
    statuses = source_statuses(config, _open_engine(args))
    report.print_status(statuses, args.format)
    return EXIT_FAILED if any(s.failing for s in statuses) else EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from .scheduler.timing import upcoming_runs

    config = load_config(args.config)
    if args.action == "list":
        report.print_sources(config.sources, args.format)
        return EXIT_OK
    if not args.name:
        raise ConfigError("sources show: name a source (newsarchive sources show NAME)")
    (source,) = config.select_sources([args.name])
    report.print_source(source, upcoming_runs(source, datetime.now(UTC)), args.format)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .storage import iter_articles, read_session

    engine = _open_engine(args)
    with read_session(engine) as session:
        rows = iter_articles(
            session, source=args.source, since=args.since, all_versions=args.all_versions
        )
        if args.format == "parquet":
            if args.output is None:
                print("newsarchive: --format parquet needs --output FILE", file=sys.stderr)
                return EXIT_USAGE
            try:
                count = report.write_parquet(rows, args.output)
            except report.ParquetUnavailable as exc:
                print(f"newsarchive: {exc}", file=sys.stderr)
                return EXIT_USAGE
        else:
            count = report.write_records(rows, args.format, sys.stdout)
    logger.info("exported %d records", count)
    return EXIT_OK


def cmd_duplicates(args: argparse.Namespace) -> int:
    from .storage import read_session
    from .storage.near_duplicates import iter_clusters

    engine = _open_engine(args)
    with read_session(engine) as session:
        try:
            count = report.print_clusters(iter_clusters(session, args.id), args.format)
        except LookupError as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.id is not None and not count:
        print(f"newsarchive: article {args.id} has no duplicates", file=sys.stderr)
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from .storage import read_session
    from .storage.history import article_history

    engine = _open_engine(args)
    with read_session(engine) as session:
        try:
            versions = article_history(session, args.id)
        except LookupError as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return EXIT_FAILED
    report.print_history(versions, diff=args.diff, fmt=args.format)
    return EXIT_OK


def _read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def cmd_extract(args: argparse.Namespace) -> int:
    from .crawler.extraction import extract_article

    template = None
    if args.source:
        from .storage.templates import load_template

        template = load_template(_open_engine(args), args.source)
    failed = 0
    for path in args.files:
        try:
            result = extract_article(_read_page(path), args.url, template=template)
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
        epilog="Exit codes: 0 ok, 1 command failed, 2 bad usage or config, 3 database "
        "unreachable, 4 crawl: source already being crawled.",
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
    export.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet"],
        default="jsonl",
        help="jsonl and csv go to stdout; parquet (optional extra: pip install "
        "'newsarchive[parquet]') to --output",
    )
    export.add_argument("--output", type=Path, metavar="FILE", help="file for --format parquet")
    export.set_defaults(func=cmd_export)

    duplicates = sub.add_parser(
        "duplicates",
        help="list clusters of duplicate articles (exact and near copies) with similarity",
        description="Every cluster of copies (the earliest-seen article first, then the "
        "articles linked to it by duplicate_of), or the cluster of article ID. Similarity is "
        "the estimated Jaccard similarity of each copy's text to the original's.",
    )
    duplicates.add_argument("id", type=int, nargs="?", metavar="ID", help="one article's cluster")
    duplicates.add_argument("--format", choices=["table", "jsonl"], default="table")
    duplicates.set_defaults(func=cmd_duplicates)

    history = sub.add_parser(
        "history",
        help="list an article's versions; --diff shows what changed between them",
        description="The stored versions of article ID, oldest first, with the time each was "
        "fetched. --diff adds a word-level diff of each version against the one before: "
        "[-deleted-] and {+inserted+}, per changed paragraph (CJK compared per character).",
    )
    history.add_argument("id", type=int, metavar="ID")
    history.add_argument("--diff", action="store_true", help="show what changed, word by word")
    history.add_argument("--format", choices=["table", "jsonl"], default="table")
    history.set_defaults(func=cmd_history)

    daemon = sub.add_parser(
        "daemon",
        help="crawl every source on its schedule, in the foreground, until SIGTERM",
        description="Run the scheduler in the foreground (for systemd, Docker, supervisord): "
        "each source is crawled on its schedule in a child process, one crawl per source at a "
        "time, up to [daemon] max_parallel_crawls at once. Overdue sources crawl once at start. "
        "SIGTERM/SIGINT: stop after running crawls finish (killed after shutdown_grace); "
        "SIGHUP: reload the config (a bad file is refused and the old one kept).",
    )
    daemon.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="log line format on stderr (default: [daemon] log_format, else text); "
        "json writes one object per line for log shippers",
    )
    daemon.set_defaults(func=cmd_daemon)

    runs = sub.add_parser(
        "runs",
        help="list recent crawl runs, newest first",
        description="Recent rows of crawl_runs: id, source, started_at, finished_at, status "
        "(running, ok, failed, timeout, interrupted) and the pipeline's counters. "
        "JSON lines add the error.",
    )
    runs.add_argument("--source", metavar="NAME", help="only this source's runs")
    runs.add_argument("--limit", type=_positive_int, default=20, help="how many (default 20)")
    runs.add_argument("--format", choices=["table", "jsonl"], default="table")
    runs.set_defaults(func=cmd_runs)

    status = sub.add_parser(
        "status",
        help="per source: schedule, last run, next run, articles; exit 1 if a source is failing",
        description="For each configured source: its schedule, last run and outcome, next run "
        "time (as the daemon would choose it) and articles stored. Exits 1 when any source has "
        "failed its last [daemon] failure_backoff_after (default 3) runs: usable as a health "
        "check.",
    )
    status.add_argument("--format", choices=["table", "json"], default="table")
    status.set_defaults(func=cmd_status)

    sources = sub.add_parser(
        "sources",
        help="list the configured sources, or show one",
        description="What the config defines (validated): `sources list`, or `sources show NAME` "
        "with every setting and the next regular run times.",
    )
    sources.add_argument("action", choices=["list", "show"])
    sources.add_argument("name", nargs="?", metavar="NAME", help="the source to show")
    sources.add_argument("--format", choices=["table", "json"], default="table")
    sources.set_defaults(func=cmd_sources)

    extract = sub.add_parser(
        "extract",
        help="run the pipeline's extraction on saved HTML files",
        description="Extract article text and metadata from saved pages (raw bytes in any "
        "encoding; .gz accepted) exactly as a crawl would: one result per file.",
    )
    extract.add_argument("files", nargs="+", type=Path, metavar="FILE")
    extract.add_argument("--url", help="the URL the page came from (helps metadata and links)")
    extract.add_argument("--format", choices=["jsonl", "text"], default="jsonl")
    extract.add_argument(
        "--source", help="strip the template the archive learned for this source's pages"
    )
    extract.set_defaults(func=cmd_extract)

    demo = sub.add_parser(
        "demo",
        help="crawl a bundled sample news site into a fresh SQLite file (no internet needed)",
        description="Serve the sample site on 127.0.0.1, crawl it with the full pipeline into "
        "DIR/newsarchive-demo.db, then print the summary and three articles.",
    )
    demo.add_argument("--dir", default=".", help="where to write the demo database (default: .)")
    demo.set_defaults(func=cmd_demo)

    from .archive_cli import add_archive_commands  # imports this module's helpers

    add_archive_commands(sub)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Crawls log through Scrapy's own handler, the daemon through its own (text or JSON).
    if args.command not in ("crawl", "demo", "daemon"):
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
