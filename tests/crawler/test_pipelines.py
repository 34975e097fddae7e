"""The item pipelines, built with ``from_crawler`` and run on a real archive database."""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys

import pytest
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from newsarchive.crawler.extraction import EXTRACTOR_VERSION
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.pages import FetchedPage, for_extraction
from newsarchive.crawler.pipelines.clean import CleanPipeline
from newsarchive.crawler.pipelines.dedupe import DedupePipeline
from newsarchive.crawler.pipelines.store import StoreFailed, StorePipeline
from newsarchive.storage import CrawlStore, StorageError
from newsarchive.storage.engine import read_session
from newsarchive.storage.models import Article, ArticleVersion
from newsarchive.storage.warc import WarcLocation
from tests.crawler.components import fixture_page, make_crawler, run

STORY = "/news/2024/05/harbour-bridge-reopens.html"
URL = f"http://127.0.0.1{STORY}"


def _page(path: str = STORY, url: str = URL, **kwargs: object) -> ArticleItem:
    return ArticleItem(FetchedPage(source="harbour", url=url, body=fixture_page(path), **kwargs))


class Pipelines:
    """clean → dedupe → store of one crawl, as Scrapy would run them."""

    def __init__(self, store: CrawlStore | None, **settings: object) -> None:
        self.crawler = make_crawler(store, run_id=None, settings=settings)
        self.clean = CleanPipeline.from_crawler(self.crawler)
        self.dedupe = DedupePipeline.from_crawler(self.crawler)
        self.store = StorePipeline.from_crawler(self.crawler) if store else None
        self.clean.spider_opened()

    def process(self, item: ArticleItem) -> ArticleItem:
        item = run(self.clean.process_item(item))
        item = self.dedupe.process_item(item)
        if self.store:
            item = run(self.store.process_item(item))
        # As Scrapy does once every pipeline passed the item: the clean pipeline learns then.
        self.crawler.signals.send_catch_log(
            signals.item_scraped, item=item, response=None, spider=self.crawler.spider
        )
        return item

    def close(self) -> None:
        self.clean.spider_closed()
        if self.store:
            self.store.close_spider()

    def stat(self, key: str) -> int:
        return int(self.crawler.stats.get_value(key, 0))


def _versions(store: CrawlStore) -> list[tuple[str, str, str | None, str | None]]:
    with read_session(store.engine) as session:
        rows = session.execute(
            select(
                Article.canonical_url,
                ArticleVersion.title,
                ArticleVersion.extractor_version,
                ArticleVersion.text,
            )
            .join(ArticleVersion, ArticleVersion.article_id == Article.id)
            .order_by(ArticleVersion.id)
        ).all()
    return [tuple(row) for row in rows]


def test_a_story_goes_through_clean_dedupe_store_into_the_archive(store: CrawlStore) -> None:
    pipelines = Pipelines(store)
    item = pipelines.process(_page(url=URL + "?utm_source=feed", listed=True))
    pipelines.close()

    assert item.identity is not None and item.identity.canonical_url == URL
    (row,) = _versions(store)
    assert row[0] == URL
    assert row[1] == "Swing bridge over Kestrel Harbour reopens after eight months of repairs"
    assert row[2] == EXTRACTOR_VERSION
    assert "eight months" in row[3]
    assert pipelines.stat("newsarchive/new") == 1


def test_a_page_that_is_not_a_story_is_dropped_and_counted(store: CrawlStore) -> None:
    pipelines = Pipelines(store)
    with pytest.raises(DropItem, match="not an article"):
        pipelines.process(_page("/tag/harbour.html", url="http://127.0.0.1/tag/harbour.html"))
    pipelines.close()
    assert _versions(store) == []
    assert pipelines.stat("newsarchive/not_article") == 1


def test_the_same_story_twice_in_one_crawl_is_stored_once(store: CrawlStore) -> None:
    pipelines = Pipelines(store)
    pipelines.process(_page(listed=True))
    with pytest.raises(DropItem, match="already seen in this crawl"):
        pipelines.process(_page(url=URL + "#comments", listed=True))
    pipelines.close()
    assert len(_versions(store)) == 1
    assert pipelines.stat("newsarchive/duplicates") == 1


