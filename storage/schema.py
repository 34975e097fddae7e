"""Schema versions: run the Alembic migrations shipped in ``newsarchive.migrations``."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine``; no alembic.ini needed, so it works from a wheel."""
    config = Config()
    config.set_main_option("script_location", str(files("newsarchive.migrations")))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    head = script.get_current_head()
    assert head is not None, "migrations/versions holds no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Migrate to head unless the database is already there (cheap check first)."""
    if current_revision(engine) != head_revision():
        upgrade(engine)
