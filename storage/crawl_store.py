"""The one seam between a crawl (or a re-extraction, or an import) and the archive database.

A :class:`CrawlStore` owns one engine for the whole crawl process and offers
everything a crawl asks of the database: the crawl lock and the run row, the
HTTP validators and known articles of earlier crawls, the learned template,
and saving an article. Every failure of the database surfaces as
:class:`StorageError`, so the crawler never sees, imports or catches
SQLAlchemy.

Methods are safe to call from worker threads (the engine pools connections);
each write is its own transaction.

A database that goes away mid-crawl (restarted, failed over, a full disk) is
waited for: each call retries its transaction with exponential backoff, within
``retry_seconds`` (see :func:`is_transient`), and only then raises
:class:`StorageUnavailable`. Only errors that say nothing about the data are
retried; an integrity error is raised at once. Retrying a write is safe because
a failed transaction rolled back whole; one whose commit reached the database
before the connection dropped is stored again as ``unchanged``, not twice
(``save_article`` is idempotent per canonical URL and content hash).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from . import events, fetches, imports, locks, runs, templates
from .articles import DEFAULT_NEAR_DUPLICATE_THRESHOLD, FetchedArticle, Outcome, save_article
from .engine import StatementTimeouts, create_archive_engine, read_session, write_session
from .events import EventKind
from .fetches import FetchRecord, KnownArticle, Validators
from .imports import ImportFileState
from .raw import ArchivedResponse, archived_responses
from .runs import RunCounters, RunFigures, RunStatus
from .schema import ensure_schema

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = 60.0
"""How long one call waits for an unreachable database before giving up."""
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
"""Backoff doubles up to this: a database back after 40 s is noticed within 8 s."""

# PostgreSQL errors that are operational but permanent: wrong password or role
# (class 28), no such database. Waiting for them only delays the report.
PERMANENT_SQLSTATE_CLASSES = ("28",)
PERMANENT_SQLSTATES = frozenset({"3D000"})
# SQLite primary result codes worth waiting out: busy/locked (another writer), an
# I/O error or full disk (space may be freed), a file that cannot be opened (a
# remount). The rest (SQLITE_ERROR: no such table, a constraint) are permanent.
SQLITE_TRANSIENT_CODES = frozenset({5, 6, 10, 13, 14})


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was unreachable or busy, not that the work was wrong.

    Such a transaction rolled back whole (or its connection died with it), so the
    same call may simply be made again.
    """
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return (sqlite_code & 0xFF) in SQLITE_TRANSIENT_CODES
    # Else deadlocks, serialisation failures, statement and lock timeouts, a server
    # shutting down, and a refused or lost connection (no SQLSTATE at all).
    sqlstate = _sqlstate(exc) or ""
    return sqlstate not in PERMANENT_SQLSTATES and not sqlstate.startswith(
        PERMANENT_SQLSTATE_CLASSES
    )


class StorageError(Exception):
    """The archive database could not do what was asked (unreachable, refused, locked)."""


class StorageUnavailable(StorageError):
    """The database stayed unreachable (or busy) for the whole retry bound.

    Unlike a refused write, the next call will most likely fail the same way:
    a crawl should stop rather than fetch pages it cannot store.
    """


def storage_error(exc: SQLAlchemyError) -> StorageError:
    """The database's own complaint, first line only (no SQL, no parameters)."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return StorageError(message.splitlines()[0] if message else type(exc).__name__)


def _storage_errors(method: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc

    return wrapper


S = TypeVar("S", bound="CrawlStore")


def _retrying(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[S, P], T]:
    """Run ``method`` through :meth:`CrawlStore._retry`; it must be one transaction."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._retry(method.__name__, lambda: method(self, *args, **kwargs))

    return wrapper


