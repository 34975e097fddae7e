"""``newsarchive serve``: the read-only web UI and JSON API, until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import sys

from newsarchive.exit_codes import ExitCode

from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve the archive read-only in a browser (search, articles, versions and their "
        "diffs, captures, sources, runs) and as JSON under /api (OpenAPI at "
        "/api/openapi.json). Listens on [serve] listen (default 127.0.0.1:8080); an "
        "address other than loopback is refused unless [serve] token is set, and then "
        "every request must carry the token."
    )
    parser.add_argument(
        "--listen", metavar="HOST:PORT", help="address to listen on (default: [serve] listen)"
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.web.serve import ServeError, serve

    config = ctx.config()
    try:
        serve(config, listen=args.listen, check_database=ctx.check_database)
    except ServeError as exc:
        print(f"newsarchive: serve: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return ExitCode.OK
