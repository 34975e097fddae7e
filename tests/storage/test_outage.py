"""A database that goes away mid-crawl: the store waits, reconnects and loses nothing, or gives
up after its bound. PostgreSQL is cut off for real, behind a TCP proxy the test stops."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from newsarchive.storage import CrawlStore, FetchedArticle, Outcome, StorageError, read_session
from newsarchive.storage import crawl_store as crawl_store_module
from newsarchive.storage.crawl_store import StorageUnavailable, is_transient
from newsarchive.storage.models import Article, ArticleVersion
from newsarchive.storage.runs import RunCounters, RunStatus, get_run

PASSWORD = "s3cret-never-printed"


class TcpProxy:
    """127.0.0.1:PORT → ``target``; :meth:`stop` refuses new connections and cuts all open ones,
    :meth:`start` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() on Linux
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextlib.contextmanager
def proxied_postgres(pg_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of ``pg_url``'s server and the URL through it (with a password,
    which trust authentication ignores, so tests can check it is never printed)."""
    url = make_url(pg_url)
    with TcpProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port, password=PASSWORD)
        yield proxy, through.render_as_string(hide_password=False)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll until ``condition()`` is true (the timeout only ends a hung test)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def story(n: int) -> FetchedArticle:
    url = f"http://127.0.0.1/news/{n}.html"
    return FetchedArticle(
        source="harbour",
        url=url,
        canonical_url=url,
        text=f"Story {n} of the harbour, told once and stored once. " * 5,
        content_hash=f"{n:064x}",
    )


def stored(url: str, canonical_url: str) -> tuple[int, int]:
    """(articles, versions) stored under ``canonical_url``, read past the proxy."""
    from newsarchive.storage import create_archive_engine

    engine = create_archive_engine(url)
    try:
        with read_session(engine) as session:
            articles = session.scalar(
                select(func.count(Article.id)).where(Article.canonical_url == canonical_url)
            )
            versions = session.scalar(
                select(func.count(ArticleVersion.id))
                .join(Article, Article.id == ArticleVersion.article_id)
                .where(Article.canonical_url == canonical_url)
            )
        return int(articles or 0), int(versions or 0)
    finally:
        engine.dispose()


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:  # handed to the test to assert on
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in r.getMessage() for r in list(caplog.records))


def test_a_save_during_an_outage_waits_for_the_database_and_is_stored(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="newsarchive.storage")
    with proxied_postgres(pg_url) as (proxy, url), CrawlStore(url, retry_seconds=30) as store:
        store.migrate()
        assert store.save_article(story(1)) is Outcome.NEW
        proxy.stop()  # the pooled connection dies, new ones are refused

        thread, result = in_thread(lambda: store.save_article(story(2)))
        wait_for(lambda: _logged(caplog, "did not answer"), "the store to notice the outage")
        proxy.start()
        thread.join(timeout=60)

        assert result.get("value") is Outcome.NEW, result
        assert stored(pg_url, story(2).canonical_url) == (1, 1)
    log = caplog.text
    assert "answered again after" in log
    assert f":{proxy.port}/" in log and "***" in log
    assert PASSWORD not in log


def test_the_run_is_finished_once_the_database_is_back(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="newsarchive.storage")
    with proxied_postgres(pg_url) as (proxy, url), CrawlStore(url, retry_seconds=30) as store:
        store.migrate()
        run_id = store.start_run("harbour")
        proxy.stop()
        thread, result = in_thread(
            lambda: store.finish_run(run_id, RunStatus.OK, RunCounters(pages=3, new=2), None)
        )
        wait_for(lambda: _logged(caplog, "did not answer finish_run"), "a failed attempt")
        proxy.start()
        thread.join(timeout=60)
        assert "error" not in result, result
        run = get_run(store.engine, run_id)
    assert run is not None and run.status is RunStatus.OK and run.new == 2


def test_a_database_that_stays_away_is_given_up_after_the_bound(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with proxied_postgres(pg_url) as (proxy, url), CrawlStore(url, retry_seconds=1) as store:
        store.migrate()
        proxy.stop()
        with pytest.raises(StorageUnavailable, match=r"unavailable for [\d.]+s") as raised:
            store.save_article(story(1))
        assert PASSWORD not in str(raised.value)
        assert "giving up" in caplog.text and PASSWORD not in caplog.text
        # Having given up, the next call tries once instead of waiting the bound again.
        with pytest.raises(StorageUnavailable, match=r"unavailable for 0\.\d+s"):
            store.save_article(story(2))
        proxy.start()
        assert store.save_article(story(3)) is Outcome.NEW


class _CommitThenDrop:
    """write_session whose first commit succeeds but whose connection then 'drops'."""

    def __init__(self) -> None:
        self.dropped = 0
        self.real = crawl_store_module.write_session

    @contextlib.contextmanager
    def __call__(self, engine: Any) -> Iterator[Any]:
        with self.real(engine) as session:
            yield session
        if not self.dropped:
            self.dropped += 1
            raise OperationalError(
                "COMMIT", {}, Exception("server closed the connection unexpectedly"), True
            )


def test_a_commit_that_reached_the_database_before_the_drop_is_not_stored_twice(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CrawlStore(database_url, retry_seconds=10) as store:
        store.migrate()
        drop = _CommitThenDrop()
        monkeypatch.setattr(crawl_store_module, "write_session", drop)
        # The retry finds the story stored by the "failed" commit: unchanged, not a second copy.
        assert store.save_article(story(1)) is Outcome.UNCHANGED
        assert drop.dropped == 1
        assert stored(database_url, story(1).canonical_url) == (1, 1)


def _sqlite_error(code: int) -> OperationalError:
    import sqlite3

    orig = sqlite3.OperationalError("database or disk is full")
    orig.sqlite_errorcode = code  # type: ignore[attr-defined]
    return OperationalError("INSERT", {}, orig)


class _PgError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("pg")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("x", {}, _PgError(None)), True),  # connection refused: no SQLSTATE
        (OperationalError("x", {}, _PgError("40P01")), True),  # deadlock
        (OperationalError("x", {}, _PgError("57014")), True),  # statement timeout
        (OperationalError("x", {}, _PgError("28P01")), False),  # wrong password
        (OperationalError("x", {}, _PgError("3D000")), False),  # no such database
        (ProgrammingError("x", {}, _PgError("42P01")), False),  # no such table
        (IntegrityError("x", {}, _PgError("23505")), False),
        (IntegrityError("x", {}, _PgError("23505"), connection_invalidated=True), True),
        (_sqlite_error(13), True),  # SQLITE_FULL
        (_sqlite_error(5), True),  # SQLITE_BUSY
        (_sqlite_error(1), False),  # SQLITE_ERROR: no such table
        (StorageError("not a database error"), False),
    ],
)
def test_only_errors_about_reaching_the_database_are_retried(
    error: Exception, transient: bool
) -> None:
    assert is_transient(error) is transient


def test_a_refused_write_is_raised_at_once_not_waited_on(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(crawl_store_module.time, "sleep", sleeps.append)
    with (
        CrawlStore(database_url, retry_seconds=60) as unmigrated,
        pytest.raises(StorageError) as raised,
    ):
        unmigrated.save_article(story(1))
    assert not isinstance(raised.value, StorageUnavailable)
    assert sleeps == []


def test_crawl_connections_time_out_and_other_engines_have_no_statement_limit(
    pg_url: str,
) -> None:
    from newsarchive.storage import create_archive_engine

    with CrawlStore(pg_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1min"
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "30s"
        params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
        assert params["connect_timeout"] == "10" and params["keepalives"] == "1"
    # Migrations and exports may rightly run for minutes.
    engine = create_archive_engine(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
        params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
        assert params["connect_timeout"] == "10"
    engine.dispose()
