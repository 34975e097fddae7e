"""The daemon as an operator runs it: a subprocess, real crawls of the fixture site, signals.

Each test runs on PostgreSQL (see the database_url fixture below). Sources use
"@every 2s" and a small feed so crawls take a couple of seconds. A test that stops a crawl part-way
holds one story's answer back (:class:`Gate`) so the crawl is sure to be
running, with the other stories stored, when the signal or time limit comes.
"""

from __future__ import annotations

import itertools
import json
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.cli_process import invoke_cli
from tests.scheduler.daemon_harness import (
    SHUTDOWN_STARTED,
    TIMEOUT_STARTED,
    DaemonProcess,
    Gate,
    archive_engine,
    closed_port_url,
    crawl_pids,
    process_gone,
    wait_for,
    write_config,
)

# rss1.rdf lists five stories, all fetchable: a short crawl with a known result.
FEED = "/feeds/rss1.rdf"
FEED_PAGES = (
    "/news/2024/05/rowing-club-centenary.html",
    "/news/2024/05/harbour-bridge-reopens.html",
    "/intl/ja-shiftjis-header.html",
    "/intl/ko-euckr-meta.html",
    "/intl/zh-tw-big5-meta.html",
)


FEED_STORIES = len(FEED_PAGES)
# The story a Gate holds back; the other four are fetched while it waits.
HELD = "/news/2024/05/rowing-club-centenary.html"
# Longer than any test holds the gate: the held request must not time out.
HOLD_SCRAPY = {"DOWNLOAD_TIMEOUT": 60}


# A user journey runs once, on PostgreSQL, the production database. Each dialect's own code
# (locks, upserts, search, clusters) is unit-tested on both databases in tests/storage and
# tests/crawler; running every journey twice only doubled the suite's time.
@pytest.fixture
def database_url(pg_url: str) -> str:
    return pg_url


def runs_of(database_url: str, source: str) -> list:
    """The source's runs, oldest first; none while the daemon is still creating the schema."""
    from sqlalchemy.exc import DBAPIError

    from newsarchive.storage.runs import recent_runs

    with archive_engine(database_url) as engine:
        try:
            return list(reversed(recent_runs(engine, source=source, limit=100)))
        except DBAPIError:  # no table, or a migration half-way
            return []


def statuses(database_url: str, source: str) -> list[str]:
    return [r.status for r in runs_of(database_url, source)]


