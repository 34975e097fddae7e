"""full-text search index (FTS5 trigram / tsvector + pg_trgm), WARC locations of versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00

The search index holds one row per article: its latest version's title and text.
Old versions are not indexed: a search answers "which stories say this", and
indexing every version would list a story once per edit and grow the index with
each one (``newsarchive history`` shows what older versions said). Triggers keep
it in step with ``article_versions`` in the writer's own transaction, so every
writer (crawl, reprocess, scripts, bulk loads) keeps it current without knowing it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

# A version is indexed when it is (or is about to become) its article's latest;
# the check holds whether the ORM flushes the article's new number before or after
# inserting the version row.
_IS_LATEST = "NEW.version >= (SELECT version FROM articles WHERE id = NEW.article_id)"

SQLITE_UP = [
    # trigram: substring matching in every script, so Chinese and Japanese text,
    # which has no spaces between words, is searchable (3+ characters per term;
    # shorter terms fall back to LIKE over the same table, see storage/search.py).
    "CREATE VIRTUAL TABLE article_search USING fts5(title, body, tokenize = 'trigram')",
    f"""CREATE TRIGGER article_search_insert AFTER INSERT ON article_versions
        WHEN {_IS_LATEST}
        BEGIN
            DELETE FROM article_search WHERE rowid = NEW.article_id;
            INSERT INTO article_search (rowid, title, body)
            VALUES (NEW.article_id, coalesce(NEW.title, ''), NEW.text);
        END""",
    f"""CREATE TRIGGER article_search_update AFTER UPDATE OF title, text ON article_versions
        WHEN {_IS_LATEST}
        BEGIN
            DELETE FROM article_search WHERE rowid = NEW.article_id;
            INSERT INTO article_search (rowid, title, body)
            VALUES (NEW.article_id, coalesce(NEW.title, ''), NEW.text);
        END""",
    """CREATE TRIGGER article_search_delete AFTER DELETE ON articles
        BEGIN
            DELETE FROM article_search WHERE rowid = OLD.id;
        END""",
    """INSERT INTO article_search (rowid, title, body)
        SELECT v.article_id, coalesce(v.title, ''), v.text
        FROM article_versions v JOIN articles a ON a.id = v.article_id AND a.version = v.version""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS article_search_delete",
    "DROP TRIGGER IF EXISTS article_search_update",
    "DROP TRIGGER IF EXISTS article_search_insert",
    "DROP TABLE IF EXISTS article_search",
]

POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # 'simple': no stemming and no stop words, so one configuration serves every
    # language; prefix queries (term:*) make up for the missing stemming.
    """CREATE TABLE article_search (
        article_id integer PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
        version integer NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', title), 'A')
            || setweight(to_tsvector('simple', body), 'B')
        ) STORED
    )""",
    "CREATE INDEX ix_article_search_document ON article_search USING gin (document)",
    # For scripts without spaces between words, which the tsvector parser keeps
    # as one long token: ILIKE over this exact expression uses the trigram index.
    """CREATE INDEX ix_article_search_trigram ON article_search
        USING gin ((title || ' ' || body) gin_trgm_ops)""",
    """CREATE FUNCTION article_search_index_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO article_search (article_id, version, title, body)
            VALUES (NEW.article_id, NEW.version, coalesce(NEW.title, ''), NEW.text)
            ON CONFLICT (article_id) DO UPDATE
                SET version = EXCLUDED.version, title = EXCLUDED.title, body = EXCLUDED.body
                WHERE article_search.version <= EXCLUDED.version;
            RETURN NULL;
        END
        $$""",
    # No WHEN clause (PostgreSQL allows no subquery there): the upsert's WHERE
    # keeps an older version from replacing a newer one.
    """CREATE TRIGGER article_search_index AFTER INSERT OR UPDATE OF title, text
        ON article_versions FOR EACH ROW EXECUTE FUNCTION article_search_index_version()""",
    """INSERT INTO article_search (article_id, version, title, body)
        SELECT v.article_id, v.version, coalesce(v.title, ''), v.text
        FROM article_versions v JOIN articles a ON a.id = v.article_id AND a.version = v.version""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS article_search_index ON article_versions",
    "DROP FUNCTION IF EXISTS article_search_index_version()",
    "DROP TABLE IF EXISTS article_search",
    # pg_trgm stays: other objects in the database may have come to use it.
]


def upgrade() -> None:
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warc_file", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("warc_offset", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_article_versions_warc_file"), ["warc_file"], unique=False
        )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}[dialect]:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}[dialect]:
        op.execute(statement)
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_versions_warc_file"))
        batch_op.drop_column("warc_offset")
        batch_op.drop_column("warc_file")
