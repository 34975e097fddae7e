"""CJK terms of three characters or more: through the trigram index on PostgreSQL (0013)."""

from __future__ import annotations

import random
import re

from sqlalchemy import Engine, event, text

from newsarchive.storage import create_archive_engine, read_session, save_article, write_session
from newsarchive.storage import search as search_module
from newsarchive.storage.schema import downgrade, upgrade
from newsarchive.storage.search import parse_query, search_statement
from tests.archive_corpus import build_corpus, fetched
from tests.storage.test_search import ids
from tests.storage.test_search_bigrams import plan


def test_longer_cjk_terms_are_found_as_written(engine: Engine) -> None:
    corpus = build_corpus(engine)
    assert ids(engine, "贸易谈判") == [corpus["trade_talks"]]  # title and text
    assert ids(engine, "冷链运输") == [corpus["fishermen"]]
    assert ids(engine, "港町の朝") == [corpus["morning_market"]]  # kanji and kana
    assert ids(engine, "五十年") == [corpus["morning_market"]]  # three characters
    # Every trigram of the term is in the text, but not in this order.
    assert ids(engine, "谈判贸易") == []
    assert ids(engine, "谈判 冷链运输") == [corpus["fishermen"]]  # with a bigram term
    if engine.dialect.name == "postgresql":
        for query in ("冷链运输", "谈判 冷链运输", "五十年"):
            found = plan(engine, query)
            assert "ix_article_search_cjk_trigrams" in found, found
            # The bigrams of common words are in thousands of texts: not read for these.
            if query != "谈判 冷链运输":
                assert "ix_article_search_bigrams" not in found, found


def test_a_window_tested_row_by_row_does_not_compute_trigrams(pg_url: str, migrate) -> None:
    # The index's trigrams cost a millisecond a Chinese text: row by row, the
    # strpos test alone decides, and finds the same stories.
    migrate(pg_url)
    engine = create_archive_engine(pg_url)
    corpus = build_corpus(engine)
    statement = search_statement("postgresql", parse_query("冷链运输"), floor=0, scan_window=True)
    compiled = str(statement.compile(dialect=engine.dialect))
    assert "cjk_trigrams" not in compiled
    with read_session(engine) as session:
        assert [row.id for row in session.execute(statement)] == [corpus["fishermen"]]
    engine.dispose()


def test_a_text_too_long_for_its_trigrams_is_still_found(pg_url: str, migrate) -> None:
    migrate(pg_url)
    engine = create_archive_engine(pg_url)
    # 60,000 trigrams, in clauses of 20 hanzi drawn from 3,000.
    rng = random.Random(7)
    hanzi = [chr(0x4E00 + n) for n in range(3000)]
    clauses = ("".join(rng.choices(hanzi, k=20)) for _ in range(3400))
    body = "，".join(clauses) + "。冷链运输。"
    with write_session(engine) as session:
        save_article(session, fetched("xinhua", "/long", body, title="长文", language="zh"))
        save_article(session, fetched("xinhua", "/short", "冷链运输合同。", language="zh"))
    with engine.connect() as conn:
        indexed = conn.execute(
            text("SELECT cjk_trigrams(title || ' ' || body)::text FROM article_search")
        ).scalars().all()  # fmt: skip
    assert sorted(set(re.findall(r"'([^']+)'", row)) for row in indexed) == [
        {"*"},
        {"冷链运", "链运输", "运输合", "输合同"},
    ]
    assert len(ids(engine, "冷链运输")) == 2
    engine.dispose()


def test_upgrade_indexes_stored_texts_and_downgrade_removes_the_index(pg_url: str) -> None:
    engine = create_archive_engine(pg_url)
    upgrade(engine)
    downgrade(engine, "0012")
    corpus = build_corpus(engine)  # stored without the trigram index
    upgrade(engine)
    assert ids(engine, "冷链运输") == [corpus["fishermen"]]
    assert "ix_article_search_cjk_trigrams" in plan(engine, "冷链运输")
    downgrade(engine, "0012")
    with engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT proname FROM pg_proc WHERE proname = 'cjk_trigrams' UNION "
                "SELECT relname FROM pg_class WHERE relname = 'ix_article_search_cjk_trigrams'"
            )
        ).all()
    assert names == []
    engine.dispose()


def test_a_term_in_few_texts_is_read_whole_in_one_statement(
    pg_url: str, migrate, monkeypatch
) -> None:
    # A window of the newest ids pays an index entry per id to keep older matches
    # out: for a CJK term in few texts the search reads them all at once instead of
    # widening a window until it holds enough.
    migrate(pg_url)
    engine = create_archive_engine(pg_url)
    with write_session(engine) as session:
        for n in range(30):
            body = f"冷链运输合同第{n}份。" if n in (0, 1, 27) else f"港口第{n}号码头恢复运营。"
            save_article(session, fetched("xinhua", f"/{n}", body, title="港口", language="zh"))
    monkeypatch.setattr(search_module, "SAMPLE", 10)  # one match among the newest ten
    monkeypatch.setattr(search_module, "CANDIDATES", 2)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert len(ids(engine, "冷链运输", limit=2)) == 2
    assert sum("candidates" in s for s in statements) == 1
    engine.dispose()
