"""A crawl that could not store is not ``ok``: a lost database stops it and fails its run, store
errors make it ``degraded``, ``status`` says so, and a full disk leaves no torn WARC file."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.http import HtmlResponse
from warcio.archiveiterator import ArchiveIterator

from newsarchive.crawler.conditional import ConditionalFetchMiddleware
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.pages import FetchedPage
from newsarchive.crawler.pipelines.clean import CleanPipeline
from newsarchive.crawler.pipelines.dedupe import DedupePipeline
from newsarchive.crawler.pipelines.store import DATABASE_UNAVAILABLE, StoreFailed, StorePipeline
from newsarchive.crawler.run import _finish_run, _summarise
from newsarchive.crawler.warc import WarcArchiveMiddleware
from newsarchive.storage import CrawlStore
from newsarchive.storage.runs import RunCounters, RunRecord, RunStatus, get_run
from newsarchive.storage.warc import OPEN_SUFFIX, WarcWriter, read_response_body
from tests.crawler.components import make_crawler, run
from tests.storage.test_outage import proxied_postgres


class _Engine:
    """Stands in for Scrapy's engine: records why the crawl was asked to close."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def close_spider_async(self, *, reason: str) -> Any:
        self.reasons.append(reason)
        return _done()


async def _done() -> None:
    return None


def _story(n: int, words: str = "") -> tuple[ArticleItem, HtmlResponse]:
    url = f"http://127.0.0.1/news/2024/05/story-{n}.html"
    text = f"Story number {n} tells of a different harbour event in some detail. {words}" * 8
    body = (
        f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
        f"<p>{text}</p></article></body></html>"
    ).encode()
    page = FetchedPage(source="harbour", url=url, body=body, listed=True)
    return ArticleItem(page), HtmlResponse(url, body=body, headers={"ETag": f'"{n}"'})


class Crawl:
    """The conditional middleware and the clean → dedupe → store pipelines of one crawl."""

    def __init__(self, store: CrawlStore, run_id: int | None = None) -> None:
        self.crawler = make_crawler(
            store, run_id=run_id, settings={"NEWSARCHIVE_TEMPLATE_LEARNING": False}
        )
        self.engine = _Engine()
        self.crawler.engine = self.engine  # type: ignore[assignment]
        self.conditional = ConditionalFetchMiddleware.from_crawler(self.crawler)
        self.clean = CleanPipeline.from_crawler(self.crawler)
        self.dedupe = DedupePipeline.from_crawler(self.crawler)
        self.store = StorePipeline.from_crawler(self.crawler)
        self.clean.spider_opened()

    def fetch(self, n: int, words: str = "") -> None:
        """Download story ``n`` (its validators noted) and store it, or raise StoreFailed."""
        item, response = _story(n, words)
        self.conditional.process_response(
            Request(response.url, meta={"conditional": True}), response
        )
        try:
            item = run(self.clean.process_item(item))
            run(self.store.process_item(self.dedupe.process_item(item)))
        except StoreFailed as exc:
            # As Scrapy's scraper does for an item a pipeline dropped.
            self.crawler.signals.send_catch_log(
                signals.item_dropped,
                item=item,
                response=response,
                exception=exc,
                spider=self.crawler.spider,
            )
            raise

    def close(self, reason: str) -> None:
        self.crawler.stats.set_value("finish_reason", reason)
        self.clean.spider_closed()
        self.store.close_spider()
        run(self.conditional.spider_closed())

    def stat(self, key: str) -> int:
        return int(self.crawler.stats.get_value(key, 0))


def test_a_database_gone_for_good_stops_the_crawl_and_fails_its_run(pg_url: str) -> None:
    with proxied_postgres(pg_url) as (proxy, url), CrawlStore(url, retry_seconds=2) as store:
        store.migrate()
        run_id = store.start_run("harbour")
        crawl = Crawl(store, run_id)
        crawl.fetch(1)
        proxy.stop()

        with pytest.raises(StoreFailed):
            crawl.fetch(2)  # waits the 2 s bound, then gives up
        assert crawl.engine.reasons == [DATABASE_UNAVAILABLE]
        with pytest.raises(StoreFailed, match="database unavailable"):
            crawl.fetch(3)  # in flight as the crawl stops: fails at once
        assert crawl.engine.reasons == [DATABASE_UNAVAILABLE]
        assert crawl.stat("newsarchive/store_errors") == 2 and crawl.stat("newsarchive/errors") == 0

        proxy.start()  # back in time to record the run and the validators
        crawl.close(DATABASE_UNAVAILABLE)
        summary = _finish_run(store, _summarise("harbour", run_id, crawl.crawler), run_id)
        validators = store.validators("harbour")
        recorded = get_run(store.engine, run_id)

    assert summary.status is RunStatus.FAILED
    assert (summary.new, summary.store_errors) == (1, 2)
    assert recorded is not None and recorded.status is RunStatus.FAILED
    assert recorded.store_errors == 2 and recorded.error == summary.error
    assert recorded.error is not None and "crawl stopped: database" in recorded.error
    assert "unavailable for" in recorded.error and "s3cret" not in recorded.error
    # The stories not stored are fetched in full next time, not answered 304.
    assert set(validators) == {_story(1)[1].url}


