"""``newsarchive raw``: an article version's HTTP response body, byte for byte."""

from __future__ import annotations

import argparse
import sys

from newsarchive.exit_codes import ExitCode

from .arguments import positive_int
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "The body of article ID's latest (or --version N) response, byte for byte, "
        "from its WARC record (or the database's zlib copy for versions stored before WARC)."
    )
    parser.add_argument("id", type=int, metavar="ID")
    parser.add_argument("--version", type=positive_int, metavar="N")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import read_session
    from newsarchive.storage.raw import raw_response

    with read_session(ctx.engine()) as session:
        try:
            body = raw_response(session, args.id, ctx.config().warc_dir, args.version)
        except (LookupError, FileNotFoundError) as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return ExitCode.FAILED
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return ExitCode.OK