class CrawlStore:
    """The archive as one crawl process sees it, over one engine (see the module docstring)."""

    def __init__(
        self,
        database_url: str,
        *,
        near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        timeouts: StatementTimeouts | None = None,
    ) -> None:
        self._url = database_url
        self.engine: Engine = create_archive_engine(
            database_url, timeouts=timeouts or StatementTimeouts()
        )
        self.near_duplicate_threshold = near_duplicate_threshold
        self.retry_seconds = retry_seconds
        # Set when a call gave up waiting: later calls try once instead of each
        # waiting the whole bound again, until one succeeds. finish_run waits anyway.
        self._given_up = False

    @property
    def database(self) -> str:
        """The database URL with its password masked, for log lines and errors."""
        return make_url(str(self.engine.url)).render_as_string(hide_password=True)

    def _retry(self, what: str, call: Callable[[], T], *, patient: bool = False) -> T:
        """``call()``, made again while it fails transiently, for up to ``retry_seconds``."""
        started = time.monotonic()
        bound = self.retry_seconds if patient or not self._given_up else 0.0
        delay = FIRST_RETRY_DELAY
        attempts = 0
        while True:
            attempts += 1
            try:
                result = call()
            except SQLAlchemyError as exc:
                waited = time.monotonic() - started
                if not is_transient(exc):
                    raise storage_error(exc) from exc
                if waited >= bound:
                    if bound:
                        self._given_up = True
                        logger.error(
                            "database %s unreachable for %.1fs (%d attempts), giving up: %s",
                            self.database,
                            waited,
                            attempts,
                            storage_error(exc),
                        )
                    raise StorageUnavailable(
                        f"database {self.database} unavailable for {waited:.1f}s:"
                        f" {storage_error(exc)}"
                    ) from exc
                if attempts == 1:
                    logger.warning(
                        "database %s did not answer %s (%s), retrying for up to %gs",
                        self.database,
                        what,
                        storage_error(exc),
                        bound,
                    )
                time.sleep(min(delay, bound - waited))
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            if attempts > 1:
                logger.warning(
                    "database %s answered again after %.1fs (%d attempts)",
                    self.database,
                    time.monotonic() - started,
                    attempts,
                )
            self._given_up = False
            return result

    @_storage_errors
    def migrate(self) -> None:
        """Bring the schema to the shipped head revision (cheap when it is there).

        On an engine of its own, without the statement timeouts: a migration of a
        large archive may rightly run for minutes. Not retried: before the crawl
        starts there is nothing to lose, so an unusable database is reported at once.
        """
        if self.engine.dialect.name == "sqlite":  # no timeouts; maybe an in-memory database
            ensure_schema(self.engine)
            return
        engine = create_archive_engine(self._url)
        try:
            ensure_schema(engine)
        finally:
            engine.dispose()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CrawlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Runs and locks

    @contextlib.contextmanager
    def source_lock(self, source: str) -> Iterator[bool]:
        """Try to take ``source``'s crawl lock without waiting; yields whether it is held."""
        try:
            lock = locks.source_lock(self.engine, source)
            held = lock.__enter__()
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc
        try:
            yield held
        finally:
            lock.__exit__(None, None, None)

    @_retrying
    def mark_stale_runs_interrupted(self, source: str) -> list[int]:
        """Close ``running`` rows a killed crawl of ``source`` left (hold its lock first)."""
        return runs.mark_stale_runs_interrupted(self.engine, source)

    @_retrying
    def start_run(self, source: str, *, worker: str | None = None) -> int:
        return runs.start_run(self.engine, source, worker=worker)

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counters: RunCounters,
        error: str | None,
        figures: RunFigures | None = None,
    ) -> None:
        """Close the run; waits the whole retry bound even after other calls gave up,
        as the run's outcome is what ``status`` and the daemon read."""
        self._retry(
            "finish_run",
            lambda: runs.finish_run(self.engine, run_id, status, counters, error, figures),
            patient=True,
        )

    # What earlier crawls learned

    @_retrying
    def validators(self, source: str) -> dict[str, Validators]:
        """URL → the ETag / Last-Modified the source's crawls last got for it."""
        return fetches.load_validators(self.engine, source)

    @_retrying
    def record_fetches(self, source: str, records: Iterable[FetchRecord]) -> int:
        return fetches.record_fetches(self.engine, source, records)

    @_retrying
    def known_articles(self, source: str) -> list[KnownArticle]:
        """The articles ``source``'s crawls stored, with the times the recrawl policy needs."""
        return list(fetches.iter_known_articles(self.engine, source))

    # Not retried: the recrawl middleware waits on it, and without an answer it
    # simply fetches the URLs (more requests, nothing missed).
    @_storage_errors
    def known_by_url(self, source: str, canonical_urls: Iterable[str]) -> list[KnownArticle]:
        """The articles any source stored among ``canonical_urls``, as ``source`` sees them."""
        return fetches.known_by_url(self.engine, source, canonical_urls)

    @_retrying
    def template(self, source: str) -> dict[int, int]:
        """Block hash → distinct stories of ``source`` it was seen on (the learned template)."""
        return templates.load_template(self.engine, source)

    @_retrying
    def record_template(self, source: str, counts: Mapping[int, int]) -> int:
        return templates.record_blocks(self.engine, source, counts)

    # Takedowns

    @_retrying
    def removed_urls(self) -> set[str]:
        """URLs of the stories currently taken down (watched for their return)."""
        with read_session(self.engine) as session:
            return events.removed_urls(session)

    @_retrying
    def record_availability(
        self,
        kind: EventKind,
        urls: list[str],
        *,
        url: str,
        http_status: int | None,
        detail: str | None,
        crawl_run_id: int | None,
    ) -> list[int]:
        """Record a story known by ``urls`` as removed or restored; the ids that changed."""
        with write_session(self.engine) as session:
            return events.record_change(
                session,
                kind,
                urls,
                url=url,
                http_status=http_status,
                detail=detail,
                crawl_run_id=crawl_run_id,
            )

    # Articles

    @_retrying
    def save_article(self, fetched: FetchedArticle) -> Outcome:
        """Store one fetch of a story in its own transaction; what storing it did.

        A transaction PostgreSQL aborts as a deadlock (two writers re-pointing one
        duplicate cluster), or one cut off by a lost connection, rolled back
        completely, so it is simply run again (see the module docstring).
        """
        with write_session(self.engine) as session:
            return save_article(
                session, fetched, near_duplicate_threshold=self.near_duplicate_threshold
            )

    def save_articles(self, articles: Sequence[FetchedArticle]) -> list[Outcome | StorageError]:
        """Store several fetches in one transaction; what storing each did, in order.

        One commit for the lot instead of one per story: the crawl's database
        write was mostly per-transaction work (the write lock, the source's row,
        the commit). Each story is still all or nothing: if the database refuses
        one, the batch rolls back whole and every story is stored again in its own
        transaction, so the others keep and only the refused one gets its error.
        A database that stays away fails every story of the batch with
        :class:`StorageUnavailable`; nothing of it was committed.
        """
        if not articles:
            return []
        try:
            outcomes: list[Outcome | StorageError] = list(
                self._retry("save_articles", lambda: self._save_batch(articles))
            )
        except StorageUnavailable as exc:
            return [exc] * len(articles)
        except StorageError as exc:
            if len(articles) == 1:
                return [exc]
            return [self._save_alone(fetched) for fetched in articles]
        return outcomes

    def _save_batch(self, articles: Sequence[FetchedArticle]) -> list[Outcome]:
        with write_session(self.engine) as session:
            return [
                save_article(
                    session, fetched, near_duplicate_threshold=self.near_duplicate_threshold
                )
                for fetched in articles
            ]

    def _save_alone(self, fetched: FetchedArticle) -> Outcome | StorageError:
        try:
            return self.save_article(fetched)
        except StorageError as exc:
            return exc

    # Imports of WARC/WACZ files (storage.imports)

    @_retrying
    def begin_import_file(self, location: str, size: int | None) -> ImportFileState:
        return imports.begin_file(self.engine, location, size)

    @_retrying
    def record_import_progress(
        self, file_id: int, *, resume_offset: int, records: int, articles: int, errors: int
    ) -> None:
        imports.record_progress(
            self.engine,
            file_id,
            resume_offset=resume_offset,
            records=records,
            articles=articles,
            errors=errors,
        )

    @_retrying
    def finish_import_file(self, file_id: int, status: str) -> None:
        imports.finish_file(self.engine, file_id, status)

    @_retrying
    def ensure_imported_source(self, name: str) -> None:
        imports.ensure_imported_source(self.engine, name)

    def archived_responses(
        self,
        warc_dir: Path | None,
        *,
        source: str | None = None,
        since: datetime | None = None,
        url: str | None = None,
    ) -> Iterator[ArchivedResponse]:
        """The latest version's archived response of every article (see storage.raw)."""
        try:
            with read_session(self.engine) as session:
                yield from archived_responses(
                    session, warc_dir, source=source, since=since, url=url
                )
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc
