"""Alembic environment: migrations run in one transaction, under a lock, on the given engine."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from newsarchive.storage.engine import create_archive_engine, writer
from newsarchive.storage.models import Base
from newsarchive.storage.search import include_in_schema_comparison

# Any 64-bit number unique to this application: PostgreSQL advisory lock key.
MIGRATION_LOCK_KEY = 0x6E657773617263  # "newsarc"

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` command line: take the URL from alembic.ini / -x
        engine = create_archive_engine(config.get_main_option("sqlalchemy.url"))
    # writer(): on SQLite the transaction opens with BEGIN IMMEDIATE, which
    # serialises processes that start at once the way the advisory lock does below.
    with writer(engine).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_in_schema_comparison,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY}
                )
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
