"""Idle crawl: wall and CPU time of one daemon crawl of a source whose feed has nothing new.

Serves a feed of three stories on 127.0.0.1 (with an ETag, answering a matching
``If-None-Match`` with 304), crawls it once to fill a fresh SQLite archive, then
runs N more crawls exactly as the daemon does (``python -m
newsarchive.scheduler.child``, the spec on stdin), each of which gets
``304 Not Modified`` for the feed. Prints per crawl: wall seconds, CPU seconds
(the child and every process it started), the requests the server answered, and
how many extraction processes started (it logs each pool start).

    python bench/idle_crawl.py [--crawls 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

ETAG = '"feed-v1"'
STORIES = 3


def _feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>{base}/news/{n}.html</link>"
        f"<pubDate>Mon, 0{n + 1} Jun 2024 09:00:00 GMT</pubDate></item>"
        for n in range(STORIES)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Idle</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


def _story(n: int) -> bytes:
    paragraphs = "".join(
        f"<p>Paragraph {p} of story {n}: the harbour council met on Monday to discuss "
        "the ferry timetable, the budget for the new seawall and the fishermen's pier.</p>"
        for p in range(8)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {n}</title>'
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>Story {n}</h1>{paragraphs}</article></body></html>"
    ).encode()


class _Site(BaseHTTPRequestHandler):
    # One handler instance per request: the tally lives on the class.
    answered: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        base = f"http://{self.headers['Host']}"
        if self.path == "/feed.xml":
            if self.headers.get("If-None-Match") == ETAG:
                self._answer(304, b"", "feed 304")
                return
            self._answer(200, _feed(base), "feed 200", "application/rss+xml", ETAG)
        elif self.path.startswith("/news/"):
            self._answer(200, _story(int(self.path[6:].split(".")[0])), "story 200", "text/html")
        else:
            self._answer(404, b"", f"{self.path} 404")

    def _answer(self, status: int, body: bytes, label: str, kind: str = "", etag: str = "") -> None:
        self.answered[label] += 1
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def crawl(spec: dict[str, Any]) -> tuple[float, float, str]:
    """One daemon-style crawl; (wall s, CPU s of it and its descendants, its log)."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.scheduler.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(spec).encode() + b"\n")
    proc.stdin.flush()  # and left open: end of stdin tells the child the daemon died
    log = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.stdin.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"crawl failed:\n{log[-3000:]}")
    # wait4 counts the child and the descendants it waited for (its extraction processes).
    return wall, usage.ru_utime + usage.ru_stime, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crawls", type=int, default=5)
    args = parser.parse_args()

    from newsarchive.config import parse_config  # the bench's own startup is not measured

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="na-idle-") as tmp:
        raw = {
            "database": {"url": f"sqlite:///{Path(tmp) / 'archive.db'}"},
            "archive": {"warc_dir": str(Path(tmp) / "warc")},
            "crawl": {"allow_private_networks": ["127.0.0.1/32"]},
            "sources": [{"name": "idle", "feeds": [f"{base}/feed.xml"]}],
        }
        config = parse_config(raw, str(Path(tmp) / "bench.toml"))
        spec = {
            "config": config.model_dump(mode="json"),
            "config_path": str(Path(tmp) / "bench.toml"),
            "source": "idle",
            "time_limit": 600,
            "log_format": "text",
            "log_level": "INFO",
        }
        wall, cpu, log = crawl(spec)
        print(f"first crawl (fills the archive): {wall:.2f} s wall, {cpu:.2f} CPU-s")
        print(f"  answered: {dict(_Site.answered)}")
        walls, cpus = [], []
        for n in range(args.crawls):
            _Site.answered.clear()
            wall, cpu, log = crawl(spec)
            pools = log.count("extraction process")
            walls.append(wall)
            cpus.append(cpu)
            print(
                f"idle crawl {n + 1}: {wall:.2f} s wall, {cpu:.2f} CPU-s, "
                f"answered {dict(_Site.answered)}, extraction pool starts logged: {pools}"
            )
    server.shutdown()
    print(
        f"\nidle crawl, median of {args.crawls}: {statistics.median(walls):.2f} s wall, "
        f"{statistics.median(cpus):.2f} CPU-s (goal: ≤ 1 s, ≤ 0.5 CPU-s)"
    )


if __name__ == "__main__":
    main()
