"""What each page and API answer shows, gathered from the storage queries.

Both the HTML pages and ``/api`` read through here, so a page and its JSON can
never disagree; the queries themselves stay in ``newsarchive.storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from newsarchive.config import Config
from newsarchive.storage import Archive, ArticleRecord, read_session
from newsarchive.storage.events import EventRecord, article_events
from newsarchive.storage.health import HealthFlag, source_health
from newsarchive.storage.history import VersionRecord
from newsarchive.storage.near_duplicates import ClusterMember, iter_clusters
from newsarchive.storage.runs import RunRecord, articles_per_source, recent_runs
from newsarchive.storage.stats import articles_per_day, source_names
from newsarchive.textdiff import ChangedParagraph, word_diff


def source_flags(config: Config, engine: Engine) -> dict[str, list[HealthFlag]]:
    """Health flags per configured source, as ``newsarchive status`` and ``/metrics`` report
    them (silent, coverage drop, blocked, failing)."""
    with read_session(engine) as session:
        return {health.source: health.flags for health in source_health(session, config)}


def version_diff(versions: list[VersionRecord], number: int) -> list[ChangedParagraph]:
    """The paragraphs version ``number`` changed from the one before; LookupError when the
    article has no such version or it is the first."""
    by_number = {v.version: v for v in versions}
    if number not in by_number or number - 1 not in by_number:
        raise LookupError(f"no version {number} with a version before it")
    return word_diff(by_number[number - 1].text, by_number[number].text)


@dataclass(frozen=True)
class ArticleDetail:
    article: ArticleRecord
    versions: list[VersionRecord]
    cluster: list[ClusterMember]
    events: list[EventRecord]

    @property
    def latest(self) -> VersionRecord:
        return self.versions[-1]


def cluster_of(archive: Archive, article_id: int) -> list[ClusterMember]:
    """The article's duplicate cluster, root first; [] for a lone story, LookupError for an
    unknown id."""
    with read_session(archive.engine) as session:
        return list(iter_clusters(session, article_id))


def events_of(archive: Archive, article_id: int) -> list[EventRecord]:
    """The article's takedown events, oldest first; LookupError for an unknown id."""
    archive.article(article_id)
    with read_session(archive.engine) as session:
        return article_events(session, article_id)


def article_detail(archive: Archive, article_id: int) -> ArticleDetail:
    """Everything the article page shows; LookupError for an unknown id."""
    article = archive.article(article_id)
    return ArticleDetail(
        article,
        archive.versions(article_id),
        cluster_of(archive, article_id),
        events_of(archive, article_id),
    )


@dataclass(frozen=True)
class DayCount:
    day: date
    articles: int


@dataclass(frozen=True)
class SourceOverview:
    source: str
    configured: bool
    """False for a source that is only in the database (removed from the config)."""
    articles: int
    flags: list[HealthFlag]
    runs: list[RunRecord]
    """The latest runs, newest first."""
    per_day: list[DayCount]
    """Stories first seen on each of the last days, oldest first, with the empty days."""


DASHBOARD_DAYS = 30
DASHBOARD_RUNS = 5


def source_overviews(
    config: Config, archive: Archive, days: int = DASHBOARD_DAYS, now: datetime | None = None
) -> list[SourceOverview]:
    """One overview per source, configured ones first in config order."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    flags = source_flags(config, archive.engine)
    stored = articles_per_source(archive.engine)
    configured = [s.name for s in config.sources]
    overviews = []
    with read_session(archive.engine) as session:
        names = configured + [n for n in source_names(session) if n not in configured]
        for name in names:
            counts = articles_per_day(session, source=name, since=since)
            per_day = [
                DayCount(d, counts.get(d.isoformat(), 0))
                for d in (first + timedelta(days=n) for n in range(days))
            ]
            overviews.append(
                SourceOverview(
                    source=name,
                    configured=name in configured,
                    articles=stored.get(name, 0),
                    flags=flags.get(name, []),
                    runs=recent_runs(archive.engine, source=name, limit=DASHBOARD_RUNS),
                    per_day=per_day,
                )
            )
    return overviews
