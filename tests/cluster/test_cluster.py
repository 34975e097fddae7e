"""The cluster as an operator runs it: workers and dispatchers as subprocesses, real RabbitMQ
and PostgreSQL, small news sites on loopback.

Each test has its own database and queue. Sources are crawled from a feed of a few
stories, so a crawl takes a couple of seconds; a :class:`Gate` holds one story
back where a test needs a crawl to be surely running.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cli_process import run_cli
from tests.cluster.harness import (
    BROKER_HOST,
    BROKER_PORT,
    TcpProxy,
    private_queue,
    require_rabbitmq,
    story_page,
    write_cluster_config,
    write_site,
)
from tests.fixture_server import FixtureServer
from tests.scheduler.daemon_harness import DaemonProcess, Gate, archive_engine, wait_for

WORDS = (
    "harbour council ferry budget minister storm coast fishermen report vote plan week city "
    "water bridge school police court market prices energy wind farm port workers union "
    "talks agreement residents museum festival weather rain night morning official said"
).split()
HOLD_SCRAPY = {"DOWNLOAD_TIMEOUT": 60}


def paragraphs(seed: int, count: int = 6) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(count)]


@pytest.fixture
def queue() -> Iterator[str]:
    require_rabbitmq()
    with private_queue() as name:
        yield name


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[dict[str, FixtureServer]]:
    """Three news sites; ``gazette`` and ``courier`` carry one wire story, slightly edited."""
    wire = paragraphs(99, 8)
    edited = [*wire[:-1], "The courier adds that the vote is expected on Friday."]
    layouts = {
        "gazette": {
            "/news/seawall.html": story_page("Seawall plan approved", paragraphs(1)),
            "/news/ferry.html": story_page("Ferry timetable changes", paragraphs(2)),
            "/wire/vote.html": story_page("Union vote on port pay", wire),
        },
        "courier": {
            "/news/market.html": story_page("Fish market prices rise", paragraphs(3)),
            "/wire/port-vote.html": story_page("Port workers to vote on pay", edited),
        },
        "herald": {
            "/news/storm.html": story_page("Storm cleanup begins", paragraphs(4)),
            "/news/museum.html": story_page("Customs house museum opens", paragraphs(5)),
        },
    }
    servers = {
        name: FixtureServer(write_site(tmp_path / "sites" / name, stories)).start()
        for name, stories in layouts.items()
    }
    yield servers
    for server in servers.values():
        server.stop()


def feed_together(sites: list[FixtureServer], timeout: float = 30) -> None:
    """Answer these sites' feeds only once every one was asked: their crawls overlap."""
    barrier = threading.Barrier(len(sites), timeout=timeout)
    for site in sites:
        body = site.read_file("/feed.xml")

        def answer(_record: object, body: bytes = body) -> tuple[int, dict[str, str], bytes]:
            barrier.wait()
            return 200, {"Content-Type": "application/rss+xml"}, body

        site.add_route("/feed.xml", answer)


def source(name: str, site: FixtureServer, schedule: str = "@every 1h") -> dict[str, object]:
    return {"name": name, "feeds": [site.url_for("/feed.xml")], "schedule": schedule}


def runs(database_url: str, name: str | None = None) -> list[dict[str, object]]:
    from newsarchive.storage.runs import recent_runs

    with archive_engine(database_url) as engine:
        return [
            {
                "id": r.id,
                "source": r.source,
                "status": r.status,
                "worker": r.worker,
                "started_at": r.started_at,
            }
            for r in reversed(recent_runs(engine, source=name, limit=200))
        ]


def ok_sources(database_url: str) -> set[str]:
    return {r["source"] for r in runs(database_url) if r["status"] == "ok"}


def worker(config: Path, tmp_path: Path, name: str, *args: str) -> DaemonProcess:
    process = DaemonProcess(
        config, tmp_path / f"{name}.log", "--name", name, *args, command="worker"
    )
    process.wait_for_log(f"worker {name} ready", timeout=30)
    return process


