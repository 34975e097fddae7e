"""article_events (removed/restored), articles.removed_at, and per-run health figures

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:15:00

A known story that starts answering 404/410, or redirects to a home or section
page, gets a ``removed`` event (``restored`` if it comes back);
``articles.removed_at`` holds the current state for filters and export. Each
run records its HTTP status counts, the field coverage of its stories and the
WARC bytes it wrote, which the source health checks and ``/metrics`` read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_articles_removed_at"), "articles", ["removed_at"])
    op.add_column("crawl_runs", sa.Column("http_statuses", sa.JSON(), nullable=True))
    op.add_column("crawl_runs", sa.Column("field_coverage", sa.JSON(), nullable=True))
    op.add_column(
        "crawl_runs",
        sa.Column("warc_bytes", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_events_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_article_events_crawl_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_events")),
    )
    op.create_index(op.f("ix_article_events_article_id"), "article_events", ["article_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_article_events_article_id"), table_name="article_events")
    op.drop_table("article_events")
    op.drop_index(op.f("ix_articles_removed_at"), table_name="articles")
    op.drop_column("crawl_runs", "warc_bytes")
    op.drop_column("crawl_runs", "field_coverage")
    op.drop_column("crawl_runs", "http_statuses")
    op.drop_column("articles", "removed_at")
