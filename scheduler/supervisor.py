"""Start one crawl in a child process, watch it, stop it, and close its run if it cannot.

The child records its own run in ``crawl_runs``. When it dies before closing
that row (killed, crashed, or cut off at the time limit), the supervisor closes
it: ``timeout``, ``interrupted`` (daemon shutdown) or ``failed``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from newsarchive.config import Config, SourceConfig
from newsarchive.storage.runs import RunStatus, abandon_run

from . import forkserver
from .child import EXIT_BUSY, ChildSpec

logger = logging.getLogger(__name__)

# The child's own limit (Scrapy's CLOSESPIDER_TIMEOUT) starts when the spider
# opens, seconds after the process does; the hard kill allows for that.
STARTUP_ALLOWANCE_SECONDS = 15


def describe_exit(returncode: int) -> str:
    """``exited with code 1`` / ``killed by SIGKILL``."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class CrawlOutcome:
    """What became of one child: its run ids, how it ended, and who ended it."""

    source: str
    run_ids: list[int]
    returncode: int
    stopped_for: str | None = None
    """``timeout`` or ``shutdown`` when the supervisor ended the crawl, else None."""
    duration: float = 0.0
    closed_by_supervisor: list[int] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return self.returncode == EXIT_BUSY


class SupervisedProcess:
    """A command in its own process group, stopped with SIGTERM and killed past a hard limit.

    The daemon's crawls and the cluster's jobs (crawls and imports) share it, so
    the time limit and the graceful stop behave the same wherever work runs.
    """

    def __init__(self, name: str, *, time_limit: int, grace: int) -> None:
        self.name = name
        self.time_limit = time_limit
        self.grace = grace
        self._proc: subprocess.Popen[str] | forkserver.ForkedCrawl | None = None
        self._stopped_for: str | None = None
        self._started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def stopped_for(self) -> str | None:
        """``timeout`` or ``shutdown`` once the supervisor has ended the process, else None."""
        return self._stopped_for

    def spawn(
        self, argv: list[str], stdin_line: str | None = None, *, read_stdout: bool = True
    ) -> subprocess.Popen[str]:
        """Start ``argv``; ``stdin_line`` is written and stdin left open for the process's life.

        ``read_stdout``: the caller reads the process's stdout (else it is ours).
        """
        self._started_at = time.monotonic()
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if read_stdout else None,
            text=True,
            # Own process group: a Ctrl-C at the daemon's terminal must reach
            # the daemon only, which then stops each crawl exactly once.
            start_new_session=True,
        )
        self._send(stdin_line)
        return self._proc

    def adopt(self, proc: forkserver.ForkedCrawl, stdin_line: str) -> None:
        """Supervise a process the fork server started, as :meth:`spawn` would have."""
        self._started_at = time.monotonic()
        self._proc = proc
        self._send(stdin_line)

    def _send(self, stdin_line: str | None) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        if stdin_line is not None:
            self._proc.stdin.write(stdin_line)
            self._proc.stdin.flush()  # stdin stays open: closing it tells the child we died

    def stop(self, reason: str = "shutdown") -> None:
        """Ask the process to finish now (a crawl's graceful shutdown); once is enough."""
        if self._proc is None or self._proc.poll() is not None or self._stopped_for:
            return
        self._stopped_for = reason
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGTERM)

    def kill(self, reason: str = "shutdown") -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._stopped_for = self._stopped_for or reason
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait_limited(self) -> tuple[int, float]:
        """Block until the process ends, killing it past the hard limit; (returncode, seconds)."""
        assert self._proc is not None
        hard_limit = self.time_limit + self.grace + STARTUP_ALLOWANCE_SECONDS
        try:
            self._proc.wait(timeout=hard_limit)
        except subprocess.TimeoutExpired:
            logger.error(
                "[%s] still running %ds after its %ds limit: killing it",
                self.name,
                hard_limit - self.time_limit,
                self.time_limit,
            )
            self.kill("timeout")
            self._proc.wait()
        return self._proc.returncode, time.monotonic() - self._started_at

    def close_stdin(self) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()


class CrawlChild(SupervisedProcess):
    """One crawl of one source in its own process (see :mod:`.child` for the protocol)."""

    def __init__(
        self,
        config: Config,
        source: SourceConfig,
        *,
        log_format: str,
        log_level: str,
        on_run_started: Callable[[str, int, int], None] | None = None,
        worker: str | None = None,
    ) -> None:
        super().__init__(
            source.name,
            time_limit=config.daemon.crawl_time_limit,
            grace=config.daemon.shutdown_grace,
        )
        self.source = source
        self._on_run_started = on_run_started
        # Only this source: the child has no business with the others' settings.
        data = config.model_dump(mode="json")
        data["sources"] = [source.model_dump(mode="json")]
        self._spec: ChildSpec = {
            "config": data,
            "config_path": str(config.path or "<config>"),
            "source": source.name,
            "time_limit": self.time_limit,
            "log_format": log_format,
            "log_level": log_level,
        }
        if worker is not None:
            self._spec["worker"] = worker
        self._reader: threading.Thread | None = None
        self._run_ids: list[int] = []

    def start(self) -> None:
        """Fork the crawl from the fork server, or spawn a new interpreter without one."""
        line = json.dumps(self._spec) + "\n"
        forked = forkserver.fork_crawl()
        if forked is not None:
            self.adopt(forked, line)
        else:
            self.spawn([sys.executable, "-m", "newsarchive.scheduler.child"], line)
        self._reader = threading.Thread(
            target=self._read_reports, name=f"crawl-{self.source.name}-stdout", daemon=True
        )
        self._reader.start()

    def _read_reports(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                run_id = int(json.loads(line)["run_id"])
            except (ValueError, KeyError, TypeError):
                logger.warning("[%s] unexpected output from crawl: %r", self.source.name, line)
                continue
            self._run_ids.append(run_id)
            if self._on_run_started is not None:
                self._on_run_started(self.source.name, run_id, self._proc.pid)

    def wait(self, engine: Engine) -> CrawlOutcome:
        """Block until the child ends (killing it past the hard time limit); close orphan runs."""
        returncode, duration = self.wait_limited()
        if self._reader is not None:
            self._reader.join(timeout=5)
        self.close_stdin()
        outcome = CrawlOutcome(
            source=self.source.name,
            run_ids=list(self._run_ids),
            returncode=returncode,
            stopped_for=self._stopped_for,
            duration=duration,
        )
        status, error = self._orphan_status(outcome)
        for run_id in outcome.run_ids:
            if abandon_run(engine, run_id, status, error):
                outcome.closed_by_supervisor.append(run_id)
        return outcome

    def _orphan_status(self, outcome: CrawlOutcome) -> tuple[RunStatus, str]:
        how = describe_exit(outcome.returncode)
        if outcome.stopped_for == "timeout":
            return (
                RunStatus.TIMEOUT,
                f"crawl process {how} after exceeding the {self.time_limit}s limit",
            )
        if outcome.stopped_for == "shutdown":
            return RunStatus.INTERRUPTED, f"crawl process {how} while the daemon was stopping"
        return RunStatus.FAILED, f"crawl process {how} before finishing the run"
