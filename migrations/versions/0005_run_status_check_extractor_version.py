"""crawl_runs.status CHECK constraint, article_versions.extractor_version, cluster representatives

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00

Duplicate clusters were rooted at their earliest-seen member; from here on the
root is the earliest-published one (see storage/articles.py), so existing
clusters are re-pointed to that member once, here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

# Frozen here rather than imported: a migration must keep meaning what it meant
# when it was written, whatever RunStatus becomes.
STATUSES = ("running", "ok", "failed", "timeout", "interrupted")
STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES))

# Per cluster (root id) the member that represents it: dated before undated, then
# earliest published, earliest seen, lowest id.
REPRESENTATIVES = """
    SELECT cluster, id AS representative FROM (
        SELECT a.id, coalesce(a.duplicate_of, a.id) AS cluster,
            row_number() OVER (
                PARTITION BY coalesce(a.duplicate_of, a.id)
                ORDER BY v.published_at IS NULL, v.published_at, a.first_seen_at, a.id
            ) AS rank
        FROM articles a
        JOIN article_versions v ON v.article_id = a.id AND v.version = a.version
        WHERE coalesce(a.duplicate_of, a.id) IN (
            SELECT duplicate_of FROM articles WHERE duplicate_of IS NOT NULL
        )
    ) ranked
    WHERE rank = 1 AND id <> cluster
"""


def _repoint_clusters() -> None:
    op.execute(f"CREATE TEMPORARY TABLE repoint_clusters AS {REPRESENTATIVES}")
    # Every member of a re-pointed cluster (its old root included) points at the
    # representative; then the representative itself becomes the root.
    op.execute(
        """UPDATE articles SET duplicate_of = (
            SELECT representative FROM repoint_clusters
            WHERE repoint_clusters.cluster = coalesce(articles.duplicate_of, articles.id))
        WHERE coalesce(duplicate_of, id) IN (SELECT cluster FROM repoint_clusters)"""
    )
    op.execute(
        "UPDATE articles SET duplicate_of = NULL"
        " WHERE id IN (SELECT representative FROM repoint_clusters)"
    )
    op.execute("DROP TABLE repoint_clusters")


# SQLite batch mode rebuilds crawl_runs: copy, drop, rename. With foreign keys on
# (and PRAGMA foreign_keys cannot change inside the migration's transaction) the
# drop fires ON DELETE SET NULL on every version's crawl_run_id, so the links are
# saved first and put back once the new table (same ids) is in place.
def _save_run_links() -> None:
    op.execute(
        "CREATE TEMPORARY TABLE saved_run_links AS SELECT id, crawl_run_id"
        " FROM article_versions WHERE crawl_run_id IS NOT NULL"
    )


def _restore_run_links() -> None:
    op.execute(
        """UPDATE article_versions SET crawl_run_id = (
            SELECT crawl_run_id FROM saved_run_links WHERE saved_run_links.id = article_versions.id)
        WHERE id IN (SELECT id FROM saved_run_links)"""
    )
    op.execute("DROP TABLE saved_run_links")


def upgrade() -> None:
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extractor_version", sa.String(length=32), nullable=True))

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _save_run_links()
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_crawl_runs_status"), STATUS_CHECK)
    if sqlite:
        _restore_run_links()

    _repoint_clusters()


def downgrade() -> None:
    # Clusters stay rooted at their representatives: still valid clusters for 0004's code.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _save_run_links()
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_crawl_runs_status"), type_="check")
    if sqlite:
        _restore_run_links()

    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.drop_column("extractor_version")
