"""The fork server's client: falling back to spawning, and a crawl outliving its server.

The daemon tests (test_daemon.py) run every crawl through a real fork server;
these cover what they cannot reach cheaply.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys

import pytest

from newsarchive.scheduler import forkserver
from newsarchive.scheduler.forkserver import ForkedCrawl, ForkServer


def test_a_fork_server_that_cannot_start_leaves_crawls_to_be_spawned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = ForkServer([sys.executable, "-c", "import sys; sys.exit(3)"])
    with caplog.at_level(logging.WARNING, logger=forkserver.__name__):
        assert server.fork() is None
        # Not retried at every crawl: each attempt would cost the crawl the wait.
        assert server.fork() is None
    assert [r.getMessage() for r in caplog.records] == [
        "crawl fork server unavailable (it did not start): crawls start as new processes,"
        " which costs each about a CPU-second more"
    ]


def _crawl_of(pid: int) -> tuple[ForkedCrawl, socket.socket]:
    """A ForkedCrawl for ``pid``, and the fork server's end of its channel (the test plays it)."""
    ours, theirs = socket.socketpair()
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    for fd in (stdin_r, stdout_w):
        os.close(fd)
    return ForkedCrawl(pid, ours, stdin_w, stdout_r), theirs


def test_a_forked_crawl_reports_its_exit_and_is_signalled_through_the_server() -> None:
    crawl, server = _crawl_of(12345)
    crawl.terminate()
    assert server.recv(64) == f"{int(signal.SIGTERM)}\n".encode()
    with pytest.raises(subprocess.TimeoutExpired):
        crawl.wait(timeout=0.01)
    server.sendall(f"exit {4 << 8} 0.250\n".encode())  # exit status 4: the source was busy
    assert crawl.wait(timeout=5) == 4
    assert crawl.poll() == 4 and crawl.cpu_seconds == 0.25


def test_a_crawl_outliving_its_fork_server_ends_as_failed_when_its_process_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    crawl, server = _crawl_of(proc.pid)
    with caplog.at_level(logging.WARNING, logger=forkserver.__name__):
        server.close()  # the server died
        # Its signals now go to the process itself.
        crawl.kill()
        proc.wait(timeout=10)
        assert crawl.wait(timeout=10) == forkserver.UNKNOWN_EXIT
    assert "the fork server died during crawl process" in caplog.text
