"""``newsarchive history``: an article's versions, and with --diff what changed."""

from __future__ import annotations

import argparse
import sys

from newsarchive.exit_codes import ExitCode

from .arguments import add_format
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "The stored versions of article ID, oldest first, with the time each was "
        "fetched and 'changed' where the headline differs from the version before, then when "
        "the story was found removed (404/410, or a redirect to a home or section page) or "
        "restored. --diff adds a word-level diff of each version against the one before: "
        "[-deleted-] and {+inserted+}, per changed paragraph (CJK compared per character)."
    )
    parser.add_argument("id", type=int, metavar="ID")
    parser.add_argument("--diff", action="store_true", help="show what changed, word by word")
    add_format(parser, "table", "jsonl")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import read_session
    from newsarchive.storage.events import article_events
    from newsarchive.storage.history import article_history

    from .output.articles import print_history

    with read_session(ctx.engine()) as session:
        try:
            versions = article_history(session, args.id)
        except LookupError as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return ExitCode.FAILED
        events = article_events(session, args.id)
    print_history(versions, diff=args.diff, fmt=args.format, events=events)
    return ExitCode.OK
