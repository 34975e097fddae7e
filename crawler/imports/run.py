"""The import loop: WARC/WACZ records → the crawl's per-page path → the archive.

Every HTML ``response`` record becomes a :class:`~newsarchive.crawler.pages.FetchedPage`
(the capture's WARC-Date is its fetch time, its record the WARC location
kept) and takes the same steps as a crawled page: :func:`extract_story` with
the source's learned template, :func:`identify`, :func:`stored_article`, and
:meth:`CrawlStore.save_article`. A ``revisit`` whose payload digest is that of
a response met earlier in the import is stored as a fetch of that response at
the revisit's date: an unchanged fetch, not a new version.

With ``processes`` > 1 extraction and identity (the MinHash signature) run in
that many processes while this one reads records and stores the results, in
file order, so a file's ``resume_offset`` is always the end of a stored prefix
of it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import os
import shutil
import time
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

from newsarchive.config import Config
from newsarchive.storage import CrawlStore, FetchedArticle, Outcome, StorageError
from newsarchive.storage.crawl_store import StorageUnavailable
from newsarchive.storage.imports import DONE, FAILED, ImportFileState
from newsarchive.storage.warc import WarcLocation
from newsarchive.storage.warc_sources import (
    LocationError,
    is_url,
    is_wacz,
    open_location,
    open_sized,
    split_member,
    wacz_members,
)

from ..extraction import Extraction
from ..pages import (
    FetchedPage,
    NotAStory,
    StoryIdentity,
    archived_page,
    extract_story,
    identify,
    prepare_story,
    stored_article,
)
from ..pipelines.clean import TemplateLearner
from ..processes import extraction_pool
from ..settings import crawl_settings, setting_bool, setting_int
from ..urls import canonical_url, story_url
from .attribution import Attribution, covers
from .records import BadRecord, WarcRecord, read_records

logger = logging.getLogger(__name__)

CHECKPOINT_RECORDS = 200
CHECKPOINT_SECONDS = 5.0
"""Progress is written at most this far apart: a kill replays no more than that."""
PROGRESS_RECORDS = 20
"""The progress bar is told every this many records."""
REVISIT_MEMORY = 20_000
"""Responses remembered for the revisits that follow them (most recent first)."""
COPY_FOLDER = "imports"
"""Where ``--copy`` puts imported files, inside ``[archive] warc_dir``."""


@dataclass(frozen=True)
class ImportOptions:
    source: str | None = None
    """Attribute records no configured source covers to this source."""
    domains: Sequence[str] = ()
    """Import only captures of these domains (and hosts under them)."""
    languages: Sequence[str] = ()
    """Store only stories in these languages (ISO 639-1)."""
    since: datetime | None = None
    until: datetime | None = None
    """Import only captures dated in [since, until)."""
    processes: int = 1
    copy: bool = False
    """Copy each file into the WARC folder and point at the copy, not the original."""


@dataclass
class FileSummary:
    """What importing one file did (counters of this run, not of earlier interrupted ones)."""

    location: str
    status: str = "done"
    """``done``, ``already imported`` (nothing read), or ``failed``."""
    resumed_from: int = 0
    records: int = 0
    responses: int = 0
    """HTML ``response`` records read."""
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    not_article: int = 0
    revisits: int = 0
    skipped: int = 0
    """Responses not imported: not HTML, not 2xx, too large, outside the filters."""
    errors: int = 0
    """Truncated or corrupt records."""
    store_errors: int = 0
    error: str | None = None

    @property
    def articles(self) -> int:
        return self.new + self.updated + self.duplicates


COUNTED = ("records", "responses", "new", "updated", "unchanged", "duplicates")
COUNTED += ("not_article", "revisits", "skipped", "errors", "store_errors")


@dataclass
class ImportSummary:
    files: list[FileSummary] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, counter: str) -> int:
        return sum(getattr(f, counter) for f in self.files)

    @property
    def failed(self) -> bool:
        return any(f.status == FAILED or f.store_errors for f in self.files)


class ImportProgress(Protocol):
    """What the import tells its caller as it goes (the CLI draws a progress bar)."""

    def planned(self, files: int) -> None: ...

    def file_started(self, location: str, size: int | None, offset: int) -> None: ...

    def advanced(self, location: str, offset: int, summary: FileSummary) -> None: ...

    def file_finished(self, summary: FileSummary) -> None: ...


Identified = tuple[Extraction, StoryIdentity]
_Pending = tuple[WarcRecord | BadRecord, FetchedPage | None, "Future[Identified] | None"]


@dataclass(frozen=True)
class _ImportFile:
    location: str
    """The file as the user named it (absolute path or URL): its progress row's key."""
    read_from: str
    """Where its records are read, and what versions point at (a --copy: inside warc_dir)."""
    pointer: str
    """The file name stored in ``article_versions.warc_file``."""


