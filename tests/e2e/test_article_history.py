"""A story that changes between crawls gets version 2, and `history --diff` shows what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
ROWING = "/news/2024/05/rowing-club-centenary.html"
FESTIVAL = "/intl/zh-tw-big5-meta.html"
ADDED = "Late on Sunday the club announced a second regatta for the autumn."
MARKER = "The oldest competitor was"


# A user journey runs once, on SQLite, the embedded default. Each dialect's own code (locks,
# upserts, search, clusters) is unit-tested on both databases in tests/storage and tests/crawler;
# running every journey twice only doubled the suite's time.
@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def crawl(config: Path) -> dict:
    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    (summary,) = json.loads(result.stdout)
    return summary


def ids(config: Path) -> dict[str, int]:
    result = invoke_cli("export", config=config)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return {r["canonical_url"].split(":", 2)[2].split("/", 1)[1]: r["id"] for r in records}


def test_changed_story_gets_a_version_and_a_readable_diff(
    tmp_path: Path, fresh_site: FixtureServer, database_url: str
) -> None:

    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n{SCRAPY}\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        '[[recrawl]]\nyounger_than = "7d"\nevery = "0s"\n\n'
        f'[[sources]]\nname = "harbour"\nfeeds = ["{fresh_site.url}/feeds/rss1.rdf"]\n',
        encoding="utf-8",
    )
    assert crawl(config)["new"] == 5

    rowing = fresh_site.read_file(ROWING).decode("utf-8")
    assert MARKER in rowing and "84-year-old" in rowing
    rowing = rowing.replace(MARKER, f"{ADDED} {MARKER}", 1).replace("84-year-old", "85-year-old")
    fresh_site.set_file(ROWING, rowing.encode("utf-8"))
    festival = fresh_site.read_file(FESTIVAL).decode("big5")
    assert "為期三天" in festival
    # Every occurrence: the page's description repeats the sentence before the story does.
    fresh_site.set_file(FESTIVAL, festival.replace("為期三天", "為期四天").encode("big5"))

    second = crawl(config)
    assert (second["new"], second["updated"], second["not_modified"]) == (0, 2, 4)

    article = ids(config)
    result = invoke_cli("history", str(article[ROWING.lstrip("/")]), config=config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["version", "fetched_at", "words"]
    assert [line.split()[0] for line in lines[2:]] == ["1", "2"]

    result = invoke_cli("history", str(article[ROWING.lstrip("/")]), "--diff", config=config)
    assert result.returncode == 0, result.stderr
    assert "--- version 1 → 2" in result.stdout
    assert f"{{+{ADDED} +}}{MARKER}" in result.stdout
    assert "[-84-]{+85+}-year-old" in result.stdout

    result = invoke_cli(
        "history", str(article[FESTIVAL.lstrip("/")]), "--diff", "--format", "jsonl", config=config
    )
    assert result.returncode == 0, result.stderr
    v1, v2 = (json.loads(line) for line in result.stdout.splitlines())
    assert (v1["version"], v1["diff"], v2["version"]) == (1, None, 2)
    (changed,) = v2["diff"]
    # Chinese has no spaces: the diff marks the one character that changed.
    assert "為期[-三-]{+四+}天" in changed["text"]

    # A whitespace-only edit of the story's text makes no version 3.
    fresh_site.set_file(ROWING, rowing.replace(f"{ADDED} ", f"{ADDED}   ", 1).encode("utf-8"))
    third = crawl(config)
    assert (third["updated"], third["unchanged"]) == (0, 1)
    result = invoke_cli(
        "history", str(article[ROWING.lstrip("/")]), "--format", "jsonl", config=config
    )
    assert [json.loads(line)["version"] for line in result.stdout.splitlines()] == [1, 2]

    result = invoke_cli("history", "999", config=config)
    assert result.returncode == 1 and "no article with id 999" in result.stderr
