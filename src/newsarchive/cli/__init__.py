"""The ``newsarchive`` command line (console script ``newsarchive = newsarchive.cli:main``)."""

from .main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
