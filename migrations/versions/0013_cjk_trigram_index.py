"""PostgreSQL: CJK terms of three characters or more found through their trigrams

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:00:00

A CJK term of three characters or more (贸易谈判, 港町の朝) was looked up by its
bigrams (0011), then checked with ``strpos``. Chinese and Japanese news share
most bigrams of their common words: at 1,000,000 articles the three bigrams of
港町の朝 were together in 50,473 texts, every one read from the heap to keep a
few hundred (449 ms). This adds a GIN index of every distinct run of three
adjacent CJK characters of ``title || ' ' || body`` (``cjk_trigrams``): the
texts holding all the trigrams of a three- or four-character term are nearly
the term's own. Like 0012's word pairs it is an expression index, not a stored
column, so the rows every other search reads do not grow and building it
rewrites none. A text whose trigrams would not fit a tsvector (over 55,000 of
them, a book rather than a story) gets the lexeme ``*``, which every query also
accepts, so no text is left out unindexed.

SQLite: nothing (its FTS5 trigram table already finds such terms).
"""

from __future__ import annotations

from alembic import op

from newsarchive.cjk import CJK_CHARS

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

# A tsvector holds at most 1 MB: 55,000 lexemes of three 4-byte characters and
# their 4-byte entries stay below it.
MAX_TRIGRAMS = 55_000

POSTGRESQL_UP = [
    # A run's trigrams are its consecutive triples read from its first, second and
    # third character: linear in the run, where substr(run, i, 3) for every i
    # walks the UTF-8 from the start each time (a 60,000-character run: 100 s).
    # COST: a millisecond a Chinese text, so the planner must never evaluate it as a
    # filter over a window's rows when the index can answer.
    f"""CREATE FUNCTION cjk_trigrams(content text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
            SELECT CASE WHEN count(*) > {MAX_TRIGRAMS} THEN '*'::tsvector
                        ELSE array_to_tsvector(coalesce(array_agg(DISTINCT gram[1]), '{{}}')) END
            FROM regexp_matches(content, '[{CJK_CHARS}]{{3,}}', 'g') AS m(run),
                 generate_series(1, 3) AS start,
                 regexp_matches(substr(run[1], start), '.{{3}}', 'g') AS g(gram)
        $$""",
    """CREATE INDEX ix_article_search_cjk_trigrams ON article_search
        USING gin (cjk_trigrams(title || ' ' || body))""",
    # ANALYZE would compute the trigrams of 30,000 sampled texts for statistics no
    # search plan needs (as for 0012's pairs).
    "ALTER INDEX ix_article_search_cjk_trigrams ALTER COLUMN 1 SET STATISTICS 0",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_article_search_cjk_trigrams",
    "DROP FUNCTION IF EXISTS cjk_trigrams(text)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
