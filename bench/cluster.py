"""Cluster speed-up: N politeness-bound sources crawled once by 1, 2 and 4 workers.

Serves N generated news sites on 127.0.0.1, each a feed of PAGES stories. Every
crawl is polite: one request at a time to its host with a DOWNLOAD_DELAY, so a
source's crawl is mostly waiting, as a real one is, not CPU. For each worker
count W it starts W ``newsarchive worker --concurrency 1`` processes on a fresh
PostgreSQL database and a fresh RabbitMQ queue, puts one crawl per source on the
queue with ``crawl --enqueue``, and times until every source's run is closed.
Prints sources per minute and the speed-up against one worker. Goal: at least
1.8x at 2 workers and 3.2x at 4.

    python bench/cluster.py [--sources 8] [--pages 8] [--delay 1.0] [--workers 1,2,4]

Needs RabbitMQ at 127.0.0.1:5672 (guest/guest) and PostgreSQL ($NEWSARCHIVE_TEST_PG).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))
# Words of a county newspaper's week; each story a random draw, so no two are copies.
WORDS = (
    "county hospital railway station library teachers parents farmers harvest drought "
    "flooding road repairs planning permission housing estate football league concert "
    "theatre charity appeal volunteers mayor election candidates budget deficit taxes "
    "bus service ambulance fire brigade"
).split()


def build_sites(root: Path, sources: int, pages: int) -> None:
    rng = random.Random(3)
    for s in range(sources):
        folder = root / f"s{s}"
        folder.mkdir(parents=True)
        links = []
        for p in range(pages):
            body = "".join(
                "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
                for _ in range(6)
            )
            (folder / f"{p}.html").write_text(
                f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {s}-{p}'
                '</title><meta property="og:type" content="article"></head><body><main><article>'
                f"<h1>Story {s}-{p}</h1>{body}</article></main></body></html>",
                encoding="utf-8",
            )
            links.append(f"<item><title>{p}</title><link>BASE/s{s}/{p}.html</link></item>")
        (folder / "feed.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>s{s}</title>'
            f"{''.join(links)}</channel></rss>",
            encoding="utf-8",
        )


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(root: Path) -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for feed in root.glob("*/feed.xml"):
        feed.write_text(feed.read_text().replace("BASE", url))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return url


def write_config(path: Path, database_url: str, queue: str, url: str, args: Any) -> Path:
    lines = [
        f'[database]\nurl = "{database_url}"\n',
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n',
        f'[archive]\nwarc_dir = "{path.parent / "warc"}"\n',
        f'[cluster]\nbroker_url = "{BROKER_URL}"\nqueue = "{queue}"\n',
        # Politeness: one request at a time per host, DELAY seconds apart.
        "[scrapy]\nAUTOTHROTTLE_ENABLED = false\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\n"
        f"DOWNLOAD_DELAY = {args.delay}\nRANDOMIZE_DOWNLOAD_DELAY = false\n"
        'NEWSARCHIVE_EXTRACT_PROCESSES = 0\nLOG_LEVEL = "WARNING"\nROBOTSTXT_OBEY = false\n',
    ]
    for s in range(args.sources):
        lines.append(f'[[sources]]\nname = "s{s}"\nfeeds = ["{url}/s{s}/feed.xml"]\n')
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def closed_runs(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM crawl_runs WHERE finished_at IS NOT NULL")
                ).scalar()
                or 0
            )
    except Exception:
        return 0  # the schema is not there yet
    finally:
        engine.dispose()


def one_round(workers: int, url: str, tmp: Path, admin: Any, args: Any) -> float:
    name = f"newsarchive_bench_cluster_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    database_url = f"{base}/{name}"
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    folder = tmp / f"w{workers}"
    folder.mkdir()
    config = write_config(folder / "newsarchive.toml", database_url, queue, url, args)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    procs, logs = [], []
    try:
        for w in range(workers):
            log = (folder / f"worker{w}.log").open("w")
            logs.append(log)
            argv = [NEWSARCHIVE, "--config", str(config), "worker", "--name", f"b{workers}-{w}"]
            procs.append(subprocess.Popen(argv, stderr=log, stdout=log, env=env))
        deadline = time.monotonic() + 60
        while any("ready" not in p.read_text() for p in folder.glob("worker*.log")):
            if time.monotonic() > deadline:
                raise SystemExit(f"workers did not start: see {folder}")
            time.sleep(0.2)
        started = time.monotonic()
        enqueued = subprocess.run(
            [NEWSARCHIVE, "--config", str(config), "crawl", "--enqueue", "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
        )
        if enqueued.returncode:
            raise SystemExit(f"crawl --enqueue failed: {enqueued.stderr}")
        assert len(json.loads(enqueued.stdout)) == args.sources
        while closed_runs(database_url) < args.sources:
            time.sleep(0.2)
        return time.monotonic() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            from kombu import Connection

            with Connection(BROKER_URL) as conn:
                conn.default_channel.queue_delete(queue)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=8)
    parser.add_argument("--pages", type=int, default=8, help="stories per source")
    parser.add_argument("--delay", type=float, default=1.0, help="DOWNLOAD_DELAY, seconds")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    import psycopg

    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp_name:
        tmp = Path(tmp_name)
        build_sites(tmp / "sites", args.sources, args.pages)
        url = serve(tmp / "sites")
        print(
            f"{args.sources} sources x {args.pages} stories, one request at a time per host, "
            f"DOWNLOAD_DELAY {args.delay}s; workers with --concurrency 1"
        )
        print(f"{'workers':>7}  {'seconds':>8}  {'sources/min':>11}  {'speed-up':>8}")
        first = None
        for workers in (int(w) for w in args.workers.split(",")):
            seconds = one_round(workers, url, tmp, admin, args)
            first = first or seconds
            rate = args.sources / seconds * 60
            print(f"{workers:>7}  {seconds:>8.1f}  {rate:>11.1f}  {first / seconds:>7.2f}x")
    admin.close()


if __name__ == "__main__":
    main()
