"""``newsarchive reprocess``: re-extract archived responses with today's code, no fetching."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .arguments import add_source, iso_datetime, positive_int
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Each article's latest archived response goes again through the crawl's per page path "
        "with the current code: the rule that tells stories from other pages, the source's "
        "learned template (with the configured NEWSARCHIVE_TEMPLATE_MIN_PAGES), dedupe. Only "
        "versions an older extractor produced are extracted again, unless --all. A new "
        "version is stored only "
        "where the cleaned text changed. Prints counts as JSON: examined, current (skipped: "
        "made by this extractor), empty (no story found now; left as they are), new, updated, "
        "unchanged, duplicate, then processes and pages_per_second (pages extracted again, per "
        "second of the run's wall time). With --processes N above 1, N - 1 extraction processes "
        "extract while this one stores, several stories to a transaction "
        "(NEWSARCHIVE_STORE_BATCH), and extracts too whenever it has none to store; the stories "
        "are stored in the same order whatever N. On a terminal, a line of counts on stderr shows "
        "the progress."
    )
    add_source(parser)
    parser.add_argument(
        "--since", type=iso_datetime, metavar="ISO", help="only versions fetched at or after this"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        dest="everything",
        help="re-extract every version, also those the current extractor produced",
    )
    parser.add_argument(
        "--processes",
        type=positive_int,
        metavar="N",
        help="processes to use, this one included (default: one per CPU; 1: no others)",
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.crawler.reprocess import reprocess

    from .output.maintenance import print_reprocess_summary, reprocess_progress

    # reprocess opens its own engine: find an unusable database before any work starts.
    ctx.check_database()
    with reprocess_progress() as progress:
        summary = reprocess(
            ctx.config(),
            source=args.source,
            since=args.since,
            everything=args.everything,
            processes=args.processes,
            progress=progress,
        )
    print_reprocess_summary(summary)
    return ExitCode.OK
