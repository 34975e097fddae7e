"""Storing fetched stories: new, unchanged, new version, exact duplicate; reading them back."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from newsarchive.storage import (
    FetchedArticle,
    Outcome,
    create_archive_engine,
    iter_articles,
    read_session,
    save_article,
    write_session,
)
from newsarchive.storage.articles import raw_html
from newsarchive.storage.models import Article, ArticleVersion


def fetched(url: str, text: str, source: str = "harbour", **kw) -> FetchedArticle:
    return FetchedArticle(
        source=source,
        url=url,
        canonical_url=url,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        title=kw.pop("title", "A title"),
        raw_html=kw.pop("raw_html", f"<html><p>{text}</p></html>".encode()),
        **kw,
    )


def store(engine, item: FetchedArticle) -> Outcome:
    with write_session(engine) as session:
        return save_article(session, item)


def test_outcomes_and_versions(engine) -> None:
    a = "http://example.test/news/a.html"
    assert store(engine, fetched(a, "First text of story A.")) is Outcome.NEW
    assert store(engine, fetched(a, "First text of story A.")) is Outcome.UNCHANGED
    assert store(engine, fetched(a, "Second, longer text of story A.")) is Outcome.UPDATED
    assert (
        store(
            engine,
            fetched("http://other.test/copy", "Second, longer text of story A.", source="wire"),
        )
        is Outcome.DUPLICATE
    )

    with read_session(engine) as session:
        latest = list(iter_articles(session))
        every = list(iter_articles(session, all_versions=True))
    assert [(r["url"], r["version"], r["duplicate_of"]) for r in latest] == [
        (a, 2, None),
        ("http://other.test/copy", 1, latest[0]["id"]),
    ]
    assert [r["text"] for r in every if r["url"] == a] == [
        "First text of story A.",
        "Second, longer text of story A.",
    ]
    assert latest[1]["source"] == "wire"


def test_published_at_round_trips_timezone_aware(engine) -> None:
    published = datetime(2024, 5, 3, 9, 30, tzinfo=UTC) + timedelta(hours=0)
    store(
        engine,
        fetched(
            "http://example.test/t",
            "Timed story.",
            published_at=published,
            authors=["Jane Doe", "李明"],
        ),
    )
    with read_session(engine) as session:
        (row,) = iter_articles(session)
    assert row["published_at"] == published and row["published_at"].tzinfo is not None
    assert row["authors"] == ["Jane Doe", "李明"]


def test_raw_html_is_kept_compressed_and_byte_exact(engine) -> None:
    body = "<html><meta charset=gbk><p>港口渡轮恢复运营</p></html>".encode("gbk")
    store(engine, fetched("http://example.test/zh", "港口渡轮恢复运营。", raw_html=body))
    with read_session(engine) as session:
        version = session.execute(select(ArticleVersion)).scalar_one()
        assert raw_html(version) == body
        assert len(version.raw_html) > 0


def test_export_filters_by_source_and_since(engine) -> None:
    old = datetime(2024, 1, 1, tzinfo=UTC)
    new = datetime(2024, 6, 1, tzinfo=UTC)
    store(engine, fetched("http://a.test/1", "Old story one.", fetched_at=old))
    store(engine, fetched("http://b.test/2", "New story two.", source="other", fetched_at=new))
    with read_session(engine) as session:
        assert [r["url"] for r in iter_articles(session, source="other")] == ["http://b.test/2"]
        since = datetime(2024, 3, 1, tzinfo=UTC)
        assert [r["url"] for r in iter_articles(session, since=since)] == ["http://b.test/2"]


def test_concurrent_writers_store_one_story_once(database_url: str) -> None:
    """Two writers racing on the same canonical URL: one article, one version."""
    from newsarchive.storage import ensure_schema

    engines = [create_archive_engine(database_url) for _ in range(4)]
    ensure_schema(engines[0])
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(len(engines))

    def worker(engine) -> None:
        barrier.wait()
        outcomes.append(store(engine, fetched("http://race.test/story", "The same text.")))

    threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted([Outcome.NEW] + [Outcome.UNCHANGED] * 3)
    with read_session(engines[0]) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 1
    for e in engines:
        e.dispose()
