"""Full-text search: known answers in English, Chinese and Japanese, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text

from newsarchive.storage import create_archive_engine, read_session, save_article, write_session
from newsarchive.storage import search as search_module
from newsarchive.storage.models import Article
from newsarchive.storage.search import parse_query, search_articles, snippet
from tests.archive_corpus import build_corpus, fetched
from tests.cli_process import invoke_cli, run_cli


@pytest.fixture
def corpus(engine) -> dict[str, int]:
    return build_corpus(engine)


def ids(engine, query: str, **kw) -> list[int]:
    with read_session(engine) as session:
        return [hit.article_id for hit in search_articles(session, query, **kw)]


def test_english_words_rank_title_matches_first(engine, corpus) -> None:
    assert ids(engine, "bridge") == [corpus["bridge"], corpus["seawall"]]
    assert ids(engine, "BRIDGE") == [corpus["bridge"], corpus["seawall"]]
    assert ids(engine, "harbour bridge") == [corpus["bridge"]]  # every term must match
    assert ids(engine, '"pier stays open"') == [corpus["seawall"]]
    assert ids(engine, '"bridge stays"') == []  # a phrase is not its words anywhere
    assert ids(engine, "volcano") == []


def test_chinese_two_character_word(engine, corpus) -> None:
    # 谈判 (negotiation): twice in the trade story plus its title, once in the fishermen's.
    assert ids(engine, "谈判") == [corpus["trade_talks"], corpus["fishermen"]]
    assert ids(engine, "贸易谈判") == [corpus["trade_talks"]]
    assert ids(engine, "冷链运输合同") == [corpus["fishermen"]]
    assert ids(engine, "地铁 市民") == [corpus["metro"]]
    assert ids(engine, "谈判 地铁") == []


def test_japanese_and_filters(engine, corpus) -> None:
    assert ids(engine, "朝市") == [corpus["morning_market"]]
    assert ids(engine, "朝市", language="ja") == [corpus["morning_market"]]
    assert ids(engine, "朝市", language="zh") == []
    assert ids(engine, "谈判", source="xinhua") == [corpus["trade_talks"], corpus["fishermen"]]
    assert ids(engine, "谈判", source="harbour") == []
    june = lambda day: datetime(2024, 6, day, tzinfo=UTC)  # noqa: E731
    assert ids(engine, "谈判", since=june(7)) == [corpus["fishermen"]]
    assert ids(engine, "谈判", until=june(7)) == [corpus["trade_talks"]]
    assert ids(engine, "bridge", limit=1) == [corpus["bridge"]]


def test_only_latest_versions_and_no_copies_by_default(engine, corpus) -> None:
    assert ids(engine, "zeppelin") == []  # said only by an older version
    assert ids(engine, "airship") == [corpus["edited"]]
    assert ids(engine, "mackerel") == [corpus["mackerel"]]
    assert sorted(ids(engine, "mackerel", include_duplicates=True)) == sorted(
        [corpus["mackerel"], corpus["mackerel_copy"]]
    )


def test_a_common_word_ranks_its_most_recently_archived_matches(engine, monkeypatch) -> None:
    # Archived in this order; the oldest says "lighthouse" most, the third least.
    stories = {
        "keeper": ("Lighthouse keeper retires", "The lighthouse keeper kept the lighthouse lit."),
        "paint": ("Harbour wall repainted", "Painters reached the lighthouse and its steps."),
        "tour": ("Summer boat tours resume", "Boat tours pass the old lighthouse on Sundays."),
    }
    with write_session(engine) as session:
        for key, (title, text_) in stories.items():
            save_article(session, fetched("harbour", f"/{key}", text_, title=title))
        ferry = "Fog hid the lighthouse from the ferry crew all morning."
        save_article(session, fetched("coast", "/ferry", ferry, title="Ferry delayed by fog"))
        url_ids = dict(session.execute(select(Article.url, Article.id)).all())
    keeper, paint, tour = (url_ids[f"http://corpus.test/{key}"] for key in stories)
    assert ids(engine, "lighthouse", source="harbour") == [keeper, paint, tour]
    monkeypatch.setattr(search_module, "CANDIDATES", 2)
    monkeypatch.setattr(search_module, "SAMPLE", 1)  # PostgreSQL: start from a tiny window
    # Only the two newest matches that pass the filters are ranked (not tour and ferry,
    # the newest two of all): the keeper's story, the best match, is older than both.
    assert ids(engine, "lighthouse", source="harbour", limit=1) == [paint]
    # A page reaching past the candidates ranks as many as it shows.
    assert ids(engine, "lighthouse", source="harbour", limit=3) == [keeper, paint, tour]
    assert ids(engine, "lighthouse", source="harbour", limit=1, offset=2) == [tour]


def test_deleted_articles_leave_the_index(engine, corpus) -> None:
    with write_session(engine) as session:
        session.execute(delete(Article).where(Article.id == corpus["trade_talks"]))
    assert ids(engine, "谈判") == [corpus["fishermen"]]


def test_hits_carry_title_source_date_url_and_a_marked_snippet(engine, corpus) -> None:
    with read_session(engine) as session:
        (hit,) = search_articles(session, "贸易谈判")
    assert hit.title == "中美贸易谈判取得新进展"
    assert hit.source == "xinhua"
    assert hit.url == "http://corpus.test/trade"
    assert hit.date == datetime(2024, 6, 6, 9, 0, tzinfo=UTC)
    assert hit.language == "zh"
    assert "新一轮[贸易谈判]" in hit.snippet


def test_query_syntax_is_never_live() -> None:
    assert [t.text for t in parse_query('harbour "swing bridge" NEAR(x) \'')] == [
        "harbour",
        "swing bridge",
        "NEAR(x)",
        "'",
    ]
    assert snippet("A b c bridge d.", ["Bridge"]) == "A b c [bridge] d."


def test_hostile_queries_do_not_error(engine, corpus) -> None:
    with read_session(engine) as session, pytest.raises(ValueError, match="empty"):
        search_articles(session, '" "')
    for query in ["a'b", "100%", "x_y", "NOT", "bridge*", "(", "c:*", "'\\"]:
        ids(engine, query)


def test_search_command(database_url, engine, corpus) -> None:
    env = {"NEWSARCHIVE_DATABASE_URL": database_url}
    result = run_cli("search", "谈判", "--format", "jsonl", "--source", "xinhua", env=env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [corpus["trade_talks"], corpus["fishermen"]]
    assert set(records[0]) >= {"id", "title", "source", "date", "url", "snippet", "score"}
    table = invoke_cli("search", "bridge", env=env)
    assert table.returncode == 0, table.stderr
    assert "Swing bridge over Kestrel Harbour reopens" in table.stdout
    assert "[bridge]" in table.stdout
    empty = invoke_cli("search", "  ", env=env)
    assert empty.returncode == 2


def test_a_search_leaves_the_sessions_planner_settings_as_they_were(pg_url, migrate) -> None:
    # PostgreSQL only: a search sets planner settings for its own statements (storage/search.py).
    migrate(pg_url)
    engine = create_archive_engine(pg_url)
    build_corpus(engine)
    with read_session(engine) as session:
        session.execute(text("SET LOCAL work_mem = '7MB'"))
        assert [hit.title for hit in search_articles(session, '"pier stays open"')] == [
            "Council approves seawall plan for the Esplanade"
        ]
        settings = session.execute(
            text("SELECT current_setting('work_mem'), current_setting('enable_hashjoin')")
        ).one()
    engine.dispose()
    assert tuple(settings) == ("7MB", "on")
