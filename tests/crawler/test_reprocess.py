"""``reprocess``: archived responses through the same per-page path as a crawl."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from newsarchive.config import parse_config
from newsarchive.crawler.extraction import EXTRACTOR_VERSION, block_hash
from newsarchive.crawler.pages import content_hash
from newsarchive.crawler.reprocess import reprocess
from newsarchive.storage import CrawlStore, FetchedArticle
from newsarchive.storage.engine import read_session
from newsarchive.storage.models import ArticleVersion
from tests.cli_process import NEWSARCHIVE

URL = "http://127.0.0.1/news/2024/05/story.html"
FURNITURE = "Subscribe to the Harbour Gazette newsletter for the week's stories."
STORY = (
    "<html><head><title>Quay repairs</title></head><body><article><h1>Quay repairs</h1>"
    + "".join(
        f"<p>Repairs to section {n} of the old quay wall began on Monday and will take "
        f"{n + 5} weeks, the harbour master told the council's works committee.</p>"
        for n in range(1, 5)
    )
    + f"<p>{FURNITURE}</p></article></body></html>"
)


def _archive(
    store: CrawlStore,
    html: str,
    text: str,
    version: str | None = "2020-01-01",
    url: str = URL,
) -> None:
    store.save_article(
        FetchedArticle(
            source="harbour",
            url=url,
            canonical_url=url,
            text=text,
            content_hash=content_hash(text),
            raw_html=html.encode(),
            extractor_version=version,
        )
    )


def _config(database_url: str, **scrapy: object):  # type: ignore[no-untyped-def]
    return parse_config({"database": {"url": database_url}, "scrapy": scrapy})


def _texts(store: CrawlStore) -> list[str]:
    with read_session(store.engine) as session:
        return list(session.scalars(select(ArticleVersion.text).order_by(ArticleVersion.version)))


def test_a_response_that_holds_no_story_now_is_left_as_it_is(
    store: CrawlStore, database_url: str
) -> None:
    _archive(store, "<html><body><p>Office closed today.</p></body></html>", "old text")
    summary = reprocess(_config(database_url))
    assert (summary.examined, summary.empty) == (1, 1)
    assert _texts(store) == ["old text"]


def test_the_configured_template_minimum_is_applied(store: CrawlStore, database_url: str) -> None:
    _archive(store, STORY, "old text")
    store.record_template("harbour", {block_hash(FURNITURE): 3})

    summary = reprocess(_config(database_url, NEWSARCHIVE_TEMPLATE_MIN_PAGES=3))

    assert summary.outcomes["updated"] == 1
    latest = _texts(store)[-1]
    assert "section 4 of the old quay wall" in latest
    assert FURNITURE not in latest


def test_only_what_an_older_extractor_produced_is_re_extracted(
    store: CrawlStore, database_url: str
) -> None:
    _archive(store, STORY, "old text", version=EXTRACTOR_VERSION)
    config = _config(database_url)

    skipped = reprocess(config)
    assert (skipped.examined, skipped.current) == (1, 1)
    assert _texts(store) == ["old text"]

    forced = reprocess(config, everything=True)
    assert forced.outcomes["updated"] == 1
    assert len(_texts(store)) == 2


def _three_stories(store: CrawlStore) -> None:
    for n in range(3):
        _archive(store, STORY.replace("Quay", f"Quay {n}"), f"old {n}", url=f"{URL}?n={n}")


def test_progress_is_reported_after_each_batch_and_at_the_end(
    store: CrawlStore, database_url: str
) -> None:
    _three_stories(store)
    seen: list[tuple[int, int]] = []
    summary = reprocess(
        _config(database_url, NEWSARCHIVE_STORE_BATCH=1),
        processes=1,
        progress=lambda s: seen.append((s.examined, s.outcomes["updated"])),
    )
    assert summary.outcomes["updated"] == 3
    assert seen == sorted(seen) and len(seen) >= 3
    assert seen[-1] == (3, 3)


def test_the_command_shows_its_progress_on_a_terminal_and_prints_json(
    sqlite_url: str, migrate: Callable[[str], None], tmp_path: Path
) -> None:
    migrate(sqlite_url)
    with CrawlStore(sqlite_url) as store:
        _three_stories(store)
    config = tmp_path / "newsarchive.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    done = subprocess.run(
        [NEWSARCHIVE, "--config", str(config), "reprocess", "--processes", "1"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**env, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0
    assert "3 examined: 0 new, 3 updated, 0 unchanged" in shown.decode(errors="replace")
    assert json.loads(done.stdout)["updated"] == 3