def stored_articles(database_url: str) -> set[str]:
    """Canonical URLs of the stored articles (polled while the daemon writes)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with archive_engine(database_url) as engine, engine.connect() as conn:
        try:
            return set(conn.execute(text("SELECT canonical_url FROM articles")).scalars())
        except DBAPIError:
            return set()


def cli_runs(config: Path) -> list[dict]:
    result = invoke_cli("runs", "--format", "jsonl", "--limit", "100", config=config)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def exported_urls(config: Path) -> Counter[str]:
    result = invoke_cli("export", config=config)
    assert result.returncode == 0, result.stderr
    return Counter(json.loads(line)["canonical_url"] for line in result.stdout.splitlines())


def test_sources_crawl_repeatedly_and_a_dead_site_fails_alone(
    database_url: str, fresh_site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "newsarchive.toml",
        database_url,
        [
            {"name": "harbour", "feeds": [fresh_site.url_for(FEED)], "schedule": "@every 2s"},
            {"name": "gone", "feeds": [closed_port_url()], "schedule": "@every 2s"},
        ],
        daemon={"shutdown_grace": "10s"},
    )
    with DaemonProcess(config, tmp_path / "daemon.log") as daemon:
        wait_for(
            lambda: (
                statuses(database_url, "harbour").count("ok") >= 2
                and statuses(database_url, "gone").count("failed") >= 2
            ),
            60,
            "two ok runs of harbour and two failed runs of gone",
        )
        # Stop scheduling, let the crawls under way end, then stop: a crawl cut
        # short by SIGTERM is another test's subject.
        write_config(config, database_url, [], daemon={"shutdown_grace": "10s"})
        daemon.signal(signal.SIGHUP)
        daemon.wait_for_log("[gone] source removed from the config")
        wait_for(lambda: not crawl_pids(daemon.proc.pid), 30, "the last crawls to end")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0, daemon.log
    assert "running crawl(s) to finish" not in daemon.log

    runs = cli_runs(config)
    by_source: dict[str, list[dict]] = {}
    for run in runs:
        by_source.setdefault(run["source"], []).append(run)
    assert by_source.keys() == {"harbour", "gone"}
    assert {r["status"] for r in by_source["harbour"]} == {"ok"}
    assert {r["status"] for r in by_source["gone"]} == {"failed"}
    assert all("no page could be fetched" in r["error"] for r in by_source["gone"])
    assert all(r["finished_at"] for r in runs), "no run is left running after a clean stop"
    # One crawl per source at a time: a source's runs never overlap.
    for source_runs in by_source.values():
        ordered = sorted(source_runs, key=lambda r: r["started_at"])
        for earlier, later in itertools.pairwise(ordered):
            assert earlier["finished_at"] <= later["started_at"]
    assert fresh_site.count(FEED) >= 2
    urls = exported_urls(config)
    assert len(urls) == FEED_STORIES and set(urls.values()) == {1}
    assert "[harbour] crawl ok (run" in daemon.log
    assert "[gone] crawl failed (run" in daemon.log


def test_sigterm_during_a_crawl_stops_it_cleanly(
    database_url: str, fresh_site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "newsarchive.toml",
        database_url,
        [{"name": "harbour", "feeds": [fresh_site.url_for(FEED)], "schedule": "@every 1h"}],
        daemon={"shutdown_grace": "15s"},
        scrapy=HOLD_SCRAPY,
    )
    others = {fresh_site.url_for(p) for p in FEED_PAGES if p != HELD}
    with (
        Gate(fresh_site, HELD) as gate,
        DaemonProcess(config, tmp_path / "daemon.log", log_level="DEBUG") as daemon,
    ):
        wait_for(gate.requested.is_set, 30, "the held story to be requested")
        wait_for(lambda: stored_articles(database_url) == others, 30, "the other stories")
        daemon.signal(signal.SIGTERM)
        daemon.wait_for_log(SHUTDOWN_STARTED)
        gate.open()  # the story in flight is answered, and nothing else is requested
        assert daemon.wait(timeout=15 + 10) == 0, daemon.log

    (run,) = runs_of(database_url, "harbour")
    assert run.status == "interrupted"
    assert run.finished_at is not None
    # A graceful stop finishes what is in flight: the held story is stored too, once.
    assert exported_urls(config) == Counter(others | {fresh_site.url_for(HELD)})
    assert fresh_site.count(HELD) == 1


def test_a_crawl_over_its_time_limit_is_stopped_as_timeout(
    database_url: str, fresh_site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "newsarchive.toml",
        database_url,
        [{"name": "harbour", "feeds": [fresh_site.url_for(FEED)], "schedule": "@every 1h"}],
        daemon={"crawl_time_limit": "3s", "shutdown_grace": "10s"},
        scrapy=HOLD_SCRAPY,
    )
    others = {fresh_site.url_for(p) for p in FEED_PAGES if p != HELD}
    with (
        Gate(fresh_site, HELD) as gate,
        DaemonProcess(config, tmp_path / "daemon.log", log_level="DEBUG") as daemon,
    ):
        wait_for(lambda: stored_articles(database_url) == others, 30, "the other stories")
        # The held story keeps the crawl going until its time limit ends it.
        daemon.wait_for_log(TIMEOUT_STARTED)
        gate.open()
        run = wait_for(
            lambda: [r for r in runs_of(database_url, "harbour") if r.status != "running"],
            30,
            "the crawl to end",
        )[0]
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0, daemon.log

    assert run.status == "timeout", daemon.log
    assert run.finished_at is not None
    # What was stored before the limit stays stored, once; so does the story in flight.
    assert exported_urls(config) == Counter(others | {fresh_site.url_for(HELD)})


def test_restart_after_kill_marks_the_stale_run_and_loses_nothing(
    database_url: str, fresh_site, tmp_path: Path
) -> None:
    sources = [{"name": "harbour", "feeds": [fresh_site.url_for(FEED)], "schedule": "@every 2s"}]
    held = write_config(tmp_path / "held.toml", database_url, sources, scrapy=HOLD_SCRAPY)
    others = {fresh_site.url_for(p) for p in FEED_PAGES if p != HELD}
    with Gate(fresh_site, HELD) as gate, DaemonProcess(held, tmp_path / "daemon.log") as daemon:
        wait_for(gate.requested.is_set, 30, "the held story to be requested")
        wait_for(lambda: stored_articles(database_url) == others, 30, "the other stories")
        # The whole service dies at once (OOM killer, power cut, SIGKILL of the cgroup).
        daemon.kill_all()
    fresh_site.remove_route(HELD)
    assert statuses(database_url, "harbour") == ["running"]
    assert stored_articles(database_url) == others

    fast = write_config(tmp_path / "fast.toml", database_url, sources)
    with DaemonProcess(fast, tmp_path / "daemon.log") as daemon:
        wait_for(
            lambda: statuses(database_url, "harbour")[:2] == ["interrupted", "ok"],
            60,
            "the stale run marked interrupted and a completed crawl",
        )
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0, daemon.log

    stale = runs_of(database_url, "harbour")[0]
    assert stale.finished_at is not None and "ended without finishing" in stale.error
    assert "left running by a killed crawl" in daemon.log
    # The stories stored before the kill are kept, and the next crawl adds the rest.
    assert exported_urls(fast) == Counter(others | {fresh_site.url_for(HELD)})


def test_sighup_refuses_a_bad_config_and_adds_a_new_source(
    database_url: str, fresh_site, tmp_path: Path
) -> None:
    harbour = {"name": "harbour", "feeds": [fresh_site.url_for(FEED)], "schedule": "@every 2s"}
    path = tmp_path / "newsarchive.toml"
    write_config(path, database_url, [harbour])
    with DaemonProcess(path, tmp_path / "daemon.log", "--log-format", "json") as daemon:
        wait_for(lambda: "ok" in statuses(database_url, "harbour"), 30, "a harbour crawl")

        path.write_text(path.read_text() + "\n[[sources]]\nname = 'Bad Name!'\n")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "config refused" in daemon.log, 10, "the bad config to be refused")
        done = statuses(database_url, "harbour").count("ok")
        wait_for(
            lambda: statuses(database_url, "harbour").count("ok") > done,
            30,
            "harbour to keep crawling under the old config",
        )

        wires = {
            "name": "wires",
            "feeds": [fresh_site.url_for("/feeds/atom.xml")],
            "schedule": "@every 2s",
        }
        write_config(path, database_url, [harbour, wires])
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "ok" in statuses(database_url, "wires"), 30, "the added source's crawl")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0, daemon.log

    assert fresh_site.count("/feeds/atom.xml") >= 1
    events = [json.loads(line) for line in daemon.log.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "reload_refused" for e in events)
    finished = [e for e in events if e.get("event") == "crawl_finished"]
    assert {e["source"] for e in finished} == {"harbour", "wires"}
    assert all({"run_id", "status", "pages", "new", "errors"} <= e.keys() for e in finished)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_killing_only_the_daemon_stops_its_orphaned_crawl(
    database_url: str, fresh_site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "newsarchive.toml",
        database_url,
        [{"name": "harbour", "feeds": [fresh_site.url_for(FEED)], "schedule": "@every 1h"}],
        scrapy=HOLD_SCRAPY,
    )
    with (
        Gate(fresh_site, HELD) as gate,
        DaemonProcess(config, tmp_path / "daemon.log", log_level="DEBUG") as daemon,
    ):
        wait_for(gate.requested.is_set, 30, "the held story to be requested")
        (crawl,) = crawl_pids(daemon.proc.pid)
        daemon.proc.kill()
        daemon.proc.wait(timeout=10)
        # The crawl notices the daemon is gone and stops as on SIGTERM (it logs to
        # the same file, which it still holds open).
        daemon.wait_for_log(SHUTDOWN_STARTED)
        gate.open()
        wait_for(
            lambda: statuses(database_url, "harbour") == ["interrupted"],
            30,
            "the orphaned crawl to record its run as interrupted",
        )
        wait_for(lambda: process_gone(crawl), 30, "the orphaned crawl to exit")
