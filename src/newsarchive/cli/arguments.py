"""Argument types and options several commands share, so each is spelled (and validated) once."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def positive_int(value: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return number


def iso_datetime(value: str) -> datetime:
    """argparse type: an ISO 8601 date or time; UTC when it carries no offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_format(parser: argparse.ArgumentParser, *choices: str, help: str | None = None) -> None:
    """``--format``: the first choice is the default (the one for people, where there is one)."""
    parser.add_argument("--format", choices=list(choices), default=choices[0], help=help)


ACCESS_CHOICES = ("free", "paywalled", "unknown")


def add_access(parser: argparse.ArgumentParser) -> None:
    """``--access``: only stories that are free to read, behind a paywall, or not known."""
    parser.add_argument(
        "--access",
        choices=ACCESS_CHOICES,
        help="only stories free to read, behind a paywall, or whose access is unknown",
    )


def add_source(
    parser: argparse.ArgumentParser,
    help: str = "only this source's articles",
    *,
    repeatable: bool = False,
) -> None:
    """``--source NAME``: one configured source, or with ``repeatable`` a list of them."""
    parser.add_argument(
        "--source", action="append" if repeatable else "store", metavar="NAME", help=help
    )
