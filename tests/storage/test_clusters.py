"""A duplicate cluster is rooted at its earliest-published member, whatever order copies arrive in.

On SQLite and PostgreSQL: the rows (``duplicate_of`` of every member), what
search shows (non-roots are hidden), and the ``duplicates`` listing order.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from newsarchive.storage import (
    FetchedArticle,
    Outcome,
    create_archive_engine,
    ensure_schema,
    read_session,
    write_session,
)
from newsarchive.storage.models import Article
from newsarchive.storage.near_duplicates import iter_clusters
from newsarchive.storage.search import search_articles
from tests.storage.test_near_duplicates import STORY, edited_lead, fetched, store

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ORIGINAL = "http://gazette.test/news/ferry.html"
WIRE = "http://wire.test/ferry"
PORTAL = "http://portal.test/ferry"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def wire_copy(paragraphs: list[str] = STORY) -> list[str]:
    copy = edited_lead(paragraphs, "GULL ISLAND (Coastal Wire) - The winter ferry is saved.")
    return [*copy, "Copyright Coastal Wire Service. All rights reserved."]


def short(url: str, source: str, **kw) -> FetchedArticle:
    """A text too short to sign: only its hash can link it."""
    item = fetched(url, ["Ferry saved: council reverses the winter cut."], source, **kw)
    assert item.minhash is None
    return item


def rows(engine) -> dict[str, str | None]:
    """URL → URL of the article it points at (None for a root)."""
    with read_session(engine) as session:
        articles = session.execute(select(Article.id, Article.url, Article.duplicate_of)).all()
    url_of = {a.id: a.url for a in articles}
    return {a.url: url_of.get(a.duplicate_of) for a in articles}


def search(engine, query: str = "ferry") -> list[str]:
    with read_session(engine) as session:
        return sorted(hit.url for hit in search_articles(session, query))


def test_dated_original_after_an_undated_exact_copy_becomes_the_root(engine) -> None:
    # The syndicated copy was fetched half a second before its source's own page.
    copy = fetched(WIRE, STORY, "wire", fetched_at=at(0))
    assert store(engine, copy) is Outcome.NEW
    original = fetched(ORIGINAL, STORY, fetched_at=at(0.5), published_at=at(-3600))
    # Still a duplicate for the crawl's counters: the story itself was stored already.
    assert store(engine, original) is Outcome.DUPLICATE

    assert rows(engine) == {ORIGINAL: None, WIRE: ORIGINAL}
    assert search(engine) == [ORIGINAL]


def test_exact_copies_too_short_to_sign_are_re_pointed_as_well(engine) -> None:
    store(engine, short(WIRE, "wire", fetched_at=at(0)))
    store(engine, short(PORTAL, "portal", fetched_at=at(1)))
    assert store(engine, short(ORIGINAL, "gazette", fetched_at=at(2), published_at=at(-60))) is (
        Outcome.DUPLICATE
    )
    assert rows(engine) == {ORIGINAL: None, WIRE: ORIGINAL, PORTAL: ORIGINAL}
    assert search(engine) == [ORIGINAL]


def test_dated_original_after_an_undated_near_copy_becomes_the_root(engine) -> None:
    store(engine, fetched(WIRE, wire_copy(), "wire", fetched_at=at(0)))
    assert store(engine, fetched(ORIGINAL, STORY, fetched_at=at(1), published_at=at(-60))) is (
        Outcome.DUPLICATE
    )
    assert rows(engine) == {ORIGINAL: None, WIRE: ORIGINAL}
    assert search(engine) == [ORIGINAL]


def test_original_arriving_third_takes_over_a_cluster_of_two_copies(engine) -> None:
    store(engine, fetched(WIRE, wire_copy(), "wire", fetched_at=at(0)))
    # A copy of the wire copy, exact: it joins the wire copy's cluster.
    store(engine, fetched(PORTAL, wire_copy(), "portal", fetched_at=at(1)))
    assert rows(engine) == {WIRE: None, PORTAL: WIRE}
    assert search(engine) == [WIRE]

    store(engine, fetched(ORIGINAL, STORY, fetched_at=at(2), published_at=at(-60)))
    assert rows(engine) == {ORIGINAL: None, WIRE: ORIGINAL, PORTAL: ORIGINAL}
    assert search(engine) == [ORIGINAL]
    with read_session(engine) as session:
        listed = [(m.cluster, m.url) for m in iter_clusters(session)]
    original_id = _id(engine, ORIGINAL)
    assert listed[0] == (original_id, ORIGINAL), "the duplicates listing starts with the root"
    assert {url for _, url in listed} == {ORIGINAL, WIRE, PORTAL}
    assert {cluster for cluster, _ in listed} == {original_id}


def test_earlier_published_copy_wins_and_undated_members_rank_last(engine) -> None:
    store(engine, fetched(ORIGINAL, STORY, fetched_at=at(0)))
    store(engine, fetched(WIRE, wire_copy(), "wire", fetched_at=at(1), published_at=at(600)))
    # Dated beats undated even when the undated one was seen first.
    assert rows(engine) == {ORIGINAL: WIRE, WIRE: None}
    store(engine, fetched(PORTAL, STORY, "portal", fetched_at=at(2), published_at=at(300)))
    assert rows(engine) == {ORIGINAL: PORTAL, WIRE: PORTAL, PORTAL: None}
    # Same date: the earliest seen keeps the cluster.
    late = "http://late.test/ferry"
    store(engine, fetched(late, wire_copy(), "late", fetched_at=at(3), published_at=at(300)))
    assert rows(engine)[late] == PORTAL and rows(engine)[PORTAL] is None


def test_an_update_that_changes_a_members_date_re_elects_the_root(engine) -> None:
    store(engine, fetched(ORIGINAL, STORY, fetched_at=at(0), published_at=at(-60)))
    store(engine, fetched(WIRE, wire_copy(), "wire", fetched_at=at(1), published_at=at(600)))
    assert rows(engine) == {ORIGINAL: None, WIRE: ORIGINAL}

    # The wire corrects its dateline to before the gazette's: it now represents the story.
    corrected = [*wire_copy(), "This story was first filed overnight."]
    updated = fetched(WIRE, corrected, "wire", fetched_at=at(10), published_at=at(-120))
    assert store(engine, updated) is Outcome.UPDATED
    assert rows(engine) == {ORIGINAL: WIRE, WIRE: None}
    assert search(engine) == [WIRE]

    # A later fetch that finds no date (a recrawl has no feed item to date it) keeps the
    # date the story had: the wire stays the cluster's root.
    undated = fetched(WIRE, [*corrected, "Updated with reaction."], "wire", fetched_at=at(20))
    assert store(engine, undated) is Outcome.UPDATED
    assert rows(engine) == {ORIGINAL: WIRE, WIRE: None}
    assert search(engine) == [WIRE]


def test_root_update_keeps_its_cluster_and_never_chains(engine) -> None:
    store(engine, fetched(ORIGINAL, STORY, fetched_at=at(0)))
    store(engine, fetched(WIRE, wire_copy(), "wire", fetched_at=at(1)))
    other = "http://other.test/ferry"
    store(engine, fetched(other, STORY[:1] + ["Unrelated."] * 3, "other", fetched_at=at(2)))
    # The root's new text is an exact copy of an unrelated story: it stays its copies' root.
    text = STORY[:1] + ["Unrelated."] * 3
    assert store(engine, fetched(ORIGINAL, text, fetched_at=at(3))) is Outcome.UPDATED
    links = rows(engine)
    assert links[WIRE] == ORIGINAL and links[ORIGINAL] is None
    assert all(links[target] is None for target in links.values() if target), "a chain"


def test_capture_older_than_the_latest_version_changes_nothing(engine) -> None:
    url = "http://gazette.test/story"
    assert store(engine, fetched(url, STORY, fetched_at=at(100))) is Outcome.NEW
    stale = fetched(url, edited_lead(STORY, "An older lead."), fetched_at=at(50))
    assert store(engine, stale) is Outcome.UNCHANGED
    with read_session(engine) as session:
        article = session.execute(select(Article)).scalar_one()
        assert article.version == 1
        assert article.last_fetched_at == at(100), "last_fetched_at moved backwards"
        assert [v.text for v in article.versions] == ["\n".join(STORY)]
    # A stale capture of unchanged text does not move it back either.
    assert store(engine, fetched(url, STORY, fetched_at=at(60))) is Outcome.UNCHANGED
    newer = fetched(url, edited_lead(STORY, "A newer lead."), fetched_at=at(200))
    assert store(engine, newer) is Outcome.UPDATED
    with read_session(engine) as session:
        article = session.execute(select(Article)).scalar_one()
        assert (article.version, article.last_fetched_at) == (2, at(200))


def _id(engine, url: str) -> int:
    with write_session(engine) as session:
        return session.execute(select(Article.id).where(Article.url == url)).scalar_one()


def test_concurrent_writers_agree_on_the_dated_original(database_url: str) -> None:
    """Copies and their dated original stored at once, each in its own connection: one root,
    the original, and every copy pointing straight at it."""
    setup = create_archive_engine(database_url)
    ensure_schema(setup)
    items = [
        fetched(f"http://site{i}.test/ferry", edited_lead(STORY, f"Lead {i}."), f"s{i}")
        for i in range(5)
    ]
    items += [fetched(PORTAL, wire_copy(), "portal"), fetched(WIRE, wire_copy(), "wire")]
    items.append(fetched(ORIGINAL, STORY, published_at=at(-3600)))
    barrier = threading.Barrier(len(items))

    def write(item: FetchedArticle) -> None:
        engine = create_archive_engine(database_url)
        barrier.wait()
        store(engine, item)
        engine.dispose()

    threads = [threading.Thread(target=write, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    links = rows(setup)
    assert len(links) == len(items)
    assert links.pop(ORIGINAL) is None
    assert set(links.values()) == {ORIGINAL}
    assert search(setup) == [ORIGINAL]
    setup.dispose()
