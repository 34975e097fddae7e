"""Drive the real ``newsarchive daemon`` as a subprocess: config files, signals, polling."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
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
}

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
    lines = ["[database]", f"url = {_toml_value(database_url)}", "", "[daemon]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in (daemon or {}).items()]
    lines += ["", "[scrapy]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in {**FAST_SCRAPY, **(scrapy or {})}.items()]
    for source in sources:
        lines += ["", "[[sources]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in source.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


class DaemonProcess:
    """``newsarchive --config CONFIG daemon`` in the background; stderr goes to ``log_path``."""

    def __init__(
        self, config: Path, log_path: Path, *extra_args: str, cwd: Path | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
        self.log_path = log_path
        self._log = log_path.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [NEWSARCHIVE, "--config", str(config), "daemon", *extra_args],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
            cwd=cwd,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def kill_all(self) -> None:
        """SIGKILL the daemon and its crawl processes, as a crash of the whole service would."""
        children = child_pids(self.proc.pid)
        self.proc.kill()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for pid in children:
            wait_for(lambda p=pid: _gone(p), 10, f"crawl process {pid} to die")

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
