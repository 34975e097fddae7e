"""The cluster as an operator runs it: workers and dispatchers as subprocesses, real RabbitMQ
and PostgreSQL, small news sites on loopback.

Each test has its own database and queue. A crawl is a child process of a few
seconds; the tests hold a page back (:class:`Gate`, :class:`FeedGate`) where a crawl
must surely be running, and start workers only when their crawls are wanted, so as
few crawls run as the assertions need.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from newsarchive.cli.main import main
from tests.cluster.harness import (
    BROKER_HOST,
    BROKER_PORT,
    FeedGate,
    TcpProxy,
    private_queue,
    require_rabbitmq,
    story_page,
    write_cluster_config,
    write_site,
)
from tests.fixture_server import FixtureServer, free_port
from tests.imports.warcs import Capture, story_html, write_warc
from tests.scheduler.daemon_harness import DaemonProcess, Gate, archive_engine, wait_for

WORDS = (
    "tide lighthouse pier trawler gulls harbourmaster lifeboat crew quay moorings dredging "
    "regatta sailors ferry pontoon slipway chandlery netting lobster catch auction jetty "
    "breakwater estuary sandbank coastguard beacon anchor hull rigging"
).split()
# Longer than any test holds a page back: the held request must not time out.
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
        "herald": {"/news/storm.html": story_page("Storm cleanup begins", paragraphs(4))},
    }
    servers = {
        name: FixtureServer(write_site(tmp_path / "sites" / name, stories)).start()
        for name, stories in layouts.items()
    }
    yield servers
    for server in servers.values():
        server.stop()


def source(name: str, site: FixtureServer, schedule: str = "@every 1h") -> dict[str, object]:
    return {"name": name, "feeds": [site.url_for("/feed.xml")], "schedule": schedule}


def runs(database_url: str, name: str | None = None) -> list[dict[str, object]]:
    """The runs, oldest first."""
    from newsarchive.storage.runs import recent_runs

    with archive_engine(database_url) as engine:
        return [
            {
                "source": r.source,
                "status": r.status,
                "worker": r.worker,
                "started_at": r.started_at,
            }
            for r in reversed(recent_runs(engine, source=name, limit=200))
        ]


def worker(config: Path, tmp_path: Path, name: str) -> DaemonProcess:
    process = DaemonProcess(config, tmp_path / f"{name}.log", "--name", name, command="worker")
    process.wait_for_log(f"worker {name} ready", timeout=60)
    return process


def imported(database_url: str) -> dict[str, str]:
    from newsarchive.storage.models import ImportFile

    with archive_engine(database_url) as engine, engine.connect() as conn:
        return dict(conn.execute(select(ImportFile.location, ImportFile.status)).all())


def stored_urls(database_url: str) -> set[str]:
    from newsarchive.storage.models import Article

    with archive_engine(database_url) as engine, engine.connect() as conn:
        return set(conn.scalars(select(Article.canonical_url)))


def scraped_sample(port: int, name: str, **labels: str) -> float:
    """One sample of ``/metrics`` on ``port``, parsed as Prometheus does."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"{name}{labels} not in /metrics")


