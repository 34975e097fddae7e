"""Drive the real ``newsarchive daemon`` as a subprocess: config files, signals, polling."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))
FAST_SCRAPY = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_TIMEOUT": 3,
    "RETRY_TIMES": 0,
    "LOGSTATS_INTERVAL": 0,
    # One process: spawning extraction workers costs each short crawl a second.
    "NEWSARCHIVE_EXTRACT_PROCESSES": 0,
}
# Scrapy's log lines (at DEBUG) that say a crawl has begun to stop: from then on it
# schedules no new request, whatever happens to the ones in flight.
SHUTDOWN_STARTED = "Received SIGTERM, shutting down gracefully"
TIMEOUT_STARTED = "Closing spider (closespider_timeout)"

T = TypeVar("T")


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: a site that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_config(
    path: Path,
    database_url: str,
    sources: list[dict[str, Any]],
    *,
    daemon: dict[str, Any] | None = None,
    scrapy: dict[str, Any] | None = None,
) -> Path:
    lines = ["[database]", f"url = {_toml_value(database_url)}", ""]
    # The fixture sites are on loopback, which a crawl refuses unless allowed.
    lines += ["[crawl]", 'allow_private_networks = ["127.0.0.1/32"]', "", "[daemon]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in (daemon or {}).items()]
    lines += ["", "[scrapy]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in {**FAST_SCRAPY, **(scrapy or {})}.items()]
    for source in sources:
        lines += ["", "[[sources]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in source.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Gate:
    """A page of ``site`` that is requested but not answered until the test opens the gate.

    It holds a crawl at a known point: while its request is in flight the crawl
    cannot finish, so a signal or time limit is sure to find it running. Give
    such crawls a DOWNLOAD_TIMEOUT longer than the test holds the gate.
    """

    def __init__(self, site: Any, path: str, *, timeout: float = 60) -> None:
        self.path = path
        self.timeout = timeout
        self.requested = threading.Event()
        self._open = threading.Event()
        self._body = site.read_file(path)
        site.add_route(path, self._answer)

    def _answer(self, _record: Any) -> tuple[int, dict[str, str], bytes]:
        self.requested.set()
        self._open.wait(self.timeout)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self._body

    def open(self) -> None:
        self._open.set()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.open()  # never leave a server thread blocked


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # The command name may contain spaces; fields resume after its ")".
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                children.append(int(entry.name))
    return children


def crawl_pids(pid: int) -> list[int]:
    """The crawl processes of daemon (or worker) ``pid``: spawned, or forked by its fork server."""
    crawls = []
    for child in child_pids(pid):
        with contextlib.suppress(OSError):
            if b"newsarchive.scheduler.forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                crawls.extend(child_pids(child))
                continue
        crawls.append(child)
    return crawls


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


class DaemonProcess:
    """``newsarchive --config CONFIG daemon`` in the background; stderr goes to ``log_path``.

    ``command`` runs another long-lived command the same way (``worker``).
    """

    def __init__(
        self,
        config: Path,
        log_path: Path,
        *extra_args: str,
        cwd: Path | None = None,
        log_level: str | None = None,
        command: str = "daemon",
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
        self.log_path = log_path
        self._log = log_path.open("a", encoding="utf-8")
        level = ["--log-level", log_level] if log_level else []
        self.proc = subprocess.Popen(
            [NEWSARCHIVE, *level, "--config", str(config), command, *extra_args],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
            cwd=cwd,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        wait_for(lambda: text in self.log, timeout, f"{text!r} in the daemon's log")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def kill_all(self) -> None:
        """SIGKILL the daemon and its crawl processes, as a crash of the whole service would."""
        children = child_pids(self.proc.pid)
        children += [pid for child in children for pid in child_pids(child)]
        self.proc.kill()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for pid in children:
            wait_for(lambda p=pid: process_gone(p), 10, f"crawl process {pid} to die")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill_all()
        self._log.close()

    def __enter__(self) -> DaemonProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def archive_engine(database_url: str) -> Iterator[Any]:
    from newsarchive.storage import create_archive_engine

    engine = create_archive_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()
