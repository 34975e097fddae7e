"""per-source template blocks learned from crawls

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_blocks",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_template_blocks_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("source_id", "block_hash", name=op.f("pk_template_blocks")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("template_blocks")
