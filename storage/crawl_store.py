"""The one seam between a crawl (or a re-extraction, or an import) and the archive database.

A :class:`CrawlStore` owns one engine for the whole crawl process and offers
everything a crawl asks of the database: the crawl lock and the run row, the
HTTP validators and known articles of earlier crawls, the learned template,
and saving an article. Every failure of the database surfaces as
:class:`StorageError`, so the crawler never sees, imports or catches
SQLAlchemy.

Methods are safe to call from worker threads (the engine pools connections);
each write is its own transaction.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from . import fetches, locks, runs, templates
from .articles import DEFAULT_NEAR_DUPLICATE_THRESHOLD, FetchedArticle, Outcome, save_article
from .engine import create_archive_engine, read_session, write_session
from .fetches import FetchRecord, KnownArticle, Validators
from .raw import ArchivedResponse, archived_responses
from .runs import RunCounters, RunStatus
from .schema import ensure_schema

P = ParamSpec("P")
T = TypeVar("T")


# deadlock_detected, serialization_failure: the transaction was rolled back whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
SAVE_ATTEMPTS = 3


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


class StorageError(Exception):
    """The archive database could not do what was asked (unreachable, refused, locked)."""


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


class CrawlStore:
    """The archive as one crawl process sees it, over one engine (see the module docstring)."""

    def __init__(
        self,
        database_url: str,
        *,
        near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
    ) -> None:
        self.engine: Engine = create_archive_engine(database_url)
        self.near_duplicate_threshold = near_duplicate_threshold

    @property
    def database(self) -> str:
        """The database URL with its password masked, for log lines and errors."""
        return make_url(str(self.engine.url)).render_as_string(hide_password=True)

    @_storage_errors
    def migrate(self) -> None:
        """Bring the schema to the shipped head revision (cheap when it is there)."""
        ensure_schema(self.engine)

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

    @_storage_errors
    def mark_stale_runs_interrupted(self, source: str) -> list[int]:
        """Close ``running`` rows a killed crawl of ``source`` left (hold its lock first)."""
        return runs.mark_stale_runs_interrupted(self.engine, source)

    @_storage_errors
    def start_run(self, source: str) -> int:
        return runs.start_run(self.engine, source)

    @_storage_errors
    def finish_run(
        self, run_id: int, status: RunStatus, counters: RunCounters, error: str | None
    ) -> None:
        runs.finish_run(self.engine, run_id, status, counters, error)

    # What earlier crawls learned

    @_storage_errors
    def validators(self, source: str) -> dict[str, Validators]:
        """URL → the ETag / Last-Modified the source's crawls last got for it."""
        return fetches.load_validators(self.engine, source)

    @_storage_errors
    def record_fetches(self, source: str, records: Iterable[FetchRecord]) -> int:
        return fetches.record_fetches(self.engine, source, records)

    @_storage_errors
    def known_articles(self, source: str) -> list[KnownArticle]:
        """The articles ``source``'s crawls stored, with the times the recrawl policy needs."""
        return list(fetches.iter_known_articles(self.engine, source))

    # Not retried: the recrawl middleware waits on it, and without an answer it
    # simply fetches the URLs (more requests, nothing missed).
    @_storage_errors
    def known_by_url(self, source: str, canonical_urls: Iterable[str]) -> list[KnownArticle]:
        """The articles any source stored among ``canonical_urls``, as ``source`` sees them."""
        return fetches.known_by_url(self.engine, source, canonical_urls)

    @_storage_errors
    def template(self, source: str) -> dict[int, int]:
        """Block hash → distinct stories of ``source`` it was seen on (the learned template)."""
        return templates.load_template(self.engine, source)

    @_storage_errors
    def record_template(self, source: str, counts: Mapping[int, int]) -> int:
        return templates.record_blocks(self.engine, source, counts)

    # Articles

    @_storage_errors
    def save_article(self, fetched: FetchedArticle) -> Outcome:
        """Store one fetch of a story in its own transaction; what storing it did.

        A transaction PostgreSQL aborts as a deadlock (two writers re-pointing one
        duplicate cluster) rolled back completely, so it is simply run again.
        """
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                with write_session(self.engine) as session:
                    return save_article(
                        session, fetched, near_duplicate_threshold=self.near_duplicate_threshold
                    )
            except DBAPIError as exc:
                if attempt == SAVE_ATTEMPTS or _sqlstate(exc) not in RETRYABLE_SQLSTATES:
                    raise
        raise AssertionError("unreachable")

    def archived_responses(
        self,
        warc_dir: Path | None,
        *,
        source: str | None = None,
        since: datetime | None = None,
    ) -> Iterator[ArchivedResponse]:
        """The latest version's archived response of every article (see storage.raw)."""
        try:
            with read_session(self.engine) as session:
                yield from archived_responses(session, warc_dir, source=source, since=since)
        except SQLAlchemyError as exc:
            raise storage_error(exc) from exc
