"""``newsarchive import``: WARC files and WACZ packages into the archive, like crawled pages."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from newsarchive.exit_codes import ExitCode

from .arguments import add_format, iso_datetime, positive_int
from .context import CommandContext

SOURCE_NAME = re.compile(r"^[a-z0-9_-]+$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Read WARC/1.0 and 1.1 files (.warc, .warc.gz) and WACZ packages, from paths or "
        "HTTP(S) URLs, and store every HTML response the way a crawl stores a page: "
        "extraction, template, dedupe, versions, search index. A capture's WARC-Date is its "
        "fetch time. Records go to the configured source whose allowed_domains cover their "
        "host, else to --source, else to a new source named after the host (marked imported). "
        "A file imported before is skipped; an interrupted one resumes where it stopped."
    )
    parser.add_argument("locations", nargs="+", metavar="PATH_OR_URL")
    parser.add_argument(
        "--source", metavar="NAME", help="source for records no configured source covers"
    )
    parser.add_argument(
        "--domain",
        action="append",
        default=[],
        metavar="D",
        help="only captures of this domain and hosts under it (repeatable)",
    )
    parser.add_argument(
        "--language",
        action="append",
        default=[],
        metavar="L",
        help="only stories in this language, ISO 639-1 such as en (repeatable)",
    )
    parser.add_argument("--since", type=iso_datetime, metavar="ISO", help="captures from then on")
    parser.add_argument("--until", type=iso_datetime, metavar="ISO", help="captures before then")
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        metavar="N",
        help="extraction processes (default 1: all in this process)",
    )
    parser.add_argument(
        "--copy",
        action="store_true",
        help="copy each file into [archive] warc_dir/imports/ and point at the copy "
        "(by default the archive points at the original file or URL)",
    )
    parser.add_argument(
        "--enqueue",
        action="store_true",
        help="send one job per file to the cluster's workers instead (needs [cluster])",
    )
    add_format(parser, "table", "json", help="summary format on stdout (default: table)")


def _usage(message: str) -> ExitCode:
    print(f"newsarchive: {message}", file=sys.stderr)
    return ExitCode.USAGE


def _passed_on(args: argparse.Namespace) -> list[str]:
    """The options a worker's import of one file needs: the same, less --enqueue."""
    passed: list[str] = []
    if args.source:
        passed += ["--source", args.source]
    for domain in args.domain:
        passed += ["--domain", domain]
    for language in args.language:
        passed += ["--language", language]
    if args.since:
        passed += ["--since", args.since.isoformat()]
    if args.until:
        passed += ["--until", args.until.isoformat()]
    if args.copy:
        passed.append("--copy")
    return passed


def _enqueue(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    config = ctx.config()
    if config.cluster is None:
        return _usage(f"import --enqueue needs a [cluster] section in {config.path}")
    from newsarchive.scheduler.cluster import require_cluster_extra

    require_cluster_extra(config)
    from newsarchive.scheduler.cluster import BrokerUnavailable, enqueue_import

    for location in args.locations:
        # Workers run elsewhere: a path must name the same file there (shared storage).
        if not location.startswith(("http://", "https://")):
            location = str(Path(location).expanduser().resolve())
        try:
            job = enqueue_import(config, location, _passed_on(args))
        except BrokerUnavailable as exc:
            print(f"newsarchive: {location}: not sent: {exc}", file=sys.stderr)
            return ExitCode.FAILED
        print(f"{job}\t{location}")
    return ExitCode.OK


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    if args.source is not None and not SOURCE_NAME.match(args.source):
        return _usage(f"--source {args.source!r}: a source name is [a-z0-9_-]+")
    if args.since and args.until and args.since >= args.until:
        return _usage("--since must be before --until")
    if args.enqueue:
        return _enqueue(args, ctx)

    from newsarchive.crawler.imports.run import ImportOptions, import_archives
    from newsarchive.storage.warc_sources import LocationError

    from .output.imports import ProgressBar, print_import_summary

    config = ctx.config()
    ctx.check_database()  # before reading anything: an unusable database is exit 3 at once
    options = ImportOptions(
        source=args.source,
        domains=args.domain,
        languages=args.language,
        since=args.since,
        until=args.until,
        processes=args.processes,
        copy=args.copy,
    )
    try:
        with ProgressBar.on_terminal(sys.stderr) as progress:
            summary = import_archives(config, args.locations, options, progress)
    except LocationError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    print_import_summary(summary, args.format)
    return ExitCode.FAILED if summary.failed else ExitCode.OK
