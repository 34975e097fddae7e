"""The exit statuses every newsarchive process uses: the CLI and the daemon's crawl children.

Defined once so the README's promise (and the daemon's reading of a child's
status) cannot drift apart from what the code returns.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2  # bad usage or bad config
    DATABASE = 3  # the database cannot be reached or its driver is missing
    BUSY = 4  # crawl: another process is crawling the source
    INTERRUPTED = 130  # Ctrl-C: the shell's 128 + SIGINT
