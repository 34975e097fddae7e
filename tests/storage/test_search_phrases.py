"""Quoted phrases: matched as written, through the word-pairs index on PostgreSQL (0012)."""

from __future__ import annotations

from sqlalchemy import Engine, select, text

from newsarchive.storage import create_archive_engine, save_article, write_session
from newsarchive.storage.models import Article
from newsarchive.storage.schema import downgrade, upgrade
from tests.archive_corpus import fetched
from tests.storage.test_search import ids
from tests.storage.test_search_bigrams import plan

STORIES = {
    "plans": ("Wind farm plans", "Residents back the (wind farms), said the council."),
    "comma": ("Coast report", "The wind, farm and sea were calm."),
    "offshore": ("Energy figures", "Offshore wind farm output rose in May."),
    "rewind": ("Film club", "Tapes of the rewind farm show are lost."),
}


def store(engine: Engine) -> dict[str, int]:
    with write_session(engine) as session:
        for key, (title, body) in STORIES.items():
            save_article(session, fetched("coast", f"/{key}", body, title=title, language="en"))
        url_ids = dict(session.execute(select(Article.url, Article.id)).all())
    return {key: url_ids[f"http://corpus.test/{key}"] for key in STORIES}


def test_a_phrase_matches_its_words_as_written(engine: Engine) -> None:
    story = store(engine)
    found = ids(engine, '"wind farm"')
    assert found[0] == story["plans"]  # the title match; "wind, farm" is not the phrase
    if engine.dialect.name == "sqlite":
        assert sorted(found) == sorted([story["plans"], story["offshore"], story["rewind"]])
    else:  # PostgreSQL finds a phrase where a word begins, as it finds words
        assert found == [story["plans"], story["offshore"]]
    assert ids(engine, '"WIND FARMS"') == [story["plans"]]  # the last word as a prefix
    assert ids(engine, '"wind farm output"') == [story["offshore"]]
    assert ids(engine, '"farms), said"') == [story["plans"]]  # punctuation is matched too
    assert ids(engine, '"farm said"') == []
    assert ids(engine, '"wind farm" council') == [story["plans"]]
    for hostile in ['"it\'s a \\ back"', "\"' | '*'\"", '"x:* & y"']:
        assert ids(engine, hostile) == []
    if engine.dialect.name == "postgresql":
        found_plan = plan(engine, '"wind farm output"')
        assert "ix_article_search_pairs" in found_plan, found_plan
        # Not also the trigram index: for a phrase of common words it lists most texts.
        assert "ix_article_search_trigram" not in found_plan, found_plan


def test_a_text_too_long_for_its_pairs_is_still_found(pg_url: str, migrate) -> None:
    # PostgreSQL only: FTS5 matches a quoted phrase as one trigram substring, of any text.
    migrate(pg_url)
    engine = create_archive_engine(pg_url)
    # 40,000 different words: their pairs would come near the limit of a tsvector.
    words = " ".join(f"w{n}x" for n in range(40_000))
    with write_session(engine) as session:
        save_article(session, fetched("coast", "/long", f"{words} wind farm", title="Long"))
    with engine.connect() as conn:
        pairs = conn.execute(
            text("SELECT word_pairs(title || ' ' || body)::text FROM article_search")
        ).scalar_one()
    assert pairs == "'*'"
    assert len(ids(engine, '"wind farm"')) == 1
    engine.dispose()


def test_upgrade_and_downgrade_of_the_pairs_index(engine: Engine) -> None:
    story = store(engine)
    downgrade(engine, "0011")
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            names = conn.execute(
                text(
                    "SELECT proname FROM pg_proc WHERE proname IN "
                    "('word_pairs', 'phrase_pairs', 'phrase_words') "
                    "UNION SELECT relname FROM pg_class WHERE relname = 'ix_article_search_pairs'"
                )
            ).all()
        assert names == []
    upgrade(engine)  # the index is built over the texts already stored
    assert ids(engine, '"wind farm output"') == [story["offshore"]]
