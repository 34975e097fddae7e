"""``/metrics``: counters from ``crawl_runs``, health flags; a daemon journey with takedowns."""

from __future__ import annotations

import re
import signal
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

from newsarchive.config import Config, SourceConfig
from newsarchive.scheduler.metrics import metrics_registry
from newsarchive.storage import create_archive_engine, iter_articles, read_session
from newsarchive.storage.models import Article, ArticleEvent, CrawlRun, RunStatus
from newsarchive.storage.runs import RunCounters, RunFigures, finish_run, recent_runs
from tests.cli_process import run_cli
from tests.fixture_server import FixtureServer, free_port
from tests.health.runs import add_runs
from tests.health.site import write_site
from tests.scheduler.daemon_harness import DaemonProcess, wait_for, write_config

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_each_finished_run_is_counted_once_however_often_it_is_scraped(archive: Engine) -> None:
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    add_runs(
        archive,
        "harbour",
        [
            {"started_at": start, "new": 3, "http_statuses": {"200": 5}, "warc_bytes": 900},
            {"started_at": start + timedelta(hours=1), "status": RunStatus.RUNNING},
            {"started_at": start + timedelta(hours=2), "status": RunStatus.FAILED,
             "http_statuses": {"503": 2}},
        ],
    )  # fmt: skip
    failed = {"status": RunStatus.FAILED, "error": "no page could be fetched"}
    add_runs(
        archive, "down", [{"started_at": start + timedelta(hours=n), **failed} for n in (0, 1, 2)]
    )
    config = Config(
        sources=[
            SourceConfig(name=name, feeds=[f"https://{name}.example/feed"])
            for name in ("harbour", "down")
        ]
    )
    registry = metrics_registry(archive, lambda: config)

    first = parse(generate_latest(registry).decode())
    assert value(first, "newsarchive_database_up") == 1
    assert value(first, "newsarchive_crawl_runs_total", source="harbour", status="ok") == 1
    assert value(first, "newsarchive_crawl_runs_total", source="harbour", status="failed") == 1
    assert value(first, "newsarchive_crawl_runs_total", source="harbour", status="running") is None
    assert value(first, "newsarchive_articles_total", source="harbour", outcome="new") == 3
    assert value(first, "newsarchive_http_responses_total", source="harbour", code="503") == 2
    assert value(first, "newsarchive_warc_bytes_total", source="harbour") == 900
    for check in ("silent", "coverage_drop", "blocked", "failing"):
        assert value(first, "newsarchive_source_health", source="harbour", check=check) == 0
    assert value(first, "newsarchive_source_health", source="down", check="failing") == 1
    assert value(first, "newsarchive_last_success_timestamp_seconds", source="down") is None

    # The run that was running finishes: counted from now on, and nothing twice.
    with read_session(archive) as session:
        running = session.scalars(select(CrawlRun.id).where(CrawlRun.status == "running")).one()
    figures = RunFigures(
        http_statuses={"200": 4, "410": 1},
        field_coverage={"stories": 4, "text": 1.0, "title": 1.0, "published_at": 0.5,
                        "authors": 0.25},
        warc_bytes=100,
    )  # fmt: skip
    finish_run(archive, running, RunStatus.OK, RunCounters(new=4, unchanged=1), None, figures)
    for _ in range(2):
        again = parse(generate_latest(registry).decode())
        assert value(again, "newsarchive_crawl_runs_total", source="harbour", status="ok") == 2
        assert value(again, "newsarchive_crawl_runs_total", source="harbour", status="failed") == 1
        assert value(again, "newsarchive_articles_total", source="harbour", outcome="new") == 7
        assert value(again, "newsarchive_http_responses_total", source="harbour", code="200") == 9
        assert value(again, "newsarchive_warc_bytes_total", source="harbour") == 1000
        ratio = "newsarchive_field_coverage_ratio"
        assert value(again, ratio, source="harbour", field="published_at") == 0.5
        assert value(again, ratio, source="harbour", field="authors") == 0.25


class Answers:
    """A page whose n-th request gets the n-th answer (the last one from then on)."""

    def __init__(self, *answers: tuple[int, dict[str, str], bytes]) -> None:
        self.answers = list(answers)
        self.requests = 0

    def __call__(self, _record: object) -> tuple[int, dict[str, str], bytes]:
        self.requests += 1
        return self.answers[min(self.requests, len(self.answers)) - 1]


