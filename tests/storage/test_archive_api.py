"""The scripting API (storage.Archive): filters, versions, duplicates, stats, streaming memory."""

from __future__ import annotations

import gc
import hashlib
import tracemalloc
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from newsarchive.storage import Archive, ArticleRecord, write_session
from newsarchive.storage.models import Article, ArticleVersion, Source
from tests.archive_corpus import build_corpus

# Few rows of long text: the bound holds as well, at a quarter of the per-row ORM work.
STREAM_ROWS = 5_000


def test_articles_filters_versions_and_duplicates(engine) -> None:
    corpus = build_corpus(engine)
    archive = Archive(engine)
    every = list(archive.articles())
    assert [a.id for a in every] == sorted(corpus.values())
    assert all(isinstance(a, ArticleRecord) for a in every)
    xinhua = [a.id for a in archive.articles(source="xinhua")]
    assert xinhua == sorted([corpus["trade_talks"], corpus["metro"], corpus["fishermen"]])
    assert [a.id for a in archive.articles(language="ja")] == [corpus["morning_market"]]
    june = lambda d: datetime(2024, 6, d, tzinfo=UTC)  # noqa: E731
    window = [a.id for a in archive.articles(since=june(4), until=june(6))]  # first_seen 4th, 5th
    assert window == sorted([corpus["mackerel"], corpus["seawall"], corpus["mackerel_copy"]])

    edited = archive.article(corpus["edited"])
    assert edited.version == 2 and "airship" in edited.text
    assert [v.version for v in archive.versions(corpus["edited"])] == [1, 2]
    assert "zeppelin" in archive.versions(corpus["edited"])[0].text

    assert [a.id for a in archive.duplicates(corpus["mackerel"])] == [corpus["mackerel_copy"]]
    assert [a.id for a in archive.duplicates(corpus["mackerel_copy"])] == [corpus["mackerel"]]
    assert archive.duplicates(corpus["bridge"]) == []
    assert [h.article_id for h in archive.search("谈判", limit=1)] == [corpus["trade_talks"]]


def test_stats(engine, tmp_path) -> None:
    build_corpus(engine)
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / "a.warc.gz").write_bytes(b"x" * 1234)
    stats = Archive(engine, tmp_path / "warc").stats()
    assert stats.articles == 9 and stats.versions == 10 and stats.duplicates == 1
    assert round(stats.duplicate_share, 3) == round(1 / 9, 3)
    assert stats.per_source == {"harbour": 4, "nhk": 1, "wire": 1, "xinhua": 3}
    assert stats.per_day["2024-06-04"] == 2 and sum(stats.per_day.values()) == 9
    assert list(stats.per_day) == sorted(stats.per_day)
    assert stats.per_language == {"en": 5, "zh": 3, "ja": 1}
    assert stats.database_bytes and stats.database_bytes > 0
    assert (stats.warc_files, stats.warc_bytes) == (1, 1234)


def _bulk_fill(engine, rows: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    body = "Paragraph of synthetic archive text for the streaming test. " * 30
    with write_session(engine) as session:
        if engine.dialect.name == "postgresql":
            # The search triggers are most of the fill's time and nothing here
            # searches: this session's writes skip them (and the FK checks).
            session.execute(text("SET LOCAL session_replication_role = replica"))
        source_id = session.execute(
            insert(Source).values(name="bulk", created_at=start).returning(Source.id)
        ).scalar_one()
        for first in range(0, rows, 5000):
            batch = range(first, min(first + 5000, rows))
            session.execute(
                insert(Article),
                [
                    {
                        "id": n + 1,
                        "source_id": source_id,
                        "canonical_url": f"http://bulk.test/{n}",
                        "url": f"http://bulk.test/{n}",
                        "version": 1,
                        "content_hash": hashlib.sha256(str(n).encode()).hexdigest(),
                        "first_seen_at": start + timedelta(seconds=n),
                        "last_fetched_at": start + timedelta(seconds=n),
                    }
                    for n in batch
                ],
            )
            session.execute(
                insert(ArticleVersion),
                [
                    {
                        "article_id": n + 1,
                        "version": 1,
                        "url": f"http://bulk.test/{n}",
                        "title": f"Story {n}",
                        "authors": [],
                        "language": "en",
                        "text": f"{n} {body}",
                        "content_hash": hashlib.sha256(str(n).encode()).hexdigest(),
                        "fetched_at": start + timedelta(seconds=n),
                    }
                    for n in batch
                ],
            )


def test_articles_stream_in_flat_memory(engine) -> None:
    _bulk_fill(engine, STREAM_ROWS)
    archive = Archive(engine)
    next(iter(archive.articles(batch_size=10)), None)  # warm caches (compiled SQL, types)
    gc.collect()
    tracemalloc.start()
    try:
        count = 0
        for article in archive.articles(batch_size=200):
            count += 1
            assert article.source == "bulk"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == STREAM_ROWS

    # A list of the rows would hold at least every text (1 byte per ASCII character).
    held_at_least = sum(len(a.text) for a in archive.articles())
    assert peak < held_at_least / 3, f"streaming peaked at {peak:,} B (list: > {held_at_least:,})"