def expand_locations(locations: Sequence[str]) -> list[str]:
    """Paths made absolute and each WACZ package replaced by the WARC files inside it."""
    expanded: list[str] = []
    for location in locations:
        if not is_url(location):
            path = Path(location).expanduser().resolve()
            if not path.is_file():
                raise LocationError(f"{location}: no such file")
            location = str(path)
        expanded.extend(wacz_members(location) if is_wacz(location) else [location])
    return expanded


def _copied(location: str, warc_dir: Path) -> _ImportFile:
    """``location``'s container copied into ``warc_dir/imports/`` (once), streamed."""
    container, member = split_member(location)
    # Prefixed by the original's location: two files of one name from two places differ.
    prefix = hashlib.sha1(container.encode()).hexdigest()[:8]
    name = f"{prefix}-{container.rstrip('/').rsplit('/', 1)[-1].split('?')[0]}"
    target = warc_dir / COPY_FOLDER / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with open_location(container) as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)  # a killed copy leaves a .part, never a torn file
    relative = f"{COPY_FOLDER}/{name}" + (f"#{member}" if member else "")
    return _ImportFile(location, str(target) + (f"#{member}" if member else ""), relative)


class _Importer:
    """One import run: its store, sources, templates, extraction processes, revisit memory."""

    def __init__(
        self,
        config: Config,
        store: CrawlStore,
        options: ImportOptions,
        progress: ImportProgress | None,
    ) -> None:
        settings = crawl_settings(config)
        self.store = store
        self.warc_dir = config.warc_dir
        self.options = options
        self.progress = progress
        self.min_pages = setting_int(settings, "NEWSARCHIVE_TEMPLATE_MIN_PAGES")
        self.learn = setting_bool(settings, "NEWSARCHIVE_TEMPLATE_LEARNING")
        configured = {s.name for s in config.sources}
        self.attribution = Attribution(config.sources, options.source)
        self.fallback_imported = options.source is not None and options.source not in configured
        self.learners: dict[str, TemplateLearner] = {}
        self.created_sources: set[str] = set()
        self.responses: OrderedDict[str, FetchedArticle | None] = OrderedDict()
        """Payload digest → what its response stored (None: no story), for revisits."""
        self.stopped = False
        """Set when the database stayed away: no further file is started."""
        self.file_id: int | None = None
        """The progress row of the file being read."""
        self.pool: ProcessPoolExecutor | None = None
        if options.processes > 1:
            self.pool = extraction_pool(options.processes)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        for source, learner in self.learners.items():
            self._record_template(source, learner)

    # Sources and templates

    def _source(self, url: str) -> str:
        name, created = self.attribution.source_for(url)
        if name not in self.created_sources:
            if created or (name == self.options.source and self.fallback_imported):
                self.store.ensure_imported_source(name)
            self.created_sources.add(name)
        return name

    def _learner(self, source: str) -> TemplateLearner | None:
        if not self.learn:
            return None
        if source not in self.learners:
            known: set[str] = set()
            for article in self.store.known_articles(source):
                known.update((article.canonical_url, canonical_url(article.url)))
            self.learners[source] = TemplateLearner(
                self.store.template(source), known, self.min_pages
            )
        return self.learners[source]

    def _template(self, page: FetchedPage) -> dict[int, int] | None:
        learner = self._learner(page.source)
        return learner.template if learner else None

    def _record_template(self, source: str, learner: TemplateLearner) -> None:
        pending = learner.take_pending()
        if not pending:
            return
        try:
            self.store.record_template(source, pending)
        except StorageError as exc:
            logger.error("[%s] template counts not stored: %s", source, exc)

    # One file

    def import_file(self, file: _ImportFile) -> FileSummary:
        summary = FileSummary(file.location)
        try:
            with open_sized(file.read_from) as (stream, size):
                return self._import_stream(file, stream, size, summary)
        except LocationError as exc:
            return self._failed(summary, str(exc))

    def _import_stream(
        self, file: _ImportFile, stream: IO[bytes], size: int | None, summary: FileSummary
    ) -> FileSummary:
        state = self.store.begin_import_file(file.location, size)
        if state.status == DONE:
            summary.status = "already imported"
            logger.info("%s: imported before, skipped", file.location)
            return summary
        self.file_id = state.id
        summary.resumed_from = state.resume_offset
        if state.resume_offset:
            logger.info("%s: resuming at byte %d", file.location, state.resume_offset)
        if self.progress:
            self.progress.file_started(file.location, size, state.resume_offset)
        last_checkpoint = time.monotonic()
        since_checkpoint = 0
        end = state.resume_offset
        try:
            for record, page, future in self._extracting(
                file, stream, state.resume_offset, summary
            ):
                self._handle(file, record, page, future, summary)
                summary.records += 1
                end = record.end
                since_checkpoint += 1
                now = time.monotonic()
                if (
                    since_checkpoint >= CHECKPOINT_RECORDS
                    or now - last_checkpoint >= CHECKPOINT_SECONDS
                ):
                    self._checkpoint(state, end, summary)
                    since_checkpoint, last_checkpoint = 0, now
                if self.progress and since_checkpoint % PROGRESS_RECORDS == 0:
                    self.progress.advanced(file.location, end, summary)
        except StorageUnavailable as exc:
            # Progress stays at the last checkpoint: the next import resumes there.
            summary.status = FAILED
            summary.error = str(exc)
            self.stopped = True
            logger.error("%s: stopped, the database is unavailable: %s", file.location, exc)
            return summary
        self._checkpoint(state, end, summary)
        self.store.finish_import_file(state.id, DONE)
        self.file_id = None
        if self.progress:
            self.progress.file_finished(summary)
        return summary

    def _failed(self, summary: FileSummary, error: str) -> FileSummary:
        """The file could not be read (on): the rest of it waits for the next import."""
        logger.error("%s: import failed: %s", summary.location, error)
        summary.status, summary.error = FAILED, error
        if self.file_id is not None:
            self.store.finish_import_file(self.file_id, FAILED)
            self.file_id = None
        if self.progress:
            self.progress.file_finished(summary)
        return summary

    def _checkpoint(self, state: ImportFileState, offset: int, summary: FileSummary) -> None:
        """Everything before ``offset`` is stored; the row's counters add up earlier runs'."""
        self.store.record_import_progress(
            state.id,
            resume_offset=offset,
            records=state.records + summary.records,
            articles=state.articles + summary.articles,
            errors=state.errors + summary.errors,
        )

    def _extracting(
        self, file: _ImportFile, stream: IO[bytes], start: int, summary: FileSummary
    ) -> Iterator[_Pending]:
        """Records in file order, each with its page and, with processes, its extraction
        under way: a few are kept ahead so the extraction processes stay busy."""
        window: deque[_Pending] = deque()
        ahead = 4 * self.options.processes
        for record in read_records(stream, start):
            page = self._page(file, record, summary) if isinstance(record, WarcRecord) else None
            future = None
            if page is not None and self.pool is not None:
                future = self.pool.submit(prepare_story, page, self._template(page), self.min_pages)
            window.append((record, page, future))
            if len(window) > ahead:
                yield window.popleft()
        yield from window

    def _page(
        self, file: _ImportFile, record: WarcRecord, summary: FileSummary
    ) -> FetchedPage | None:
        """The page to extract from a response record, or None (counted) for any other."""
        if record.kind != "response" or record.url is None:
            return None
        if record.body is None or record.status is None or not 200 <= record.status < 300:
            summary.skipped += 1
            return None
        if not self._wanted(record):
            summary.skipped += 1
            return None
        summary.responses += 1
        return FetchedPage(
            source=self._source(record.url),
            url=record.url,
            body=record.body,
            declared_encoding=record.charset,
            fetched_at=record.date or datetime.now(UTC),
            warc=WarcLocation(file.pointer, record.offset),
        )

    def _wanted(self, record: WarcRecord) -> bool:
        options = self.options
        if options.domains:
            host = (urlsplit(record.url or "").hostname or "").lower()
            if not any(covers(d.lower(), host) for d in options.domains):
                return False
        if record.date is not None:
            if options.since is not None and record.date < options.since:
                return False
            if options.until is not None and record.date >= options.until:
                return False
        return True

    def _handle(
        self,
        file: _ImportFile,
        record: WarcRecord | BadRecord,
        page: FetchedPage | None,
        future: Future[Identified] | None,
        summary: FileSummary,
    ) -> None:
        if isinstance(record, BadRecord):
            summary.errors += 1
            logger.warning(
                "%s: offset %d: %s record, skipped (next record at %d)",
                file.location,
                record.offset,
                record.reason,
                record.end,
            )
            return
        if record.kind == "revisit":
            self._revisit(record, summary)
            return
        if page is None:
            return
        try:
            extraction, identity = self._extraction(page, future)
        except NotAStory:
            summary.not_article += 1
            self._remember(record, None)
            return
        except Exception as exc:  # a page extraction cannot take must not end the import
            summary.errors += 1
            logger.error(
                "%s: offset %d: extraction of %s failed (%s: %s), skipped",
                file.location,
                record.offset,
                page.url,
                type(exc).__name__,
                exc,
            )
            return
        self._store_story(page, extraction, record, summary, identity)

    def _extraction(self, page: FetchedPage, future: Future[Identified] | None) -> Identified:
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:
                logger.error("an extraction process died; extracting in this process from now on")
                self.pool = None
        return prepare_story(page, self._template(page), self.min_pages)

    def _store_story(
        self,
        page: FetchedPage,
        extraction: Extraction,
        record: WarcRecord,
        summary: FileSummary,
        identity: StoryIdentity | None = None,
    ) -> None:
        if self.options.languages and extraction.language not in self.options.languages:
            summary.skipped += 1
            return
        fetched = stored_article(page, extraction, identity or identify(page, extraction))
        if self._store(fetched, summary):
            self._remember(record, fetched)
            learner = self._learner(page.source)
            if learner is not None:
                urls = [canonical_url(page.url), story_url(page.url, extraction.canonical_url)]
                learner.observe(urls, extraction.blocks)

    def _store(self, fetched: FetchedArticle, summary: FileSummary) -> bool:
        try:
            outcome = self.store.save_article(fetched)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            summary.store_errors += 1
            logger.error("[%s] could not store %s: %s", fetched.source, fetched.url, exc)
            return False
        counter = "duplicates" if outcome is Outcome.DUPLICATE else outcome.value
        setattr(summary, counter, getattr(summary, counter) + 1)
        logger.debug("[%s] %s article %s", fetched.source, outcome.value, fetched.canonical_url)
        return True

    def _remember(self, record: WarcRecord, fetched: FetchedArticle | None) -> None:
        if record.payload_digest is None:
            return
        self.responses[record.payload_digest] = fetched
        self.responses.move_to_end(record.payload_digest)
        if len(self.responses) > REVISIT_MEMORY:
            self.responses.popitem(last=False)

    def _revisit(self, record: WarcRecord, summary: FileSummary) -> None:
        summary.revisits += 1
        digest = record.payload_digest
        if digest is None or record.url is None or not self._wanted(record):
            return
        if digest in self.responses:
            original = self.responses[digest]
            if original is not None:  # else the same payload was no story then either
                fetched = dataclasses.replace(
                    original, fetched_at=record.date or original.fetched_at
                )
                self._store(fetched, summary)
            return
        # Met in an earlier import (or before a resume): the archive's own copy of the
        # response, if its payload is the one the revisit names, is fetched again.
        for response in self.store.archived_responses(self.warc_dir, url=record.url):
            if not digest_matches(response.body, digest):
                continue
            page = archived_page(response, url=record.url, fetched_at=record.date)
            try:
                extraction = extract_story(page, self._template(page), self.min_pages)
            except NotAStory:
                summary.not_article += 1
                return
            self._store_story(page, extraction, record, summary)
            return
        logger.info("revisit of %s: no stored response has its payload, skipped", record.url)