def test_a_refused_write_is_a_counted_error_and_the_crawl_goes_on(database_url: str) -> None:
    with CrawlStore(database_url) as unmigrated:  # no tables: every write fails
        pipelines = Pipelines(unmigrated, NEWSARCHIVE_TEMPLATE_LEARNING=False)
        with pytest.raises(StoreFailed, match="store failed"):
            pipelines.process(_page(listed=True))
        pipelines.close()
    # A store error, not a page error: the page was fine, the archive lost it.
    assert pipelines.stat("newsarchive/store_errors") == 1
    assert pipelines.stat("newsarchive/errors") == 0


def test_lines_recurring_on_the_sources_stories_are_learned_and_stripped(
    store: CrawlStore,
) -> None:
    furniture = "Subscribe to the Harbour Gazette newsletter for the week's stories."
    body = (
        "<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
        "<p>{text}</p><p>{furniture}</p></article></body></html>"
    )

    def story(n: int) -> ArticleItem:
        text = f"Story number {n} tells of a different harbour event in detail. " * 6
        html = body.format(n=n, text=text, furniture=furniture).encode()
        return ArticleItem(
            FetchedPage(source="harbour", url=f"http://127.0.0.1/s/{n}", body=html, listed=True)
        )

    pipelines = Pipelines(store, NEWSARCHIVE_TEMPLATE_MIN_PAGES=3)
    texts = [pipelines.process(story(n)).extraction.text for n in range(5)]  # type: ignore[union-attr]
    pipelines.close()

    assert [furniture in t for t in texts] == [True, True, True, False, False]
    learned = store.template("harbour")
    assert max(learned.values()) == 5  # the furniture line, counted on all five stories


def test_without_a_crawl_context_the_components_switch_off() -> None:
    crawler = get_crawler()
    for component in (CleanPipeline, StorePipeline):
        with pytest.raises(NotConfigured):
            component.from_crawler(crawler)


def _furnished_story(n: int, furniture: str) -> ArticleItem:
    text = f"Story number {n} tells of a different harbour event in detail. " * 6
    html = (
        f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
        f"<p>{text}</p><p>{furniture}</p></article></body></html>"
    )
    return ArticleItem(
        FetchedPage(
            source="harbour", url=f"http://127.0.0.1/s/{n}", body=html.encode(), listed=True
        )
    )


def test_only_stored_stories_count_towards_the_template(
    store: CrawlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A story the archive refused (or a crawl killed before storing it) is not
    # known to the next crawl, which fetches and counts it again: counting it
    # now too would make its paragraphs "template" after a few such crawls.
    furniture = "Subscribe to the Harbour Gazette newsletter for the week's stories."
    save = store.save_article

    def save_or_refuse(batch):  # type: ignore[no-untyped-def]
        return [
            StorageError("database is locked")
            if fetched.url.endswith(("/s/0", "/s/1", "/s/2"))
            else save(fetched)
            for fetched in batch
        ]

    monkeypatch.setattr(store, "save_articles", save_or_refuse)
    pipelines = Pipelines(store, NEWSARCHIVE_TEMPLATE_MIN_PAGES=3)
    texts = []
    for n in range(5):
        with contextlib.suppress(StoreFailed):  # a counted error; the crawl goes on
            texts.append(pipelines.process(_furnished_story(n, furniture)).extraction.text)  # type: ignore[union-attr]
    pipelines.close()

    assert [furniture in t for t in texts] == [True, True]  # two stored: below 3, not stripped
    assert pipelines.stat("newsarchive/template_pages") == 2
    assert max(store.template("harbour").values()) == 2


def test_an_extraction_process_does_not_load_storage() -> None:
    # A crawled page archived in a WARC file, sent as the clean pipeline sends it
    # to an extraction process (a fresh interpreter): storage, SQLAlchemy and
    # warcio would be 25 MB more of that process.
    page = FetchedPage(
        source="harbour",
        url=f"http://127.0.0.1{STORY}",
        body=fixture_page(STORY),
        listed=True,
        warc=WarcLocation("a.warc.gz", 0),
    )
    script = (
        "import pickle, sys\n"
        "from newsarchive.crawler.pages import prepare_story\n"
        "page = pickle.load(sys.stdin.buffer)\n"
        "print(page.url, sorted({m.split('.')[0] for m in sys.modules}"
        " & {'sqlalchemy', 'warcio', 'scrapy'}))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps(for_extraction(page)),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert answer.split() == [page.url, "[]"]
