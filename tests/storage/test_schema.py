"""The schema comes only from the Alembic migrations, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from newsarchive.storage import create_archive_engine
from newsarchive.storage.models import Base
from newsarchive.storage.schema import current_revision, downgrade, head_revision, upgrade
from tests.cli_process import run_cli

TABLES = {"sources", "articles", "article_versions", "crawl_runs"}


def test_db_upgrade_from_empty_creates_the_schema(database_url: str) -> None:
    result = run_cli("db", "upgrade", env={"NEWSARCHIVE_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert f"at revision {head_revision()}" in result.stdout

    engine = create_archive_engine(database_url)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_migrations_match_the_models(engine) -> None:
    """The models must describe exactly what the migrations built."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from newsarchive.storage.search import include_in_schema_comparison

    # The search index is raw SQL per dialect (FTS5 / tsvector), not a model.
    opts = {"include_name": include_in_schema_comparison}
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts=opts), Base.metadata)
    assert diff == []


def test_downgrade_then_upgrade_round_trip(engine) -> None:
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_unreachable_database_is_a_clear_error_with_exit_code_3(tmp_path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = run_cli("db", "upgrade", env={"NEWSARCHIVE_DATABASE_URL": url})
    assert result.returncode == 3
    assert "unreachable" in result.stderr and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