def stored_urls(database_url: str) -> list[str]:
    from newsarchive.storage.models import Article

    with archive_engine(database_url) as engine, engine.connect() as conn:
        return list(conn.scalars(select(Article.canonical_url)))


def test_two_workers_crawl_every_source_and_a_killed_workers_crawl_is_redone(
    pg_url: str, queue: str, sites: dict[str, FixtureServer], tmp_path: Path
) -> None:
    from newsarchive.storage.models import Article, ArticleVersion

    gazette, courier, herald = sites["gazette"], sites["courier"], sites["herald"]
    sources = [source("gazette", gazette), source("courier", courier), source("herald", herald)]
    config = write_cluster_config(
        tmp_path / "newsarchive.toml", pg_url, sources, queue=queue, scrapy=HOLD_SCRAPY
    )
    feed_together([gazette, courier])
    w1 = worker(config, tmp_path, "w1")
    w2 = worker(config, tmp_path, "w2")
    with w1, w2, DaemonProcess(config, tmp_path / "daemon.log") as daemon:
        daemon.wait_for_log("dispatcher active")
        wait_for(
            lambda: ok_sources(pg_url) == {"gazette", "courier", "herald"}, 60, "three ok runs"
        )
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0

        first = runs(pg_url)
        assert [r["status"] for r in first] == ["ok"] * 3
        by_source = {r["source"]: r["worker"] for r in first}
        # Their feeds answered only once both were asked: two workers at the same moment.
        assert {by_source["gazette"], by_source["courier"]} == {"w1", "w2"}
        assert by_source["herald"] in ("w1", "w2")
        urls = stored_urls(pg_url)
        assert len(urls) == 7 and len(set(urls)) == 7
        with archive_engine(pg_url) as engine, engine.connect() as conn:
            wire = {
                url: (id_, dup)
                for id_, url, dup in conn.execute(
                    select(Article.id, Article.canonical_url, Article.duplicate_of).where(
                        Article.canonical_url.like("%/wire/%")
                    )
                )
            }
            warc_files = set(conn.scalars(select(ArticleVersion.warc_file)))
        (a_id, a_dup), (b_id, b_dup) = wire.values()
        assert a_dup == b_id or b_dup == a_id, f"wire copies not linked: {wire}"
        # Each worker wrote its own WARC files under the shared warc_dir.
        assert {f.split("-")[1] for f in warc_files} == {"w1", "w2"}
        on_disk = {p.name for p in (tmp_path / "warc").iterdir()}
        assert warc_files <= on_disk

        # A worker killed mid-crawl: its job is delivered again, to the other worker.
        stories = {
            f"/late/{n}.html": story_page(f"Late story {n}", paragraphs(10 + n)) for n in range(3)
        }
        late = FixtureServer(write_site(tmp_path / "sites" / "late", stories)).start()
        with late, Gate(late, "/late/2.html") as gate:
            with config.open("a", encoding="utf-8") as out:  # the workers re-read it per job
                out.write(
                    f'\n[[sources]]\nname = "late"\nfeeds = ["{late.url_for("/feed.xml")}"]\n'
                )
            enqueued = run_cli("crawl", "--enqueue", "--source", "late", config=config)
            assert enqueued.returncode == 0, enqueued.stderr
            assert enqueued.stdout.startswith("late\t") and len(enqueued.stdout.split()[1]) == 36
            assert gate.requested.wait(30), "the late crawl never reached its held story"
            victim = next(r["worker"] for r in runs(pg_url, "late"))
            survivor = {"w1": w2, "w2": w1}[victim]
            victim_process = w1 if victim == "w1" else w2
            os.kill(victim_process.proc.pid, signal.SIGKILL)
            victim_process.proc.wait(10)
            # The orphaned crawl waits on the held story, so it still holds the source's
            # lock when the job is delivered again: the survivor retries until it is gone.
            survivor.wait_for_log("[late] source locked", timeout=60)
            gate.open()
            wait_for(lambda: any(r["status"] == "ok" for r in runs(pg_url, "late")), 60, "late ok")
        late_runs = runs(pg_url, "late")
        assert [(r["status"], r["worker"]) for r in late_runs] == [
            ("interrupted", victim),
            ("ok", "w2" if victim == "w1" else "w1"),
        ]
        assert survivor.proc.poll() is None
        urls = stored_urls(pg_url)
        assert len(urls) == len(set(urls)) == 10  # nothing lost, nothing twice

        listed = run_cli("runs", "--format", "jsonl", config=config)
        assert [json.loads(line)["worker"] for line in listed.stdout.splitlines()][:2] == [
            late_runs[1]["worker"],
            victim,
        ]
        status = run_cli("status", "--format", "json", config=config)
        report = json.loads(status.stdout)
        assert {w["name"] for w in report["cluster"]["workers"]} == {"w1", "w2"}
        assert report["cluster"]["queue_depth"] == 0
        assert {s["source"]: s["last_run"]["worker"] for s in report["sources"]}["late"] in (
            "w1",
            "w2",
        )