def _summary(reason: str = "finished", **stats: int) -> Any:
    crawler = make_crawler(None)
    crawler.stats.set_value("finish_reason", reason)
    crawler.stats.set_value("response_received_count", 5)
    crawler.stats.set_value("downloader/response_status_count/200", 5)
    for key, value in stats.items():
        crawler.stats.set_value(f"newsarchive/{key}", value)
    if stats.get("store_errors"):
        crawler.stats.set_value("newsarchive/store_failure", "could not store x: disk I/O error")
    return _summarise("harbour", 1, crawler)


def test_store_errors_make_a_finished_crawl_degraded_or_failed_never_ok() -> None:
    assert _summary(new=3).status is RunStatus.OK

    degraded = _summary(new=2, unchanged=1, store_errors=2)
    assert degraded.status is RunStatus.DEGRADED and degraded.store_errors == 2
    assert degraded.errors == 0
    assert degraded.error == "2 of 5 stories could not be stored; could not store x: disk I/O error"

    lost_all = _summary(store_errors=4)
    assert lost_all.status is RunStatus.FAILED
    assert lost_all.error is not None and lost_all.error.startswith("4 of 4 stories")

    timed_out = _summary("closespider_timeout", new=1, store_errors=1)
    assert timed_out.status is RunStatus.TIMEOUT
    assert "1 of 2 stories could not be stored" in (timed_out.error or "")


def test_a_run_end_the_database_cannot_take_still_gives_a_failed_summary(pg_url: str) -> None:
    with proxied_postgres(pg_url) as (proxy, url), CrawlStore(url, retry_seconds=0.5) as store:
        store.migrate()
        run_id = store.start_run("harbour")
        proxy.stop()
        summary = _finish_run(store, _summary(new=3), run_id)
        proxy.start()
        recorded = get_run(store.engine, run_id)
    assert summary.status is RunStatus.FAILED and summary.new == 3
    assert summary.error is not None and summary.error.startswith("run ok but not recorded:")
    # Left running: the next crawl of the source, holding its lock, marks it interrupted.
    assert recorded is not None and recorded.status is RunStatus.RUNNING


def _record(status: RunStatus, hours_ago: float, **counters: int) -> RunRecord:
    started = datetime(2024, 5, 1, 12, tzinfo=UTC) - timedelta(hours=hours_ago)
    return RunRecord(
        id=int(hours_ago * 10),
        source="harbour",
        started_at=started,
        finished_at=started + timedelta(minutes=1),
        status=status,
        error=None,
        **RunCounters(**counters).as_dict(),
    )


def test_a_degraded_run_is_completed_but_no_failure_for_the_backoff() -> None:
    from newsarchive.config import DaemonConfig, SourceConfig
    from newsarchive.scheduler.timing import next_due
    from newsarchive.storage.runs import consecutive_failures

    failed = [_record(RunStatus.FAILED, h) for h in (3, 4, 5)]
    degraded = _record(RunStatus.DEGRADED, 1 / 6, store_errors=2)
    runs = [degraded, *failed]
    # The site answered: the failures before it no longer make a failing streak.
    assert consecutive_failures(runs) == 0
    source = SourceConfig(name="harbour", start_urls=["http://127.0.0.1/"], schedule="@every 1h")
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    # An hour after the degraded run: it is the last completed one, and there is no backoff
    # (counted as a fourth failure it would push the next run hours later).
    due = next_due(source, runs, DaemonConfig(failure_backoff_after=3), now)
    assert due == degraded.started_at + timedelta(hours=1)


