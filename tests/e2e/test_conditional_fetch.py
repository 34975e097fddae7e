"""Second crawls fetch only what changed: conditional requests, 304s, and the recrawl policy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsarchive.storage import create_archive_engine
from newsarchive.storage.runs import recent_runs
from tests.cli_process import invoke_cli, run_cli
from tests.fixture_server import FixtureServer

SCRAPY = """
[scrapy]
AUTOTHROTTLE_ENABLED = false
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 3
RETRY_BACKOFF_BASE = 0.1
# In-process extraction: worker processes cost each of these small crawls seconds.
NEWSARCHIVE_EXTRACT_PROCESSES = 0
"""
FEED = "/feeds/rss1.rdf"
# The five stories the RSS 1.0 feed lists.
STORIES = [
    "/news/2024/05/rowing-club-centenary.html",
    "/news/2024/05/harbour-bridge-reopens.html",
    "/intl/ja-shiftjis-header.html",
    "/intl/ko-euckr-meta.html",
    "/intl/zh-tw-big5-meta.html",
]
ALWAYS = '[[recrawl]]\nyounger_than = "7d"\nevery = "0s"\n'


# A user journey runs once, on SQLite, the embedded default. Each dialect's own code (locks,
# upserts, search, clusters) is unit-tested on both databases in tests/storage and tests/crawler;
# running every journey twice only doubled the suite's time.
@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def write_config(tmp_path: Path, site: FixtureServer, database_url: str, extra: str = "") -> Path:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n{SCRAPY}\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        f"{extra}\n"
        f'[[sources]]\nname = "harbour"\nfeeds = ["{site.url}{FEED}"]\n',
        encoding="utf-8",
    )
    return config


def crawl(config: Path) -> dict:
    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    (summary,) = json.loads(result.stdout)
    return summary


def export_all(config: Path) -> str:
    result = invoke_cli("export", "--all-versions", config=config)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_unchanged_site_answers_304_and_nothing_is_written(
    tmp_path: Path, fresh_site: FixtureServer, database_url: str
) -> None:
    # Every known story is due on every crawl, so the second one asks about each.
    config = write_config(tmp_path, fresh_site, database_url, ALWAYS)
    first = crawl(config)
    assert (first["new"], first["not_modified"], first["errors"]) == (5, 0, 0)
    before = export_all(config)
    first_requests = {r.url_path: r for r in fresh_site.requests}
    assert "If-None-Match" not in first_requests[FEED].headers

    fresh_site.reset()
    second = crawl(config)
    counts = {k: second[k] for k in ("new", "updated", "unchanged", "duplicates", "errors")}
    assert counts == {"new": 0, "updated": 0, "unchanged": 0, "duplicates": 0, "errors": 0}
    assert (second["not_modified"], second["skipped"]) == (6, 0)

    for path in [FEED, *STORIES]:
        (request,) = fresh_site.requests_for(path)
        etag = request.headers.get("If-None-Match")
        assert etag and etag.startswith('"'), f"{path}: no If-None-Match"
        assert request.headers.get("If-Modified-Since"), path
        assert request.status == 304, path
    # robots.txt is fetched in full: a 304 there would leave the crawl without rules.
    assert [r.status for r in fresh_site.requests_for("/robots.txt")] == [200]

    assert export_all(config) == before
    engine = create_archive_engine(database_url)
    latest, _ = recent_runs(engine)
    engine.dispose()
    assert (latest.not_modified, latest.skipped, latest.new, latest.unchanged) == (6, 0, 0, 0)
    assert latest.pages == second["pages"] == 1  # robots.txt


@pytest.mark.parametrize(
    ("policy", "skipped", "not_modified"),
    [
        pytest.param("", 5, 0, id="default-policy-not-due"),
        pytest.param(
            '[[sources.recrawl]]\nyounger_than = "1d"\nevery = "0s"\n', 0, 5, id="source-override"
        ),
    ],
)
def test_known_stories_are_refetched_only_when_due(
    tmp_path: Path,
    fresh_site: FixtureServer,
    sqlite_url: str,
    policy: str,
    skipped: int,
    not_modified: int,
) -> None:
    config = write_config(tmp_path, fresh_site, sqlite_url)
    config.write_text(config.read_text(encoding="utf-8") + policy, encoding="utf-8")
    assert crawl(config)["new"] == 5
    # The feed changes (so it is parsed again) but lists the same five stories.
    fresh_site.set_file(FEED, fresh_site.read_file(FEED) + b"\n<!-- refreshed -->\n")
    fresh_site.reset()

    second = crawl(config)
    assert (second["skipped"], second["not_modified"], second["new"]) == (
        skipped,
        not_modified,
        0,
    )
    assert fresh_site.requests_for(FEED)[0].status == 200
    story_requests = [r for r in fresh_site.requests if r.url_path in STORIES]
    assert len(story_requests) == not_modified
    assert all(r.status == 304 for r in story_requests)


def test_changed_page_is_fetched_in_full_and_its_new_validators_kept(
    tmp_path: Path, fresh_site: FixtureServer, sqlite_url: str
) -> None:
    config = write_config(tmp_path, fresh_site, sqlite_url, ALWAYS)
    crawl(config)
    page = STORIES[1]
    html = fresh_site.read_file(page).decode("utf-8")
    # Only the page chrome changes: the comment count under the story.
    changed = re.sub(r"\d+ comments", "99 comments", html)
    assert changed != html
    fresh_site.set_file(page, changed.encode("utf-8"))
    fresh_site.reset()
    second = crawl(config)
    # New validators, same article text: fetched in full, stored as unchanged.
    assert (second["unchanged"], second["updated"], second["not_modified"]) == (1, 0, 5)
    fresh_site.reset()
    third = crawl(config)
    assert (third["unchanged"], third["not_modified"]) == (0, 6)
    (request,) = fresh_site.requests_for(page)
    assert request.status == 304
