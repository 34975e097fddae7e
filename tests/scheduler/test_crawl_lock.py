"""One crawl per source across processes, and closing the runs of crawls that died."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive.storage.locks import source_lock
from newsarchive.storage.runs import (
    abandon_run,
    finish_run,
    get_run,
    mark_stale_runs_interrupted,
    sources_with_running_runs,
    start_run,
)
from tests.cli_process import run_cli
from tests.scheduler.daemon_harness import closed_port_url, write_config


def test_source_lock_is_exclusive_per_source(engine) -> None:
    with source_lock(engine, "harbour") as held:
        assert held
        with source_lock(engine, "harbour") as again:
            assert not again
        with source_lock(engine, "city") as other:
            assert other
    with source_lock(engine, "harbour") as after_release:
        assert after_release


def test_stale_running_rows_are_marked_interrupted(engine) -> None:
    stale = start_run(engine, "harbour")
    done = start_run(engine, "harbour")
    finish_run(engine, done, "ok", {"pages": 3})
    other = start_run(engine, "city")
    assert sources_with_running_runs(engine) == ["city", "harbour"]

    assert mark_stale_runs_interrupted(engine, "harbour") == [stale]
    run = get_run(engine, stale)
    assert run is not None and run.status == "interrupted" and run.finished_at is not None
    assert get_run(engine, done).status == "ok"
    assert get_run(engine, other).status == "running"


def test_abandon_run_closes_only_a_running_row(engine) -> None:
    run_id = start_run(engine, "harbour")
    assert abandon_run(engine, run_id, "timeout", "killed after the limit")
    assert not abandon_run(engine, run_id, "failed", "too late")
    run = get_run(engine, run_id)
    assert run.status == "timeout" and run.error == "killed after the limit"


# The journey once, on PostgreSQL, where crawls of one archive run side by side in
# production; each dialect's lock is tested above (test_source_lock_is_exclusive_...).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_crawl_of_a_busy_source_exits_4_and_crawls_nothing(
    database_url: str, engine, fresh_site, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "newsarchive.toml",
        database_url,
        [
            {"name": "harbour", "feeds": [fresh_site.url_for("/feeds/rss1.rdf")]},
            {"name": "gone", "feeds": [closed_port_url()]},
        ],
    )
    stale = start_run(engine, "harbour")  # a crawl killed earlier left this open
    with source_lock(engine, "harbour") as held:  # "another process" is crawling harbour
        assert held
        busy = run_cli("crawl", "--source", "harbour", config=config)
    assert busy.returncode == 4, busy.stderr
    assert "already being crawled by another process, skipped: harbour" in busy.stderr
    assert fresh_site.count("/feeds/rss1.rdf") == 0
    assert get_run(engine, stale).status == "running", "a live crawl's row is left alone"

    crawled = run_cli("crawl", "--source", "harbour", "--format", "json", config=config)
    assert crawled.returncode == 0, crawled.stderr
    assert get_run(engine, stale).status == "interrupted"
    assert "left running by a killed crawl" in crawled.stderr

    down = run_cli("crawl", "--source", "gone", config=config)
    assert down.returncode == 1
    assert "failed" in down.stdout