def test_status_reports_a_degraded_last_run_and_exits_1(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsarchive.cli.main import main
    from newsarchive.storage import create_archive_engine, ensure_schema
    from newsarchive.storage.runs import finish_run, start_run
    from tests.scheduler.daemon_harness import write_config

    engine = create_archive_engine(sqlite_url)
    ensure_schema(engine)
    run_id = start_run(engine, "harbour")
    counters = RunCounters(pages=5, new=3, store_errors=2)
    finish_run(engine, run_id, RunStatus.DEGRADED, counters, "2 of 5 stories could not be stored")
    engine.dispose()
    sources = [{"name": "harbour", "start_urls": ["http://127.0.0.1:9/"]}]
    config = write_config(tmp_path / "newsarchive.toml", sqlite_url, sources)

    assert main(["--config", str(config), "status"]) == 1
    out = capsys.readouterr().out
    assert "degraded" in out and "DEGRADED: 2 stories not stored" in out
    assert "harbour: last error: 2 of 5 stories could not be stored" in out

    assert main(["--config", str(config), "runs", "--format", "jsonl"]) == 0
    assert '"store_errors": 2' in capsys.readouterr().out


# A full disk: a real one where a small tmpfs can be mounted, else a file that raises ENOSPC.


@contextlib.contextmanager
def _tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A filesystem of ``size`` at ``mount``; the test is skipped where mounting is not allowed."""
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 96 KiB filesystem."""
    with _tmpfs(tmp_path / "small", "96k") as mount:
        yield mount


def test_sqlite_on_a_full_disk_stops_the_crawl_and_its_run_says_so(tmp_path: Path) -> None:
    with (
        _tmpfs(tmp_path / "small", "1m") as disk,
        CrawlStore(f"sqlite:///{disk / 'archive.db'}", retry_seconds=0.5) as store,
    ):
        store.migrate()
        run_id = store.start_run("harbour")
        crawl = Crawl(store, run_id)
        with pytest.raises(StoreFailed):
            for n in range(500):
                crawl.fetch(
                    n,
                    words=" ".join(os.urandom(2_000).hex()[i : i + 7] for i in range(0, 4_000, 7)),
                )
        crawl.close(DATABASE_UNAVAILABLE)
        summary = _summarise("harbour", run_id, crawl.crawler)
    assert crawl.engine.reasons == [DATABASE_UNAVAILABLE]
    assert summary.status is RunStatus.FAILED and summary.new > 0 and summary.store_errors == 1
    assert summary.error is not None and "disk is full" in summary.error


def _exchange(writer: WarcWriter, n: int) -> Any:
    return writer.write_exchange(
        f"http://127.0.0.1/{n}",
        method="GET",
        request_headers=[],
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html")],
        body=os.urandom(9_000),  # incompressible: fills the disk in a few writes
    )


def test_a_full_disk_leaves_a_complete_closed_warc_file(small_disk: Path) -> None:
    writer = WarcWriter(small_disk, max_size=10**9)
    written = []
    with pytest.raises(OSError) as raised:
        for n in range(100):
            written.append((n, _exchange(writer, n)))
    assert raised.value.errno in (errno.ENOSPC, errno.EFBIG)
    writer.close()

    files = sorted(p.name for p in small_disk.iterdir())
    assert len(files) == 1 and not files[0].endswith(OPEN_SUFFIX)
    with open(small_disk / files[0], "rb") as f:
        types = [record.rec_type for record in ArchiveIterator(f)]
    assert types == ["warcinfo"] + ["response", "request"] * len(written)
    assert all(read_response_body(small_disk, location) for _, location in written)


class _FillsUp:
    """The writer's file, as on a disk with room for ``room`` more bytes."""

    def __init__(self, file: Any, room: int) -> None:
        self.file = file
        self.room = room

    def write(self, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = self.file.write(data[: self.room])
        self.room -= n
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)


def test_the_warc_middleware_logs_a_full_disk_once_and_stops_archiving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warc_dir = tmp_path / "warc"
    crawler = make_crawler(None, run_id=7, settings={"NEWSARCHIVE_WARC_DIR": str(warc_dir)})
    middleware = WarcArchiveMiddleware.from_crawler(crawler)
    middleware.spider_opened()
    request = Request("http://127.0.0.1/news/0.html")
    run(middleware.process_response(request, HtmlResponse(request.url, body=b"<p>first</p>")))
    assert "warc" in request.meta
    writer = middleware.writer
    assert writer is not None and writer.path is not None
    open_name = writer.path.name
    writer._file = _FillsUp(writer._file, room=100)  # type: ignore[assignment]

    requests = [Request(f"http://127.0.0.1/news/{n}.html") for n in range(1, 4)]
    for r in requests:
        response = HtmlResponse(r.url, body=b"<p>later</p>" * 50)
        assert run(middleware.process_response(r, response)) is response
    middleware.spider_closed()

    # No location: the callback hands the body to the store as raw_html instead.
    assert not any("warc" in r.meta for r in requests)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    message = errors[0].getMessage()
    assert requests[0].url in message and open_name in message and "No space left" in message
    assert [p.name for p in warc_dir.iterdir()] == [open_name.removesuffix(OPEN_SUFFIX)]
    assert read_response_body(warc_dir, request.meta["warc"]) == b"<p>first</p>"
