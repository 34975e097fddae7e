"""The ``newsarchive`` command line: the command registry, the parser and error handling.

Each command lives in its own module (``newsarchive.cli.<command>``), imported
only when that command is parsed or run: ``--help`` and ``--version`` load
neither SQLAlchemy nor Scrapy, and a command pays only for what it uses. A
command module has ``add_arguments(parser)`` (its description and options) and
``run(args, ctx)``, which calls one package function and prints its result.

Exit codes: see :class:`newsarchive.exit_codes.ExitCode`.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from newsarchive import __version__
from newsarchive.exit_codes import ExitCode

from .context import (
    CommandContext,
    DatabaseUnavailable,
    driver_missing,
    error_line,
    is_driver_import,
)


@dataclass(frozen=True)
class Command:
    name: str
    help: str  # the line the top-level --help shows: here, so listing needs no import
    own_logging: bool = False  # crawls log through Scrapy's handler, the daemon its own
    # Commands that write may start a new SQLite archive; the others refuse a missing
    # file rather than create an empty one and report nothing from it.
    creates_database: bool = False

    def module(self) -> ModuleType:
        # A command named like a Python keyword (import) lives in a module with a
        # trailing underscore (import_.py): `import` cannot be a module name.
        name = f"{self.name}_" if keyword.iskeyword(self.name) else self.name
        return importlib.import_module(f"{__package__}.{name}")


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("db", "manage the database schema (Alembic migrations)", creates_database=True),
        Command(
            "crawl",
            "crawl all (or the named) sources once and print a summary",
            own_logging=True,
            creates_database=True,
        ),
        Command("export", "write stored articles as JSON lines, CSV or Parquet, or as WARC/WACZ"),
        Command(
            "import",
            "import WARC files and WACZ packages (paths or URLs) through the crawl's per-page path",
            creates_database=True,
        ),
        Command(
            "duplicates",
            "list clusters of duplicate articles (exact and near copies) with similarity",
        ),
        Command("history", "list an article's versions; --diff shows what changed between them"),
        Command(
            "daemon",
            "crawl every source on its schedule, in the foreground, until SIGTERM",
            own_logging=True,
            creates_database=True,
        ),
        Command(
            "worker",
            "run crawl jobs from the [cluster] queue (a Celery worker), until SIGTERM",
            own_logging=True,
            creates_database=True,
        ),
        Command("runs", "list recent crawl runs, newest first"),
        Command(
            "status",
            "per source: schedule, last run, next run, articles, health flags; exit 1 on any flag",
        ),
        Command("sources", "list the configured sources, or show one"),
        Command("extract", "run the pipeline's extraction on saved HTML files"),
        Command(
            "demo",
            "crawl a bundled sample news site into a fresh SQLite file (no internet needed)",
            own_logging=True,
            creates_database=True,
        ),
        Command("search", "full-text search of the articles' latest versions, best matches first"),
        Command("stats", "articles per source, day and language, duplicate share, size on disk"),
        Command(
            "prune",
            "delete articles first seen before a date, with their versions and index entries",
            creates_database=True,
        ),
        Command(
            "raw",
            "print the HTTP response body an article version was extracted from, as served",
        ),
        Command("serve", "serve the archive read-only: web UI and JSON API (/api)"),
        Command(
            "reprocess",
            "re-run today's extraction and dedupe over archived responses (no fetching)",
            creates_database=True,
        ),
    )
}


class CommandParser(argparse.ArgumentParser):
    """A command's parser, filled in by its module the first time it is used."""

    def __init__(self, *args: Any, command: Command | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command = command

    def _load(self) -> None:
        if self._command is not None:
            command, self._command = self._command, None
            command.module().add_arguments(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._load()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._load()
        return super().format_usage()

    def format_help(self) -> str:
        self._load()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; a command's options are added when it is parsed."""
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
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CommandParser
    )
    for command in COMMANDS.values():
        sub.add_parser(command.name, help=command.help, command=command)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _raised(exc: BaseException, module: str, name: str) -> bool:
    # By the class's module: a ConfigError or SQLAlchemyError can only have been
    # raised if its module was imported, and main must not import either itself.
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and isinstance(exc, cls)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    if not command.own_logging:
        _configure_logging(args.log_level or "WARNING")
    # Of `db`, only `upgrade` makes a database: `db current` must not create the file it reports on.
    creates = command.creates_database and (command.name != "db" or args.action == "upgrade")
    ctx = CommandContext(args.config, create_database=creates)
    try:
        return int(command.module().run(args, ctx))
    except DatabaseUnavailable as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return ExitCode.DATABASE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `newsarchive export | head`
        sys.stderr.close()
        return ExitCode.OK
    except Exception as exc:
        if is_driver_import(exc):
            print(f"newsarchive: {driver_missing(ctx.database_label(), exc)}", file=sys.stderr)
            return ExitCode.DATABASE
        if _raised(exc, "newsarchive.config", "ConfigError"):
            print(f"newsarchive: config error: {exc}", file=sys.stderr)
            return ExitCode.USAGE
        # StorageError: how storage reports a database failure to the crawler's code.
        if _raised(exc, "sqlalchemy.exc", "SQLAlchemyError") or _raised(
            exc, "newsarchive.storage", "StorageError"
        ):
            line = error_line(exc, ctx.database_url())
            print(f"newsarchive: database error ({ctx.database_label()}): {line}", file=sys.stderr)
            return ExitCode.DATABASE
        raise
    finally:
        ctx.close()