class HeldFeed:
    """The feed, answered at once for the first run and held for the ones after."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests = 0
        self.second_run = threading.Event()
        self.release = threading.Event()

    def __call__(self, _record: object) -> tuple[int, dict[str, str], bytes]:
        self.requests += 1
        if self.requests > 1:
            self.second_run.set()
            self.release.wait(60)
        return 200, {"Content-Type": "application/rss+xml"}, self.body


def test_daemon_serves_metrics_matching_its_runs_and_records_takedowns(
    tmp_path: Path, pg_url: str
) -> None:
    site = FixtureServer(write_site(tmp_path / "site")).start()
    html = {"Content-Type": "text/html; charset=utf-8"}
    # The first run stores three stories; the second finds one gone and one sent to its section.
    for path, after in (
        ("/news/lights.html", (410, {}, b"gone")),
        ("/news/market.html", (301, {"Location": "/news/"}, b"")),
    ):
        site.add_route(path, Answers((200, html, site.read_file(path)), after))
    feed = HeldFeed(site.read_file("/feed.xml"))
    site.add_route("/feed.xml", feed)
    port = free_port()
    config = write_config(
        tmp_path / "newsarchive.toml",
        pg_url,
        [{"name": "kestrel", "feeds": [f"{site.url}/feed.xml"], "schedule": "@every 2s"}],
        scrapy={"DOWNLOAD_TIMEOUT": 60},  # the held feed must not time out
    )
    with config.open("a", encoding="utf-8") as f:
        f.write(f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
        # Known stories are re-fetched on every run, however soon it follows the last
        # (a forked crawl starts within a second): that is how a takedown is seen.
        f.write('\n[[recrawl]]\nyounger_than = "1d"\nevery = "0s"\n')
    engine = create_archive_engine(pg_url)
    try:
        with DaemonProcess(config, tmp_path / "daemon.log") as daemon:
            # While the second run is held on its feed, no run can finish: what /metrics
            # says and what the runs table holds are read at one and the same state.
            assert feed.second_run.wait(90), daemon.log
            wait_for(lambda: len(_events(engine)) == 2, 30, "the two takedowns")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                samples = parse(r.read().decode())
            runs = recent_runs(engine)
            statuses, warc_bytes = _figures(engine)
            feed.release.set()
            daemon.signal(signal.SIGTERM)
            assert daemon.wait(60) == 0
        with read_session(engine) as session:
            export = {r["url"].rsplit("/", 1)[1]: r for r in iter_articles(session)}
    finally:
        feed.release.set()
        engine.dispose()
        site.stop()

    finished = [r for r in runs if r.status != RunStatus.RUNNING]
    assert [r.status for r in finished] == [RunStatus.OK] and finished[0].new == 3
    assert value(samples, "newsarchive_crawl_runs_total", source="kestrel", status="ok") == 1
    for column, outcome in (("new", "new"), ("unchanged", "unchanged"), ("updated", "updated")):
        counted = value(samples, "newsarchive_articles_total", source="kestrel", outcome=outcome)
        assert counted == getattr(finished[0], column), outcome
    assert statuses["200"] >= 4  # the feed and three stories
    for code, count in statuses.items():
        assert value(samples, "newsarchive_http_responses_total", source="kestrel", code=code) == (
            count
        )
    assert value(samples, "newsarchive_warc_bytes_total", source="kestrel") == warc_bytes > 0
    # Two of the three stories have a byline.
    ratio = value(samples, "newsarchive_field_coverage_ratio", source="kestrel", field="authors")
    assert ratio == pytest.approx(2 / 3, abs=0.001)
    assert value(samples, "newsarchive_source_health", source="kestrel", check="failing") == 0
    last_ok = value(samples, "newsarchive_last_success_timestamp_seconds", source="kestrel")
    assert last_ok == pytest.approx(finished[0].finished_at.timestamp())

    # The takedowns, as export and history show them.
    assert export["market.html"]["removed_at"] is not None  # redirected to its section
    assert export["lights.html"]["removed_at"] is not None  # 410
    assert export["ferry.html"]["removed_at"] is None
    history = run_cli("history", str(export["lights.html"]["id"]), config=config)
    assert history.returncode == 0, history.stderr
    assert "removed" in history.stdout and "HTTP 410" in history.stdout


def _events(engine: Engine) -> list[tuple[str, str]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(Article.url, ArticleEvent.kind)
            .join(Article, Article.id == ArticleEvent.article_id)
            .order_by(ArticleEvent.id)
        )
        return [(url.rsplit("/", 1)[1], kind) for url, kind in rows]


def _figures(engine: Engine) -> tuple[dict[str, int], int]:
    """HTTP status counts and WARC bytes summed over the finished runs."""
    statuses: dict[str, int] = {}
    total = 0
    with read_session(engine) as session:
        rows = session.execute(
            select(CrawlRun.http_statuses, CrawlRun.warc_bytes).where(
                CrawlRun.status != RunStatus.RUNNING
            )
        )
        for http, warc in rows:
            for code, count in (http or {}).items():
                statuses[code] = statuses.get(code, 0) + count
            total += warc
    return statuses, total


def test_the_example_alert_rules_use_metrics_that_exist(archive: Engine) -> None:
    rules = (Path(__file__).parents[2] / "deploy" / "newsarchive-alerts.yml").read_text()
    used = set(re.findall(r"\bnewsarchive_[a-z_]+", rules))
    run = {"started_at": datetime(2026, 12, 1, tzinfo=UTC), "new": 1, "http_statuses": {"200": 2}}
    add_runs(archive, "harbour", [run])
    config = Config(sources=[SourceConfig(name="harbour", feeds=["https://h.example/feed"])])
    served = {
        name
        for name, _ in parse(generate_latest(metrics_registry(archive, lambda: config)).decode())
    }
    # The queue depth is served only by a cluster.
    assert used - served == {"newsarchive_queue_depth"}
