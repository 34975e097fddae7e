"""``newsarchive duplicates``: clusters of copies with each copy's similarity to the original."""

from __future__ import annotations

import argparse
import sys

from newsarchive.exit_codes import ExitCode

from .arguments import add_format
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Every cluster of copies (the earliest-seen article first, then the "
        "articles linked to it by duplicate_of), or the cluster of article ID. Similarity is "
        "the estimated Jaccard similarity of each copy's text to the original's."
    )
    parser.add_argument("id", type=int, nargs="?", metavar="ID", help="one article's cluster")
    add_format(parser, "table", "jsonl")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import read_session
    from newsarchive.storage.near_duplicates import iter_clusters

    from .output.articles import print_clusters

    with read_session(ctx.engine()) as session:
        try:
            count = print_clusters(iter_clusters(session, args.id), args.format)
        except LookupError as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return ExitCode.FAILED
    if args.id is not None and not count:
        print(f"newsarchive: article {args.id} has no duplicates", file=sys.stderr)
    return ExitCode.OK
