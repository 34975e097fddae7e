"""CJK bigram search index: two-character Chinese/Japanese/Korean words through an index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:30:00

A trigram index cannot find a term shorter than three characters, and two
characters is the commonest length of a Chinese word (谈判, 地铁), so such terms
were matched by a scan of every indexed text. This adds, beside the trigram
index, an index of every pair of adjacent CJK characters of each article's
latest title and text:

* SQLite: a contentless FTS5 table ``article_search_bigram`` (rowid = article id)
  holding the space-separated bigrams (``cjk_bigrams()``, a function every
  archive connection registers, see ``storage/search.py``), kept in step by the
  same triggers that keep ``article_search``; a removed row is deleted from it by
  recomputing its bigrams from ``article_search``'s stored text.
* PostgreSQL: a generated, weighted ``article_search.bigrams tsvector`` of the
  same bigrams (an IMMUTABLE SQL function ``cjk_bigrams``), with a GIN index,
  matched with ``@@`` and ranked with ``ts_rank`` like the words' ``document``.

Upgrading an archive backfills both from the index's current rows; downgrading
drops them and restores 0004's triggers.
"""

from __future__ import annotations

from alembic import op

from newsarchive.cjk import CJK_CHARS

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None

# 0004's condition: a version is indexed when it is (or becomes) its article's latest.
_IS_LATEST = "NEW.version >= (SELECT version FROM articles WHERE id = NEW.article_id)"
# Delete from the contentless table needs the very tokens it was given, which
# article_search's stored title and body reproduce; then the trigram row goes.
_SQLITE_UNINDEX = """
            INSERT INTO article_search_bigram (article_search_bigram, rowid, title, body)
                SELECT 'delete', rowid, cjk_bigrams(title), cjk_bigrams(body)
                FROM article_search WHERE rowid = {id};
            DELETE FROM article_search WHERE rowid = {id};"""
_SQLITE_INDEX = """
            INSERT INTO article_search (rowid, title, body)
                VALUES (NEW.article_id, coalesce(NEW.title, ''), NEW.text);
            INSERT INTO article_search_bigram (rowid, title, body)
                VALUES (NEW.article_id, cjk_bigrams(NEW.title), cjk_bigrams(NEW.text));"""


def _sqlite_triggers(bigrams: bool) -> list[str]:
    if bigrams:
        unindex_new = _SQLITE_UNINDEX.format(id="NEW.article_id")
        unindex_old = _SQLITE_UNINDEX.format(id="OLD.id")
        index = _SQLITE_INDEX
    else:  # 0004's triggers
        unindex_new = "DELETE FROM article_search WHERE rowid = NEW.article_id;"
        unindex_old = "DELETE FROM article_search WHERE rowid = OLD.id;"
        index = _SQLITE_INDEX.split(";")[0] + ";"
    return [
        "DROP TRIGGER IF EXISTS article_search_insert",
        "DROP TRIGGER IF EXISTS article_search_update",
        "DROP TRIGGER IF EXISTS article_search_delete",
        f"""CREATE TRIGGER article_search_insert AFTER INSERT ON article_versions
            WHEN {_IS_LATEST}
            BEGIN {unindex_new} {index}
            END""",
        f"""CREATE TRIGGER article_search_update AFTER UPDATE OF title, text ON article_versions
            WHEN {_IS_LATEST}
            BEGIN {unindex_new} {index}
            END""",
        f"""CREATE TRIGGER article_search_delete AFTER DELETE ON articles
            BEGIN {unindex_old}
            END""",
    ]


SQLITE_UP = [
    # 'ascii' splits only on ASCII non-alphanumerics, so each space-separated
    # bigram is one token, whatever Unicode category its characters are in.
    """CREATE VIRTUAL TABLE article_search_bigram USING fts5(
        title, body, content = '', tokenize = 'ascii')""",
    *_sqlite_triggers(bigrams=True),
    """INSERT INTO article_search_bigram (rowid, title, body)
        SELECT rowid, cjk_bigrams(title), cjk_bigrams(body) FROM article_search""",
]
SQLITE_DOWN = [*_sqlite_triggers(bigrams=False), "DROP TABLE IF EXISTS article_search_bigram"]

POSTGRESQL_UP = [
    # CJK runs first, so text without CJK costs one regex pass; repeats kept, so
    # ts_rank counts occurrences as it does for words.
    f"""CREATE FUNCTION cjk_bigrams(content text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(string_agg(substr(run[1], i, 2), ' ' ORDER BY n, i), '')
            FROM regexp_matches(content, '[{CJK_CHARS}]{{2,}}', 'g') WITH ORDINALITY AS m(run, n),
                generate_series(1, length(run[1]) - 1) AS i
        $$""",
    # A weighted tsvector of the bigrams, like ``document`` of the words: the
    # 'simple' parser keeps each space-separated bigram as one lexeme, and
    # ts_rank reads occurrences from the positions instead of scanning texts.
    # Adding a stored generated column rewrites the table: that is the backfill.
    """ALTER TABLE article_search ADD COLUMN bigrams tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', cjk_bigrams(title)), 'A')
        || setweight(to_tsvector('simple', cjk_bigrams(body)), 'B')
    ) STORED""",
    "CREATE INDEX ix_article_search_bigrams ON article_search USING gin (bigrams)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_article_search_bigrams",
    "ALTER TABLE article_search DROP COLUMN IF EXISTS bigrams",
    "DROP FUNCTION IF EXISTS cjk_bigrams(text)",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}[dialect]:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}[dialect]:
        op.execute(statement)
