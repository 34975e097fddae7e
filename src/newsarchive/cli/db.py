"""``newsarchive db``: run the Alembic migrations, or show the current revision."""

from __future__ import annotations

import argparse

from newsarchive.exit_codes import ExitCode

from .context import CommandContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["upgrade", "downgrade", "current"],
        help="upgrade to head (or REVISION), downgrade one step (or to REVISION), "
        "or show the current revision",
    )
    parser.add_argument(
        "revision", nargs="?", help="target revision (default: head / one step down)"
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.storage import schema

    engine = ctx.engine(migrate=False)  # migrating is this command's job, not a side effect
    if args.action == "upgrade":
        schema.upgrade(engine, args.revision or "head")
    elif args.action == "downgrade":
        schema.downgrade(engine, args.revision or "-1")
    print(
        f"database at revision {schema.current_revision(engine) or '(empty)'}"
        f" (head {schema.head_revision()})"
    )
    return ExitCode.OK
