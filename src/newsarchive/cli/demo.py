"""``newsarchive demo``: crawl the bundled sample site into a fresh SQLite file."""

from __future__ import annotations

import argparse
from pathlib import Path

from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve the sample site on 127.0.0.1, crawl it with the full pipeline into "
        "DIR/newsarchive-demo.db, then print the summary and three articles."
    )
    parser.add_argument("--dir", default=".", help="where to write the demo database (default: .)")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from newsarchive.demo import run_demo

    # The demo makes its own config and database: the context's are not used.
    return run_demo(Path(args.dir), log_level=args.log_level)
