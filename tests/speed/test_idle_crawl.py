"""An idle crawl (every answer 304) starts no extraction process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_process import run_cli
from tests.fixture_server import FixtureServer

FEED = "/feeds/rss1.rdf"
POOL_STARTED = "starting 1 extraction process(es)"


def test_a_crawl_with_nothing_new_starts_no_extraction_process(
    tmp_path: Path, fresh_site: FixtureServer, sqlite_url: str
) -> None:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n'
        "[scrapy]\nAUTOTHROTTLE_ENABLED = false\nDOWNLOAD_DELAY = 0\n"
        "NEWSARCHIVE_EXTRACT_PROCESSES = 1\n"
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        # Known stories are not due again, so the second crawl asks only about the feed.
        f'[[sources]]\nname = "harbour"\nfeeds = ["{fresh_site.url}{FEED}"]\n',
        encoding="utf-8",
    )
    first = run_cli("crawl", "--format", "json", config=config)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)[0]["new"] == 5
    assert first.stderr.count(POOL_STARTED) == 1, first.stderr

    fresh_site.reset()
    second = run_cli("crawl", "--format", "json", config=config)
    assert second.returncode == 0, second.stderr
    assert [r.status for r in fresh_site.requests_for(FEED)] == [304]
    assert json.loads(second.stdout)[0]["new"] == 0
    assert "extraction process" not in second.stderr, second.stderr
