"""near-duplicate signatures and LSH bands, HTTP validators, recrawl counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minhash", sa.LargeBinary(), nullable=True))

    op.create_table(
        "article_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_bands_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("band_key", "article_id", name=op.f("pk_article_bands")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("article_bands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_bands_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "fetched_urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_fetched_urls_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetched_urls")),
        sa.UniqueConstraint("source_id", "url", name=op.f("uq_fetched_urls_source_id_url")),
    )

    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("not_modified", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("skipped", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("skipped")
        batch_op.drop_column("not_modified")

    op.drop_table("fetched_urls")
    with op.batch_alter_table("article_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_bands_article_id"))
    op.drop_table("article_bands")

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("minhash")