def digest_matches(body: bytes, digest: str) -> bool:
    """Whether ``body`` has the WARC payload digest ``digest`` (``sha1:BASE32`` or hex)."""
    algorithm, _, value = digest.partition(":")
    try:
        hashed = hashlib.new(algorithm.lower().replace("-", ""), body).digest()
    except ValueError:
        return False
    return value.strip().upper() in (base64.b32encode(hashed).decode(), hashed.hex().upper())


def import_archives(
    config: Config,
    locations: Sequence[str],
    options: ImportOptions = ImportOptions(),
    progress: ImportProgress | None = None,
) -> ImportSummary:
    """Import WARC files, WACZ packages and URLs of either into ``config``'s archive.

    LocationError when a named local file does not exist or a WACZ cannot be read
    (before anything is imported); a file that fails while being read is reported
    in its :class:`FileSummary` and the others are imported.
    """
    started = time.monotonic()
    files = [
        _copied(location, config.warc_dir)
        if options.copy
        else _ImportFile(location, location, location)
        for location in expand_locations(locations)
    ]
    summary = ImportSummary()
    with CrawlStore(
        config.database_url, near_duplicate_threshold=config.dedupe.near_duplicate_threshold
    ) as store:
        store.migrate()
        importer = _Importer(config, store, options, progress)
        if progress is not None:
            progress.planned(len(files))
        try:
            for file in files:
                result = importer.import_file(file)
                summary.files.append(result)
                if importer.stopped:
                    break
        finally:
            importer.close()
    summary.seconds = time.monotonic() - started
    return summary
