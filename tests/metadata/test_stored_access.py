"""Access and date provenance in storage: the paywall-teaser rule, export, search, the CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsarchive.storage import (
    FetchedArticle,
    Outcome,
    create_archive_engine,
    ensure_schema,
    iter_articles,
    read_session,
    save_article,
    write_session,
)
from newsarchive.storage.articles import is_teaser_of
from newsarchive.storage.models import Article, ArticleVersion
from newsarchive.storage.search import search_articles
from tests.cli_process import run_cli

URL = "https://www.harbour.example.com/news/seawall-rebuilt"
FULL = (
    "The harbour authority approved a plan on Monday to rebuild the eastern seawall.\n"
    "Work is expected to begin in the spring and to last two years.\n"
    "Residents who spoke at the hearing said the repairs were long overdue.\n"
    "The council will publish the detailed schedule next month."
)
# What the site serves once the story is behind its paywall: the opening, cut
# mid-paragraph, and the call to subscribe.
TEASER = (
    "The harbour authority approved a plan on Monday to rebuild the eastern seawall.\n"
    "Work is expected to begin in the spring\n"
    "Subscribe to continue reading."
)
T0 = datetime(2024, 5, 12, 8, 0, tzinfo=UTC)
PUBLISHED = datetime(2024, 5, 12, 6, 45, tzinfo=UTC)


def fetch(text: str, at: datetime, url: str = URL, **fields) -> FetchedArticle:
    return FetchedArticle(
        source="harbour",
        url=url,
        canonical_url=url,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        title="Seawall to be rebuilt",
        fetched_at=at,
        **fields,
    )


def archive(url: str):
    engine = create_archive_engine(url)
    ensure_schema(engine)
    return engine


def store(engine, item: FetchedArticle) -> Outcome:
    with write_session(engine) as session:
        return save_article(session, item)


def versions(engine, url: str = URL) -> list[tuple]:
    with read_session(engine) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    ArticleVersion.version,
                    ArticleVersion.text,
                    ArticleVersion.access,
                    ArticleVersion.published_at,
                    ArticleVersion.published_at_source,
                )
                .join(Article, Article.id == ArticleVersion.article_id)
                .where(Article.canonical_url == url)
                .order_by(ArticleVersion.version)
            )
        ]


def test_refetch_never_cuts_a_story_to_its_teaser_nor_undates_it(engine) -> None:
    feed_dated = {"published_at": PUBLISHED, "published_at_source": "feed"}
    assert store(engine, fetch(FULL, T0, access="free", **feed_dated)) is Outcome.NEW

    later = T0 + timedelta(days=2)
    assert store(engine, fetch(TEASER, later, access="paywalled")) is Outcome.UNCHANGED

    assert versions(engine) == [(1, FULL, "free", PUBLISHED, "feed")]
    with read_session(engine) as session:
        article = session.execute(select(Article).where(Article.canonical_url == URL)).scalar_one()
        assert article.last_fetched_at == later

    # A paywalled text that is not the stored story's opening is a change of the story.
    # Fetched on a recrawl, no feed item dates it and neither does the page: the
    # new version keeps the date the feed gave.
    rewritten = "The seawall plan was withdrawn on Thursday.\nSubscribe to continue reading."
    undated = {"published_at": None, "published_at_source": "first-seen"}
    latest = T0 + timedelta(days=3)
    assert store(engine, fetch(rewritten, latest, access="paywalled", **undated)) is (
        Outcome.UPDATED
    )
    assert versions(engine) == [
        (1, FULL, "free", PUBLISHED, "feed"),
        (2, rewritten, "paywalled", PUBLISHED, "feed"),
    ]


def test_export_and_search_carry_and_filter_access(sqlite_url: str) -> None:
    # One plain WHERE clause on both dialects: SQLite is enough here.
    engine = archive(sqlite_url)
    paywalled_url = "https://www.harbour.example.com/news/ferry-fares"
    store(engine, fetch(FULL, T0, access="free", published_at_source="first-seen"))
    store(
        engine,
        fetch(
            "Ferry fares rise on the seawall route.\nSubscribe to continue reading.",
            T0,
            url=paywalled_url,
            access="paywalled",
            published_at=PUBLISHED,
            published_at_source="meta",
        ),
    )
    with read_session(engine) as session:
        records = {r["url"]: r for r in iter_articles(session)}
        assert {u: (r["access"], r["published_at_source"]) for u, r in records.items()} == {
            URL: ("free", "first-seen"),
            paywalled_url: ("paywalled", "meta"),
        }
        assert [r["url"] for r in iter_articles(session, access="paywalled")] == [paywalled_url]
        assert [h.url for h in search_articles(session, "seawall")] != []
        assert [h.url for h in search_articles(session, "seawall", access="paywalled")] == [
            paywalled_url
        ]
        assert [h.url for h in search_articles(session, "seawall", access="free")] == [URL]
    engine.dispose()


def test_cli_export_prints_access_and_date_source(sqlite_url: str) -> None:
    engine = archive(sqlite_url)
    store(engine, fetch(FULL, T0, access="free", published_at_source="first-seen"))
    store(
        engine,
        fetch(
            TEASER,
            T0,
            url=f"{URL}-2",
            access="paywalled",
            published_at=PUBLISHED,
            published_at_source="sitemap",
        ),
    )
    engine.dispose()

    result = run_cli(
        "export",
        "--access",
        "paywalled",
        "--format",
        "jsonl",
        env={"NEWSARCHIVE_DATABASE_URL": sqlite_url},
    )

    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["url"], r["access"], r["published_at_source"]) for r in records] == [
        (f"{URL}-2", "paywalled", "sitemap")
    ]


FIRST, SECOND, THIRD, FOURTH = FULL.splitlines()


@pytest.mark.parametrize(
    ("teaser", "is_teaser"),
    [
        (TEASER, True),
        # Lines of the story in its order, not only its opening: a standfirst and a paragraph.
        (f"{FIRST}\n{THIRD}\nAlready a subscriber? Log in.", True),
        (f"{FIRST.upper()}\n{SECOND}", True),
        (FULL, False),
        (f"{THIRD}\n{FIRST}", False),
        (f"{FIRST}\nThe mayor resigned.\n{SECOND}", False),
        (f"{FIRST}\nSubscribe.\nLog in.\nRegister.", False),
    ],
)
def test_what_counts_as_a_teaser_of_the_stored_text(teaser: str, is_teaser: bool) -> None:
    assert is_teaser_of(teaser, FULL) is is_teaser
