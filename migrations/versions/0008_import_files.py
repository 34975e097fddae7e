"""import_files (per-file progress of `newsarchive import`) and sources.imported

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:15:00

An import of WARC/WACZ files keeps, per file, how far it got, so that an
interrupted import resumes where it stopped and a finished file is not read
twice. A source created on the fly for an imported host is marked as such.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sources",
        sa.Column("imported", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "import_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("resume_offset", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("records", sa.Integer(), server_default="0", nullable=False),
        sa.Column("articles", sa.Integer(), server_default="0", nullable=False),
        sa.Column("errors", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_files")),
        sa.UniqueConstraint("location", name=op.f("uq_import_files_location")),
    )


def downgrade() -> None:
    op.drop_table("import_files")
    op.drop_column("sources", "imported")
