"""``newsarchive sources``: the sources the config defines, validated."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from newsarchive.exit_codes import ExitCode

from .arguments import add_format
from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "What the config defines (validated): `sources list`, or `sources show NAME` "
        "with every setting and the next regular run times."
    )
    parser.add_argument("action", choices=["list", "show"])
    parser.add_argument("name", nargs="?", metavar="NAME", help="the source to show")
    add_format(parser, "table", "json")


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.config import ConfigError

    from .output.sources import print_source, print_sources

    config = ctx.config(required=True)
    if args.action == "list":
        print_sources(config.sources, args.format)
        return ExitCode.OK
    if not args.name:
        raise ConfigError("sources show: name a source (newsarchive sources show NAME)")
    from newsarchive.scheduler.timing import upcoming_runs

    (source,) = config.select_sources([args.name])
    print_source(source, upcoming_runs(source, datetime.now(UTC)), args.format)
    return ExitCode.OK
