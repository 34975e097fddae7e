"""Two-character CJK terms: answered through the bigram index, kept in step, backfilled."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from newsarchive.storage import create_archive_engine, ensure_schema, save_article, write_session
from newsarchive.storage.schema import downgrade, upgrade
from newsarchive.storage.search import cjk_bigrams, parse_query, search_statement
from tests.archive_corpus import build_corpus, fetched
from tests.storage.test_search import ids


def plan(engine: Engine, query: str) -> str:
    """The database's plan for a search, as one string."""
    compiled = search_statement(engine.dialect.name, parse_query(query)).compile(
        dialect=engine.dialect
    )
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            params = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
            return "\n".join(row[-1] for row in rows)
        # A table of ten rows is read whole whatever the indexes; forbid that (and
        # index look-ups driven from another table) to see
        # whether the condition can be answered by an index at all.
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_nestloop = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
        return "\n".join(row[0] for row in rows)


def test_bigrams_of_cjk_runs_only() -> None:
    assert cjk_bigrams("中美贸易 talks 谈判。朝市") == "中美 美贸 贸易 谈判 朝市"
    assert cjk_bigrams("谈判谈判") == "谈判 判谈 谈判"  # repeats kept: BM25 counts them
    assert cjk_bigrams("bridge 中") == ""
    assert cjk_bigrams(None) == ""


def test_two_character_terms_are_found_through_the_index(engine) -> None:
    corpus = build_corpus(engine)
    assert ids(engine, "谈判") == [corpus["trade_talks"], corpus["fishermen"]]
    assert ids(engine, "易谈") == [corpus["trade_talks"]]  # any adjacent pair, not only words
    assert ids(engine, "谈判 冷链运输") == [corpus["fishermen"]]  # with a trigram term
    assert ids(engine, "朝市 岸壁") == [corpus["morning_market"]]  # Japanese, two bigrams
    assert ids(engine, "易谈 渔民") == []
    plans = plan(engine, "谈判"), plan(engine, "谈判 冷链运输")
    for found in plans:
        if engine.dialect.name == "sqlite":
            # "INDEX n:M" (or ":=M", by rowid) is an FTS5 MATCH; a LIKE scan reads the
            # whole table with a bare "INDEX n:" (n flags the order FTS5 reads in).
            assert re.search(r"article_search_bigram VIRTUAL TABLE INDEX \d+:=?M", found), found
            assert not re.search(r"VIRTUAL TABLE INDEX \d+:$", found, re.M), found
        else:
            assert "ix_article_search_bigrams" in found, found
            assert "ILIKE" not in found.upper(), found


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_archive_engine(sqlite_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


def test_an_edit_moves_the_story_between_bigrams(sqlite_engine: Engine) -> None:
    # SQLite only: PostgreSQL's bigrams are a generated column, which cannot lag.
    engine = sqlite_engine
    with write_session(engine) as session:
        for text_ in ("港口发生火灾。", "港口恢复运营。"):
            save_article(session, fetched("xinhua", "/port", text_, title="港口", language="zh"))
    assert ids(engine, "火灾") == []
    assert len(ids(engine, "运营")) == 1
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO article_search_bigram (article_search_bigram) "
                "VALUES ('integrity-check')"
            )
        )


def test_upgrade_backfills_an_existing_archive_and_downgrade_removes_it(engine) -> None:
    downgrade(engine, "0010")
    corpus = build_corpus(engine)  # stored by 0010's triggers: no bigrams yet
    upgrade(engine)
    assert ids(engine, "谈判") == [corpus["trade_talks"], corpus["fishermen"]]
    downgrade(engine, "0010")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
            assert not [n for n in names if n.startswith("article_search_bigram")]
        else:
            columns = conn.execute(
                text("SELECT column_name FROM information_schema.columns "
                     "WHERE table_name = 'article_search'")
            ).scalars().all()  # fmt: skip
            assert "bigrams" not in columns
    with write_session(engine) as session:  # 0004's triggers work again
        save_article(session, fetched("xinhua", "/new", "新的地铁线路。", language="zh"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM article_search")).scalar_one() == 10
