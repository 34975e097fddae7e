"""An idle crawl (every answer 304) starts no extraction process."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from newsarchive.crawler.processes import extraction_pool
from tests.cli_process import run_cli
from tests.fixture_server import FixtureServer

FEED = "/feeds/rss1.rdf"


def _config(path: Path, database_url: str, site: FixtureServer, processes: int) -> Path:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        "[scrapy]\nAUTOTHROTTLE_ENABLED = false\nDOWNLOAD_DELAY = 0\n"
        f"NEWSARCHIVE_EXTRACT_PROCESSES = {processes}\n"
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        # Known stories are not due again, so the second crawl asks only about the feed.
        f'[[sources]]\nname = "harbour"\nfeeds = ["{site.url}{FEED}"]\n',
        encoding="utf-8",
    )
    return path


def test_a_pool_says_when_it_starts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="newsarchive.crawler.processes")
    extraction_pool(2).shutdown()  # processes start with the first task: none here
    assert "starting 2 extraction process(es)" in caplog.text


def test_a_crawl_with_nothing_new_starts_no_extraction_process(
    tmp_path: Path, fresh_site: FixtureServer, sqlite_url: str
) -> None:
    # The first crawl extracts in its own process: a pool's start-up is not the point.
    first = run_cli(
        "crawl", "--format", "json", config=_config(tmp_path / "a.toml", sqlite_url, fresh_site, 0)
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)[0]["new"] == 5

    fresh_site.reset()
    config = _config(tmp_path / "b.toml", sqlite_url, fresh_site, 1)
    second = run_cli("crawl", "--format", "json", config=config)
    assert second.returncode == 0, second.stderr
    assert [r.status for r in fresh_site.requests_for(FEED)] == [304]
    assert json.loads(second.stdout)[0]["new"] == 0
    assert "INFO" in second.stderr  # the log is there, and says nothing of a pool
    assert "extraction process" not in second.stderr, second.stderr
