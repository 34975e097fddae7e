"""article_versions.published_at_source and article_versions.access

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:15:00

Where a version's publication date came from (``json-ld``, ``meta``,
``time-element``, ``url``, ``text``, ``feed``, ``sitemap`` or ``first-seen``),
so a researcher can keep only dates that are trustworthy; and whether the story
is ``free``, ``paywalled`` or ``unknown``. Versions stored before this have
NULL in both: nothing recorded where their date came from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "article_versions", sa.Column("published_at_source", sa.String(length=16), nullable=True)
    )
    op.add_column("article_versions", sa.Column("access", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("article_versions", "access")
    op.drop_column("article_versions", "published_at_source")
