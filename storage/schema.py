"""Schema versions: run the Alembic migrations shipped in ``newsarchive.migrations``.

Every crawl checks the schema first, and almost always finds it current, so the
check reads the stored revision with one query and the head from the migration
files' ``revision``/``down_revision`` lines; Alembic (a tenth of a CPU-second to
import) is loaded only to migrate, or when the history has branches.
"""

from __future__ import annotations

import logging
import re
from importlib.resources import files
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION_LINE = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]*)"|None)', re.M)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine``; no alembic.ini needed, so it works from a wheel."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("newsarchive.migrations")))
    config.attributes["engine"] = engine
    return config


def _linear_head() -> str | None:
    """The head read from the version files, or None if the history is not one line."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in files("newsarchive.migrations").joinpath("versions").iterdir():
        if not path.name.endswith(".py") or path.name.startswith("_"):
            continue
        found = dict((key, value) for key, value in _REVISION_LINE.findall(path.read_text()))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def head_revision() -> str:
    head = _linear_head()
    if head is not None:
        return head
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    head = script.get_current_head()
    assert head is not None, "migrations/versions holds no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None  # an empty database
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(rows) > 1:
        raise RuntimeError(f"the database has {len(rows)} schema heads: {sorted(rows)}")
    return rows[0][0] if rows else None


def _alembic_command() -> ModuleType:
    # Alembic 1.17 and later log the set-up of each of their own plugins at INFO when
    # imported: seven lines in a daemon's log that say nothing of the archive.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from alembic import command

    return command


def upgrade(engine: Engine, revision: str = "head") -> None:
    _alembic_command().upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    _alembic_command().downgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Migrate to head unless the database is already there (cheap check first)."""
    if current_revision(engine) != head_revision():
        upgrade(engine)