def cli_json(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    capsys.readouterr()
    main(["--config", str(config), *args])
    return capsys.readouterr().out


def test_two_workers_crawl_the_sources_and_a_killed_workers_crawl_is_redone(
    pg_url: str,
    queue: str,
    sites: dict[str, FixtureServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from newsarchive.storage.models import Article, ArticleVersion

    gazette, courier = sites["gazette"], sites["courier"]
    config = write_cluster_config(
        tmp_path / "newsarchive.toml",
        pg_url,
        [source("gazette", gazette), source("courier", courier)],
        queue=queue,
        scrapy=HOLD_SCRAPY,
    )
    workers = {"w1": worker(config, tmp_path, "w1"), "w2": worker(config, tmp_path, "w2")}
    # Both feeds are answered only once both were asked: the two crawls run at once.
    with (
        FeedGate(gazette, courier),
        Gate(gazette, "/news/ferry.html") as held,
        workers["w1"],
        workers["w2"],
        DaemonProcess(config, tmp_path / "daemon.log") as daemon,
    ):
        assert held.requested.wait(60), "the gazette crawl never reached its held story"
        victim = runs(pg_url, "gazette")[0]["worker"]
        survivor = "w2" if victim == "w1" else "w1"
        os.kill(workers[victim].proc.pid, signal.SIGKILL)
        workers[victim].proc.wait(10)
        # The orphaned crawl waits on the held story, so it still holds the source's lock
        # when the job is delivered again: the survivor retries until it is gone.
        workers[survivor].wait_for_log("[gazette] source locked", timeout=90)
        held.open()
        wait_for(
            lambda: [r["status"] for r in runs(pg_url, "gazette")] == ["interrupted", "ok"],
            90,
            "the gazette job done again",
        )
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        # Stopped, not killed: a job is acknowledged just after its run is recorded.
        workers[survivor].signal(signal.SIGTERM)
        assert workers[survivor].wait(30) == 0

    assert [(r["status"], r["worker"]) for r in runs(pg_url, "gazette")] == [
        ("interrupted", victim),
        ("ok", survivor),
    ]
    assert [(r["status"], r["worker"]) for r in runs(pg_url, "courier")] == [("ok", survivor)]
    with archive_engine(pg_url) as engine, engine.connect() as conn:
        stored = conn.execute(select(Article.canonical_url, Article.id, Article.duplicate_of))
        articles = {url: (id_, dup) for url, id_, dup in stored}
        warc_files = set(conn.scalars(select(ArticleVersion.warc_file)))
    assert len(articles) == 5  # every story once: nothing lost, nothing twice
    (a_id, a_dup), (b_id, b_dup) = (v for k, v in articles.items() if "/wire/" in k)
    assert a_dup == b_id or b_dup == a_id, "the wire copies crawled at once were not linked"
    # Each worker wrote its own WARC files, named after it, under the shared warc_dir.
    assert {f.split("-")[1] for f in warc_files} == {"w1", "w2"}
    assert warc_files <= {p.name for p in (tmp_path / "warc").iterdir()}

    listed = cli_json(capsys, config, "runs", "--format", "jsonl")
    newest, *first_two = [json.loads(line)["worker"] for line in listed.splitlines()]
    assert newest == survivor and sorted(first_two) == sorted([survivor, victim])
    report = json.loads(cli_json(capsys, config, "status", "--format", "json"))
    assert {w["name"] for w in report["cluster"]["workers"]} == {"w1", "w2"}
    assert report["cluster"]["queue_depth"] == 0
    assert [s["last_run"]["worker"] for s in report["sources"]] == [survivor, survivor]


def test_standby_dispatcher_takes_over_and_a_stopped_worker_interrupts_its_crawl(
    pg_url: str, queue: str, sites: dict[str, FixtureServer], tmp_path: Path
) -> None:
    herald = sites["herald"]
    config = write_cluster_config(
        tmp_path / "newsarchive.toml",
        pg_url,
        [source("herald", herald, "@every 3s")],
        queue=queue,
        scrapy=HOLD_SCRAPY,
    )
    with DaemonProcess(config, tmp_path / "d1.log") as first:
        first.wait_for_log("crawl sent to the queue")
        with DaemonProcess(config, tmp_path / "d2.log") as standby, FeedGate(herald) as gate:
            standby.wait_for_log("standing by")
            first.proc.kill()
            first.proc.wait(10)
            killed_at = datetime.now(UTC)
            started = time.monotonic()
            standby.wait_for_log("dispatcher active", timeout=30)
            assert time.monotonic() - started < 30
            standby.wait_for_log("crawl sent to the queue")
            # A job expires at its source's next tick: the dead dispatcher's are gone by
            # the time a worker starts, so what it runs the new dispatcher sent.
            with worker(config, tmp_path, "w1") as w1:
                assert gate.requested.wait(60), "no crawl started after the takeover"
                # SIGTERM to a worker mid-crawl: the crawl stops as the daemon's would.
                w1.signal(signal.SIGTERM)
                w1.wait_for_log("asking running jobs to finish")
                gate.open()
                assert w1.wait(60) == 0
    [run] = runs(pg_url, "herald")
    assert (run["status"], run["worker"]) == ("interrupted", "w1")
    assert run["started_at"] > killed_at


def test_missed_crawls_are_sent_when_the_broker_returns(
    pg_url: str, queue: str, sites: dict[str, FixtureServer], tmp_path: Path
) -> None:
    herald = [source("herald", sites["herald"], "@every 3s")]
    proxy = TcpProxy((BROKER_HOST, BROKER_PORT))
    proxy.start()
    direct = write_cluster_config(tmp_path / "worker.toml", pg_url, herald, queue=queue)
    metrics_port = free_port()
    with direct.open("a", encoding="utf-8") as out:
        out.write(f'\n[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n')
    proxied = write_cluster_config(
        tmp_path / "dispatcher.toml", pg_url, herald, queue=queue, broker_url=proxy.url
    )
    try:
        with DaemonProcess(proxied, tmp_path / "d.log") as daemon:
            daemon.wait_for_log("crawl sent to the queue")
            proxy.stop()
            # The schedule comes round while the broker is away, and the retries fail too.
            wait_for(lambda: daemon.log.count("crawl not sent") >= 2, 30, "sends in vain")
            assert daemon.proc.poll() is None
            restored_at, restored_mark = datetime.now(UTC), len(daemon.log)
            during_outage = daemon.log[daemon.log.index("crawl not sent") : restored_mark]
            proxy.start()
            wait_for(
                lambda: "crawl sent to the queue" in daemon.log[restored_mark:],
                30,
                "a crawl sent after the broker returned",
            )
            with worker(direct, tmp_path, "w1"):
                wait_for(
                    lambda: any(r["status"] == "ok" for r in runs(pg_url, "herald")),
                    60,
                    "the crawl sent after the outage run",
                )
                # A worker serves the archive's figures too: read from the runs table.
                ok_runs = scraped_sample(
                    metrics_port, "newsarchive_crawl_runs_total", source="herald", status="ok"
                )
                assert ok_runs == sum(r["status"] == "ok" for r in runs(pg_url, "herald"))
                # import --enqueue: the worker runs `newsarchive import` on the file.
                warc = tmp_path / "wire.warc.gz"
                urls = {n: f"https://wire.example/2024/story-{n}" for n in (1, 2)}
                write_warc(warc, [Capture(url, story_html(n).encode()) for n, url in urls.items()])
                assert main(["--config", str(direct), "import", "--enqueue", str(warc)]) == 0
                wait_for(lambda: imported(pg_url) == {str(warc): "done"}, 60, "the import job")
                assert stored_urls(pg_url) >= set(urls.values())
            assert "crawl sent to the queue" not in during_outage
            assert all(r["started_at"] > restored_at for r in runs(pg_url, "herald"))
            daemon.signal(signal.SIGTERM)
            assert daemon.wait(30) == 0
    finally:
        proxy.stop()
