"""crawl_runs.worker and the workers table, for crawls run by a cluster of workers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:15:00

With ``[cluster]`` configured, crawls run on Celery workers on many machines.
Each run records the worker that ran it, and each worker keeps a heartbeat row
so that ``status`` can list the workers seen lately. Plain ADD COLUMN: SQLite
needs no table rebuild for a nullable column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crawl_runs", sa.Column("worker", sa.String(length=200), nullable=True))
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )


def downgrade() -> None:
    op.drop_table("workers")
    op.drop_column("crawl_runs", "worker")