def test_standby_dispatcher_takes_over_and_the_schedule_goes_on(
    pg_url: str, queue: str, sites: dict[str, FixtureServer], tmp_path: Path
) -> None:
    config = write_cluster_config(
        tmp_path / "newsarchive.toml",
        pg_url,
        [source("herald", sites["herald"], "@every 4s")],
        queue=queue,
    )
    with worker(config, tmp_path, "w1"), DaemonProcess(config, tmp_path / "d1.log") as first:
        first.wait_for_log("dispatcher active")
        with DaemonProcess(config, tmp_path / "d2.log") as standby:
            standby.wait_for_log("standing by")
            wait_for(lambda: "herald" in ok_sources(pg_url), 30, "a first ok run")
            first.proc.kill()
            first.proc.wait(10)
            killed_at = datetime.now(UTC)
            started = time.monotonic()
            standby.wait_for_log("dispatcher active", timeout=30)
            assert time.monotonic() - started < 30
            wait_for(
                lambda: any(
                    r["status"] == "ok" and r["started_at"] > killed_at
                    for r in runs(pg_url, "herald")
                ),
                30,
                "a run sent by the new dispatcher",
            )
            assert "crawl sent to the queue" in standby.log


def test_missed_crawls_are_sent_when_the_broker_returns(
    pg_url: str, queue: str, sites: dict[str, FixtureServer], tmp_path: Path
) -> None:
    herald = [source("herald", sites["herald"], "@every 2s")]
    proxy = TcpProxy((BROKER_HOST, BROKER_PORT))
    proxy.start()
    direct = write_cluster_config(tmp_path / "worker.toml", pg_url, herald, queue=queue)
    proxied = write_cluster_config(
        tmp_path / "dispatcher.toml", pg_url, herald, queue=queue, broker_url=proxy.url
    )
    try:
        with worker(direct, tmp_path, "w1"), DaemonProcess(proxied, tmp_path / "d.log") as daemon:
            wait_for(lambda: "herald" in ok_sources(pg_url), 30, "a first ok run")
            proxy.stop()
            daemon.wait_for_log("crawl not sent", timeout=20)
            outage_began = len(daemon.log)
            # The schedule comes round while the broker is away, and the retries fail too.
            wait_for(lambda: daemon.log.count("crawl not sent") >= 3, 20, "retries in vain")
            assert daemon.proc.poll() is None
            restored_at = datetime.now(UTC)
            during_outage = daemon.log[outage_began:]
            proxy.start()
            wait_for(
                lambda: any(r["started_at"] > restored_at for r in runs(pg_url, "herald")),
                40,
                "a crawl sent after the broker returned",
            )
            assert "crawl sent to the queue" not in during_outage
            assert "crawl sent to the queue" in daemon.log[outage_began + len(during_outage) :]
            assert {r["status"] for r in runs(pg_url, "herald")} <= {"ok", "running"}
    finally:
        proxy.stop()
