"""What every command gets besides its arguments: the config and the database, each opened once.

Nothing heavy is imported here until a command asks for it, so commands that
need no database (``sources``, ``demo``) never load SQLAlchemy on its account.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from newsarchive.config import Config

# `scheme://user:password@` in text that was not parsed as a URL (an unparsable URL,
# a driver's message): the password part is replaced before anything is printed.
_CREDENTIALS = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


class DatabaseUnavailable(Exception):
    """The configured database cannot be used: its driver is missing or it cannot be reached."""

    def __init__(self, database: str, problem: str) -> None:
        super().__init__(f"database {database} {problem}")


class CommandContext:
    """Lazily loads the config and opens the engine, once per command run.

    Without ``create_database`` a SQLite file that does not exist is an error
    (:class:`DatabaseUnavailable`) instead of a new, empty archive: a command that
    only reads, pointed at the wrong file, must say so rather than report nothing.
    """

    def __init__(self, config_path: Path | None, *, create_database: bool = True) -> None:
        self.config_path = config_path
        self.create_database = create_database
        self._config: Config | None = None
        self._config_found = False
        self._engine: Engine | None = None
        self._migrated = False

    def config(self, *, required: bool = False) -> Config:
        """The config; ``required``: a missing default config file is an error, not empty."""
        from newsarchive.config import load_config

        # A lenient load that found no file is redone strictly: that raises the
        # "config file not found" error, the only way the two loads differ.
        if self._config is None or (required and not self._config_found):
            self._config = load_config(self.config_path, required=required)
            self._config_found = self._config.path.exists()
        return self._config

    def engine(self, *, migrate: bool = True) -> Engine:
        """The archive's engine, connected once to prove the database is there; with
        ``migrate`` an empty or old database is brought to the current schema first."""
        if self._engine is None:
            self._engine = self._connect()
        if migrate and not self._migrated:
            from newsarchive.storage import ensure_schema

            ensure_schema(self._engine)
            self._migrated = True
        return self._engine

    def check_database(self) -> None:
        """Fail now with :class:`DatabaseUnavailable`, before a package function that opens
        its own engine (crawl, reprocess) starts work; no connection is kept."""
        self.engine(migrate=False)
        self.close()

    def _connect(self) -> Engine:
        from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

        from newsarchive.storage import create_archive_engine

        url = self.config().database_url
        database = self.database_label()
        if not self.create_database and _missing_sqlite_file(url):
            raise DatabaseUnavailable(
                database, "does not exist (run a crawl or newsarchive db upgrade first)"
            )
        try:
            engine = create_archive_engine(url)
        except ImportError as exc:  # the dialect's DBAPI module, e.g. pg8000 or MySQLdb
            raise driver_missing(database, exc) from None
        except NoSuchModuleError as exc:
            raise DatabaseUnavailable(database, f"unusable: {scrub(str(exc), url)}") from None
        except ArgumentError as exc:
            raise DatabaseUnavailable(database, f"unusable: {scrub(str(exc), url)}") from None
        try:
            with engine.connect():
                pass
        except DBAPIError as exc:
            engine.dispose()
            raise DatabaseUnavailable(database, f"unreachable: {error_line(exc, url)}") from None
        return engine

    def database_url(self) -> str | None:
        """The configured database URL, or None when the config cannot be loaded."""
        try:
            return self.config().database_url
        except Exception:  # only used to decorate error messages
            return None

    def database_label(self) -> str:
        """The configured database URL with its password masked, for messages."""
        url = self.database_url()
        if url is None:
            return "database"
        try:
            from sqlalchemy.engine import make_url

            return make_url(url).render_as_string(hide_password=True)
        except Exception:  # unparsable: where its password is cannot be known, so not shown
            return "<unparsable URL>"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` names a SQLite file that does not exist (connecting would create it)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:  # reported when the engine is created
        return False
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    if database.startswith("file:"):  # a URI filename: its mode decides, not this check
        return False
    return not Path(database).exists()


def driver_missing(database: str, exc: ImportError) -> DatabaseUnavailable:
    return DatabaseUnavailable(database, f"unusable: its driver is not installed ({exc})")


def is_driver_import(exc: BaseException) -> TypeGuard[ImportError]:
    """Whether ``exc`` is SQLAlchemy failing to import a dialect's DBAPI module: raised
    where a package function (run_crawl, run_daemon, reprocess) creates its own engine."""
    if not isinstance(exc, ImportError):
        return False
    tb = exc.__traceback__
    while tb is not None:
        # Dialect.import_dbapi() is where every SQLAlchemy 2 dialect imports its driver.
        if tb.tb_frame.f_code.co_name == "import_dbapi":
            return True
        tb = tb.tb_next
    return False


def scrub(text: str, url: str | None = None) -> str:
    """``text`` with the password of ``url``, and anything shaped like a URL's password, masked."""
    if url:
        try:
            from sqlalchemy.engine import make_url

            password = make_url(url).password
        except Exception:
            password = None
        if password and len(str(password)) >= 3:  # masking "x" everywhere would garble text
            text = text.replace(str(password), "***")
    return _CREDENTIALS.sub(r"\1***@", text)


def error_line(exc: BaseException, url: str | None = None) -> str:
    """The first line of a database error (the driver's own message when there is one)."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return scrub(message.splitlines()[0] if message else type(exc).__name__, url)
