"""PostgreSQL phrase index: adjacent word pairs of each indexed text, and CJK rows kept inline

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:00:00

A quoted phrase was matched with ILIKE through the trigram index, and the
trigrams of a phrase of common words ("wind farm") are in most texts: at
100,000 articles the index gave 21,000 texts to read for 400 matches (300 ms).
This adds a GIN index over every pair of adjacent words of ``title || ' ' ||
body`` (``word_pairs``), so a phrase is looked up by its own pairs
(``phrase_pairs``) and only the texts holding all of them are read and checked
with ILIKE. It is an expression index, not a stored column, so the rows every
other search reads do not grow.

A word here is what lies between runs of non-word characters (``\\W``) that hold
whitespace, lowercased and cut to 60 characters; so "(Wind farm)," gives the
pair ``wind farm``. The phrase's last word is matched as a prefix of the text's
word, as ILIKE would ("wind farm" in "wind farms"). A text whose pairs would not
fit a tsvector gets the lexeme ``*``, which every phrase query also accepts (a
real pair always holds a space), so no text is left out unindexed.

``toast_tuple_target`` (8160, the most PostgreSQL allows): an index row up to a
page is stored inline, where the 2 KB default moved the ``bigrams`` tsvector of
nearly every Chinese or Japanese article to the TOAST table, and ranking 2,000
of them cost 2,000 TOAST look-ups (40 ms). It applies to rows written from now
on; existing rows move when their article is stored again.

SQLite: nothing (its FTS5 trigram table matches a phrase as one substring).
"""

from __future__ import annotations

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    # Padding with spaces makes the text's first and last words end in a separator too.
    r"""CREATE FUNCTION phrase_words(content text) RETURNS TABLE (word text, n bigint)
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT left(w, 60), n
            FROM unnest(regexp_split_to_array(
                ' ' || lower(content) || ' ', '\W*\s\W*'
            )) WITH ORDINALITY AS m(w, n)
            WHERE w <> ''
        $$""",
    # COST: tens of microseconds a row, so the planner must never evaluate it as a
    # filter over a window's rows when the index can answer.
    """CREATE FUNCTION word_pairs(content text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
            SELECT CASE WHEN sum(octet_length(pair)) > 500000 THEN '*'::tsvector
                        ELSE array_to_tsvector(coalesce(array_agg(pair), '{}')) END
            FROM (SELECT word || ' ' || lead(word) OVER (ORDER BY n) AS pair
                  FROM phrase_words(content)) pairs
            WHERE pair IS NOT NULL
        $$""",
    # The lexemes are quoted by tsvector's own output, so no input is tsquery syntax;
    # NULL for a phrase of fewer than two words.
    """CREATE FUNCTION phrase_pairs(phrase text) RETURNS tsquery
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT (string_agg(
                array_to_tsvector(ARRAY[pair])::text || CASE WHEN last THEN ':*' ELSE '' END,
                ' & ' ORDER BY n
            ) || ' | ''*''')::tsquery
            FROM (SELECT word || ' ' || lead(word) OVER w AS pair,
                         lead(word, 2) OVER w IS NULL AS last, n
                  FROM phrase_words(phrase) WINDOW w AS (ORDER BY n)) pairs
            WHERE pair IS NOT NULL
        $$""",
    """CREATE INDEX ix_article_search_pairs ON article_search
        USING gin (word_pairs(title || ' ' || body))""",
    # ANALYZE would compute the pairs of 30,000 sampled texts (10 s at 100,000
    # articles) for statistics no search plan needs.
    "ALTER INDEX ix_article_search_pairs ALTER COLUMN 1 SET STATISTICS 0",
    "ALTER TABLE article_search SET (toast_tuple_target = 8160)",
]
POSTGRESQL_DOWN = [
    "ALTER TABLE article_search RESET (toast_tuple_target)",
    "DROP INDEX IF EXISTS ix_article_search_pairs",
    "DROP FUNCTION IF EXISTS phrase_pairs(text)",
    "DROP FUNCTION IF EXISTS word_pairs(text)",
    "DROP FUNCTION IF EXISTS phrase_words(text)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
