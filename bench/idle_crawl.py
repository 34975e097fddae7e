"""Idle crawl: wall and CPU time of one daemon crawl of a source whose feed has nothing new.

Serves a feed of three stories on 127.0.0.1 (with an ETag, answering a matching
``If-None-Match`` with 304), crawls it once to fill a fresh SQLite archive, then
runs N more crawls exactly as the daemon does (``CrawlChild`` from
scheduler/supervisor.py), each of which gets ``304 Not Modified`` for the feed.
Each round runs one crawl spawned as a new interpreter (``python -m
newsarchive.scheduler.child``, as before the fork server, and its fallback) and
one forked from the fork server (scheduler/forkserver.py), side by side.
Prints per crawl: wall seconds (start to reaped), CPU seconds (the crawl process
and every process it started), the requests the server answered, and how many
extraction processes started (it logs each pool start); and, once, what
starting the fork server cost (paid once per daemon, before its first crawl).

    python bench/idle_crawl.py [--crawls 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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


def crawl(config: Any, engine: Any, *, forked: bool) -> tuple[float, float, str]:
    """One crawl as the daemon runs it; (wall s, CPU s of it and its descendants, its log)."""
    from newsarchive.scheduler import forkserver
    from newsarchive.scheduler.supervisor import CrawlChild

    os.environ[forkserver.ENABLED_ENV] = "1" if forked else "0"
    # The crawl logs to the daemon's stderr: catch it in a file for this crawl.
    with tempfile.TemporaryFile() as log_file:
        saved_stderr = os.dup(2)
        os.dup2(log_file.fileno(), 2)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            began = time.perf_counter()
            child = CrawlChild(config, config.sources[0], log_format="text", log_level="INFO")
            child.start()
            outcome = child.wait(engine)
            wall = time.perf_counter() - began
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
        log_file.seek(0)
        log = log_file.read().decode()
    if outcome.returncode != 0 or outcome.closed_by_supervisor:
        raise SystemExit(f"crawl failed:\n{log[-3000:]}")
    proc = child._proc  # what the daemon has no use for
    if isinstance(proc, forkserver.ForkedCrawl):
        # The fork server's child: it reports the CPU of the crawl and its descendants.
        assert proc.cpu_seconds is not None
        return wall, proc.cpu_seconds, log
    # Our child, reaped by wait(): its CPU and that of the processes it waited for.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children_before.ru_utime) + (after.ru_stime - children_before.ru_stime)
    return wall, cpu, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crawls", type=int, default=5)
    args = parser.parse_args()

    # The bench's own imports are not measured (the daemon has them loaded, too).
    from newsarchive.config import parse_config
    from newsarchive.scheduler import forkserver
    from newsarchive.storage import create_archive_engine

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
        engine = create_archive_engine(config.database_url)
        wall, cpu, log = crawl(config, engine, forked=False)
        print(f"first crawl (fills the archive): {wall:.2f} s wall, {cpu:.2f} CPU-s")
        print(f"  answered: {dict(_Site.answered)}")
        # Started here, as the daemon's first crawl would start it, so that its
        # cost is reported once below rather than hidden in one crawl's figures.
        if not forkserver.server().start():
            raise SystemExit("the fork server did not start")
        figures: dict[str, tuple[list[float], list[float]]] = {
            "spawned": ([], []),
            "forked": ([], []),
        }
        for n in range(args.crawls):
            # Alternately first, so neither way always runs on the warmer machine.
            for forked in (n % 2 == 0, n % 2 != 0):
                _Site.answered.clear()
                wall, cpu, log = crawl(config, engine, forked=forked)
                way = "forked" if forked else "spawned"
                figures[way][0].append(wall)
                figures[way][1].append(cpu)
                print(
                    f"idle crawl {n + 1} {way:>7}: {wall:.2f} s wall, {cpu:.2f} CPU-s, "
                    f"answered {dict(_Site.answered)}, "
                    f"extraction pool starts logged: {log.count('extraction process')}"
                )
        engine.dispose()
    server.shutdown()
    started = forkserver.server().started_in
    assert started is not None
    # The server's own CPU (its children's not included): its imports, then one
    # fork per crawl, a cost the crawls' figures above do not contain.
    pid = forkserver.server().pid
    assert pid is not None
    ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
    serving = sum(map(int, ticks)) / os.sysconf("SC_CLK_TCK") - started[1]
    forkserver.server().close()
    print(f"\nidle crawl, median of {args.crawls} (goal: ≤ 1 s, ≤ 0.5 CPU-s):")
    for way, (walls, cpus) in figures.items():
        print(
            f"  {way:>7}: {statistics.median(walls):.2f} s wall, "
            f"{statistics.median(cpus):.2f} CPU-s"
        )
    print(
        f"  fork server start, once per daemon (or cluster worker process): "
        f"{started[0]:.2f} s wall, {started[1]:.2f} CPU-s; then per forked crawl, "
        f"in the server: {serving / args.crawls:.3f} CPU-s"
    )


if __name__ == "__main__":
    main()
