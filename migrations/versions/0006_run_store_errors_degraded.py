"""crawl_runs.store_errors, and "degraded" allowed by the crawl_runs.status CHECK

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00

A crawl that fetched stories but could not store some of them was recorded as
``ok`` with the losses hidden in ``errors``. From here on they are counted in
their own column, and such a run ends ``degraded``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None

# Frozen here rather than imported: a migration must keep meaning what it meant
# when it was written, whatever RunStatus becomes.
OLD_STATUSES = ("running", "ok", "failed", "timeout", "interrupted")
NEW_STATUSES = (*OLD_STATUSES, "degraded")


def _check(statuses: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{s}'" for s in statuses))


# As in 0005: SQLite batch mode rebuilds crawl_runs (copy, drop, rename), and with
# foreign keys on the drop sets every version's crawl_run_id to NULL, so the links
# are saved first and put back once the new table (same ids) is in place.
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


def _rebuild_crawl_runs(statuses: tuple[str, ...], *, store_errors: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _save_run_links()
    # One batch: on SQLite the column and the constraint change in a single rebuild.
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        if store_errors:
            batch_op.add_column(
                sa.Column("store_errors", sa.Integer(), server_default="0", nullable=False)
            )
        else:
            batch_op.drop_column("store_errors")
        batch_op.drop_constraint(op.f("ck_crawl_runs_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_crawl_runs_status"), _check(statuses))
    if sqlite:
        _restore_run_links()


def upgrade() -> None:
    _rebuild_crawl_runs(NEW_STATUSES, store_errors=True)


def downgrade() -> None:
    # 0005's code knows no "degraded": such a run lost stories, so it was not ok.
    # Its store errors go back into errors, where 0005 counted them.
    op.execute("UPDATE crawl_runs SET errors = errors + store_errors")
    op.execute("UPDATE crawl_runs SET status = 'failed' WHERE status = 'degraded'")
    _rebuild_crawl_runs(OLD_STATUSES, store_errors=False)
