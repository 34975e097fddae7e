"""Extraction runs in separate processes; they must not outlive a killed crawl."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.cli_process import NEWSARCHIVE
from tests.fixture_server import FixtureServer


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_extraction_processes_exit_when_the_crawl_is_killed(
    tmp_path: Path, fresh_site: FixtureServer, sqlite_url: str
) -> None:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        "[scrapy]\nAUTOTHROTTLE_ENABLED = false\nDOWNLOAD_DELAY = 1\n"
        "NEWSARCHIVE_EXTRACT_PROCESSES = 1\n"
        f'[[sources]]\nname = "harbour"\nfeeds = ["{fresh_site.url}/feeds/atom.xml"]\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    crawl = subprocess.Popen(
        [NEWSARCHIVE, "--config", str(config), "crawl"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The pool starts its worker with the first story to extract.
        assert wait_until(lambda: fresh_site.count("/feeds/atom.xml") > 0, 30)
        workers: list[int] = []

        def worker_started() -> bool:
            workers[:] = [
                pid
                for pid in children(crawl.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
            return bool(workers)

        assert wait_until(worker_started, 30), "no extraction process was started"
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=10)
        assert wait_until(lambda: not any(alive(pid) for pid in workers), 10), (
            f"extraction processes {workers} outlived the killed crawl"
        )
    finally:
        if crawl.poll() is None:
            crawl.kill()
