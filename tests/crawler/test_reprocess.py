"""``reprocess``: archived responses through the same per-page path as a crawl."""

from __future__ import annotations

from sqlalchemy import select

from newsarchive.config import parse_config
from newsarchive.crawler.extraction import EXTRACTOR_VERSION, block_hash
from newsarchive.crawler.pages import content_hash
from newsarchive.crawler.reprocess import reprocess
from newsarchive.storage import CrawlStore, FetchedArticle
from newsarchive.storage.engine import read_session
from newsarchive.storage.models import ArticleVersion

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


def _archive(store: CrawlStore, html: str, text: str, version: str | None = "2020-01-01") -> None:
    store.save_article(
        FetchedArticle(
            source="harbour",
            url=URL,
            canonical_url=URL,
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
