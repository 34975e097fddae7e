"""The process one daemon crawl runs in: ``python -m newsarchive.scheduler.child``.

Twisted's reactor cannot be restarted, and a leaking or crashing spider must
not take the daemon down, so every crawl gets a process of its own: forked from
the fork server (:mod:`newsarchive.scheduler.forkserver`), which then runs
:func:`main` here, or, without one, a fresh interpreter running this module.
Both speak this protocol.

Protocol with the daemon (see :mod:`newsarchive.scheduler.supervisor`):

- stdin: one JSON line, the :class:`ChildSpec`; then stdin stays open for the
  crawl's life. End of file means the daemon died: the crawl stops as on
  SIGTERM (its run is recorded ``interrupted``) and the process exits.
- stdout: one JSON line ``{"run_id": N}`` as soon as the run's row exists.
- stderr: the crawl's log, in the daemon's log format.
- SIGTERM/SIGINT: Scrapy's graceful shutdown (run recorded ``interrupted``).
- exit status: 0 the crawl ran (whatever its outcome), 4 another process is
  crawling the source, 2 bad spec or config, 1 anything else.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any, NotRequired, TypedDict

from newsarchive.exit_codes import ExitCode

EXIT_CRAWLED, EXIT_FAILED, EXIT_BAD_SPEC, EXIT_BUSY = (
    ExitCode.OK,
    ExitCode.FAILED,
    ExitCode.USAGE,
    ExitCode.BUSY,
)
# After the daemon is gone, how long a crawl may take to stop before it is cut off.
ORPHAN_GRACE_SECONDS = 30


class ChildSpec(TypedDict):
    config: dict[str, Any]
    config_path: str
    source: str
    time_limit: int
    log_format: str
    log_level: str
    worker: NotRequired[str | None]
    """The cluster worker running the crawl (recorded on its run), absent for the daemon."""


def _read_line(fd: int) -> bytes:
    # os.read, not sys.stdin: the watchdog thread later blocks on this fd, and a
    # daemon thread stuck inside a buffered reader can abort interpreter exit.
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data


_stop_requested = threading.Event()


def _request_stop(_signum: int, _frame: FrameType | None) -> None:
    _stop_requested.set()


def _stop_when_scrapy_listens() -> None:
    """Turn an early stop request into Scrapy's graceful shutdown, once Scrapy can hear it.

    Scrapy installs its SIGTERM handler only when its reactor has started; a
    signal before that would kill the process with its run row still open.
    """
    _stop_requested.wait()
    while signal.getsignal(signal.SIGTERM) is _request_stop:
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(fd: int) -> None:
    """Stop the crawl when the daemon's end of stdin closes (the daemon died)."""
    while os.read(fd, 4096):
        pass
    logging.getLogger(__name__).warning("the daemon (or worker) went away: stopping this crawl")
    _stop_requested.set()
    time.sleep(ORPHAN_GRACE_SECONDS)
    os._exit(EXIT_FAILED)


def _report_run(source: str, run_id: int) -> None:
    sys.stdout.write(json.dumps({"source": source, "run_id": run_id}) + "\n")
    sys.stdout.flush()


def main() -> int:
    from newsarchive.config import ConfigError, parse_config
    from newsarchive.logformat import log_handler

    try:
        spec: ChildSpec = json.loads(_read_line(0))
        config = parse_config(spec["config"], spec["config_path"])
        sources = config.select_sources([spec["source"]])
    except (ValueError, KeyError, TypeError, ConfigError) as exc:
        print(f"newsarchive crawl child: bad spec: {exc}", file=sys.stderr)
        return EXIT_BAD_SPEC
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _request_stop)
    threading.Thread(target=_stop_when_scrapy_listens, name="stop-relay", daemon=True).start()
    threading.Thread(target=_watch_parent, args=(0,), name="parent-watch", daemon=True).start()

    overrides: dict[str, object] = {
        "LOG_LEVEL": spec["log_level"],
        # Scrapy ends the crawl itself at the limit, keeping its counters; the
        # daemon's kill a little later is only the backstop for a stuck crawl.
        "CLOSESPIDER_TIMEOUT": spec["time_limit"],
    }
    if spec.get("worker"):
        overrides["NEWSARCHIVE_WORKER"] = spec["worker"]
    if spec["log_format"] == "json":
        # Scrapy's root handler would write text; ours writes JSON instead.
        overrides["LOG_ENABLED"] = False
        logging.getLogger().addHandler(log_handler("json", spec["log_level"]))
    # The daemon logs each crawl's start and finish itself, with the same counters.
    logging.getLogger("newsarchive.crawler.run").setLevel(logging.WARNING)

    from newsarchive.crawler.run import BUSY, run_crawl

    summaries = run_crawl(
        config,
        sources,
        overrides=overrides,
        on_run_started=_report_run,
        stop_requested=_stop_requested.is_set,
    )
    return EXIT_BUSY if summaries[0].status == BUSY else EXIT_CRAWLED


if __name__ == "__main__":
    sys.exit(main())
