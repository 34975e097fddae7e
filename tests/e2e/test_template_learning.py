"""Template learning through real crawls: a block that recurs on a source's stories is learned,
stored, and stripped from the stories a later crawl fetches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsarchive.crawler.extraction import block_hash
from newsarchive.storage import create_archive_engine
from newsarchive.storage.templates import load_template
from tests.cli_process import invoke_cli, run_cli
from tests.fixture_server import FixtureServer

PROMO = "Get the Quayside Courier briefing in your inbox each morning, free of charge, forever."
SCRAPY = "[scrapy]\nAUTOTHROTTLE_ENABLED = false\nDOWNLOAD_TIMEOUT = 5\nDOWNLOAD_DELAY = 0\n"


# A user journey runs once, on SQLite, the embedded default. Each dialect's own code (locks,
# upserts, search, clusters) is unit-tested on both databases in tests/storage and tests/crawler;
# running every journey twice only doubled the suite's time.
@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def story(i: int) -> str:
    paras = "".join(
        f"<p>Courier story {i}, paragraph {j}: the pilot boat escorted cargo ship number "
        f"{100 + i * 10 + j} into the inner basin after {j + 2} hours at anchor in the roads.</p>"
        for j in range(4)
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Courier story {i}</title><meta property='og:type' content='article'></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Courier story {i}</h1>{paras}"
        f"<p>{PROMO}</p></article><footer>Quayside Courier</footer></body></html>"
    )


def feed(site: FixtureServer, paths: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{site.url}{p}</link></item>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Quayside</title><link>{site.url}/</link>{items}</channel></rss>"
    )


def crawl(tmp_path: Path, site: FixtureServer, database_url: str, feed_path: str) -> dict:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n{SCRAPY}\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        f'[[sources]]\nname = "quayside"\nfeeds = ["{site.url}{feed_path}"]\n',
        encoding="utf-8",
    )
    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    (summary,) = json.loads(result.stdout)
    return summary


def export_texts(tmp_path: Path) -> dict[str, str]:
    result = invoke_cli("export", config=tmp_path / "newsarchive.toml")
    assert result.returncode == 0, result.stderr
    return {
        r["url"].rsplit("/", 1)[-1]: r["text"] for r in map(json.loads, result.stdout.splitlines())
    }


def test_recurring_block_is_learned_stored_and_stripped_next_crawl(
    tmp_path: Path, fresh_site: FixtureServer, database_url: str
) -> None:
    first = [f"/quayside/2024/05/courier-story-{i}.html" for i in range(6)]
    for i, path in enumerate(first):
        fresh_site.set_file(path, story(i), {"Content-Type": "text/html; charset=utf-8"})
    fresh_site.set_file("/quayside/feed-1.xml", feed(fresh_site, first))
    assert crawl(tmp_path, fresh_site, database_url, "/quayside/feed-1.xml")["new"] == 6

    engine = create_archive_engine(database_url)
    learned = load_template(engine, "quayside")
    engine.dispose()
    assert learned[block_hash(PROMO)] == 6
    assert all(learned[h] < 5 for h in learned if h != block_hash(PROMO))

    # A later crawl (another process) starts from what the first one stored.
    new = "/quayside/2024/05/courier-story-9.html"
    fresh_site.set_file(new, story(9), {"Content-Type": "text/html; charset=utf-8"})
    fresh_site.set_file("/quayside/feed-2.xml", feed(fresh_site, [new]))
    assert crawl(tmp_path, fresh_site, database_url, "/quayside/feed-2.xml")["new"] == 1

    texts = export_texts(tmp_path)
    assert "Courier story 9, paragraph 3" in texts["courier-story-9.html"]
    assert PROMO not in texts["courier-story-9.html"]
    # Stored stories keep what they were stored with; the first five had nothing to learn from.
    assert sum(PROMO in texts[f"courier-story-{i}.html"] for i in range(6)) >= 5
