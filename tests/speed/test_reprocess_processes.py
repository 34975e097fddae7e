"""``reprocess --processes``: extraction in a pool stores the same rows as in one process."""

from __future__ import annotations

import json
import logging
from concurrent.futures import wait

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from newsarchive.config import Config, parse_config
from newsarchive.crawler import reprocess as reprocess_module
from newsarchive.crawler.pages import content_hash
from newsarchive.crawler.reprocess import reprocess
from newsarchive.storage import CrawlStore, FetchedArticle
from newsarchive.storage.engine import read_session
from newsarchive.storage.models import Article, ArticleVersion

STORIES = 7
# At the first page, wherever the pool is spawned rather than forked too (then a
# real run starts it later than this test has pages).
POOL_AFTER_PAGES = 1
# Stories to a transaction: the run stores several batches, each with pages
# from both processes.
BATCH = 3


def _page(n: int) -> str:
    # Every third story is a wire copy of the one before: which is the original
    # depends on the order stories are stored in.
    topic = n - 1 if n % 3 == 2 else n
    paragraphs = "".join(
        f"<p>Paragraph {p}: the council's works committee heard on Monday that repairs to "
        f"section {topic} of the quay wall will take {topic + p} weeks and cost more.</p>"
        for p in range(5)
    )
    return (
        f"<html><head><title>Quay section {topic}</title></head><body><article>"
        f"<h1>Quay section {topic}</h1>{paragraphs}</article></body></html>"
    )


def _archive(url: str) -> None:
    with CrawlStore(url) as store:
        store.migrate()
        for n in range(STORIES):
            page_url = f"http://127.0.0.1/news/{n}.html"
            store.save_article(
                FetchedArticle(
                    source="harbour",
                    url=page_url,
                    canonical_url=page_url,
                    text=f"old text {n}",
                    content_hash=content_hash(f"old text {n}"),
                    raw_html=_page(n).encode(),
                    extractor_version="2020-01-01",
                )
            )


def _rows(url: str) -> list[tuple]:
    original = aliased(Article)
    with CrawlStore(url) as store, read_session(store.engine) as session:
        stmt = (
            select(
                Article.canonical_url,
                ArticleVersion.version,
                ArticleVersion.title,
                ArticleVersion.text,
                ArticleVersion.extractor_version,
                original.canonical_url,
            )
            .join(ArticleVersion, ArticleVersion.article_id == Article.id)
            .outerjoin(original, original.id == Article.duplicate_of)
            .order_by(Article.canonical_url, ArticleVersion.version)
        )
        return [tuple(row) for row in session.execute(stmt)]


def _config(url: str) -> Config:
    return parse_config({"database": {"url": url}, "scrapy": {"NEWSARCHIVE_STORE_BATCH": BATCH}})


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    folder = tmp_path_factory.mktemp("reprocess")
    urls = {n: f"sqlite:///{folder / f'{n}.db'}" for n in (1, 2)}
    for url in urls.values():
        _archive(url)
    return urls


def test_two_processes_store_the_same_rows_as_one(
    archives: dict[int, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reprocess_module, "POOL_AFTER_PAGES", POOL_AFTER_PAGES)
    # Until its process is up this one extracts every page, and these few pages
    # would all be done by then: wait for it, so that both extract some.
    ready = reprocess_module._Extractor.ready

    def ready_once_started(extractor: reprocess_module._Extractor) -> bool:
        if extractor._warm is not None:
            wait([extractor._warm])
        return ready(extractor)

    monkeypatch.setattr(reprocess_module._Extractor, "ready", ready_once_started)
    before = _rows(archives[1])
    caplog.set_level(logging.INFO, logger="newsarchive.crawler")
    one = reprocess(_config(archives[1]), processes=1)
    assert "extraction process" not in caplog.text
    two = reprocess(_config(archives[2]), processes=2)
    assert "starting 1 extraction process(es)" in caplog.text  # beside this one

    assert one.outcomes == two.outcomes
    assert one.extracted == two.extracted == STORIES
    after = _rows(archives[1])
    assert after != before  # re-extracted: new versions, copies linked
    assert [row for row in after if row[-1] is not None], "no duplicates linked"
    assert _rows(archives[2]) == after


def test_the_command_prints_its_speed(
    archives: dict[int, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from newsarchive.cli import main

    monkeypatch.setenv("NEWSARCHIVE_DATABASE_URL", archives[1])
    assert main(["reprocess", "--processes", "1", "--all"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["examined"], summary["processes"]) == (STORIES, 1)
    assert summary["pages_per_second"] > 0
    with pytest.raises(SystemExit) as refused:
        main(["reprocess", "--processes", "0"])
    assert refused.value.code == 2
