"""The JSON shapes of ``/api``, made from the storage records themselves.

Each model mirrors the dataclass a storage query returns (same fields, same
types), so a field added to a record appears in the API and in
``/api/openapi.json`` without a second list to keep in step. Only the names the
export spells differently are renamed (``article_id`` → ``id``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

from newsarchive.storage import ArticleRecord
from newsarchive.storage.events import EventRecord
from newsarchive.storage.history import VersionRecord
from newsarchive.storage.near_duplicates import ClusterMember
from newsarchive.storage.runs import RunRecord
from newsarchive.storage.search import SearchHit
from newsarchive.storage.stats import ArchiveStats

EXPORT_NAMES = {"article_id": "id"}


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _mirror(name: str, record: type, doc: str, **extra: Any) -> type[BaseModel]:
    hints = get_type_hints(record)
    fields: dict[str, Any] = {
        EXPORT_NAMES.get(f.name, f.name): (hints[f.name], ...) for f in dataclasses.fields(record)
    }
    fields.update({key: (kind, ...) for key, kind in extra.items()})
    return create_model(name, __base__=_Out, __doc__=doc, **fields)


def exported(record: Any, **extra: Any) -> dict[str, Any]:
    """A storage record's fields under their export names, for its mirrored model."""
    values = {EXPORT_NAMES.get(k, k): v for k, v in dataclasses.asdict(record).items()}
    return {**values, **extra}


Article = _mirror(
    "Article",
    ArticleRecord,
    "An article as its latest version states it: the export record's fields, when the "
    "archive first saw it, and its takedown state.",
)
SearchResult = _mirror(
    "SearchResult",
    SearchHit,
    "A ranked match: the snippet marks the terms [like this]; date is the publication "
    "time, else when the archive first saw the story.",
)
Version = _mirror("Version", VersionRecord, "One stored version of an article.")
ClusterMemberOut = _mirror(
    "ClusterMember", ClusterMember, "An article in a duplicate cluster (root first)."
)
Event = _mirror("Event", EventRecord, "A takedown event: removed or restored.")
Run = _mirror("Run", RunRecord, "A crawl run and its counters.")
Stats = _mirror(
    "Stats", ArchiveStats, "Counts and size on disk (days are UTC).", duplicate_share=float
)


def page_of(name: str, item: type[BaseModel], doc: str) -> type[BaseModel]:
    """``{"items": [...], "next": URL or null}``, the shape of every paginated list."""
    return create_model(
        name, __base__=_Out, __doc__=doc, items=(list[item], ...), next=(str | None, ...)
    )  # type: ignore[valid-type]


def list_of(name: str, item: type[BaseModel], doc: str) -> type[BaseModel]:
    return create_model(name, __base__=_Out, __doc__=doc, items=(list[item], ...))  # type: ignore[valid-type]


ArticlePage = page_of("ArticlePage", Article, "Articles in id order.")
SearchPage = page_of("SearchPage", SearchResult, "Search results, best first.")
RunPage = page_of("RunPage", Run, "Crawl runs, newest first.")
VersionList = list_of("VersionList", Version, "Every version, oldest first.")
ClusterList = list_of("ClusterList", ClusterMemberOut, "Root first; empty for a lone story.")
EventList = list_of("EventList", Event, "Oldest first.")


class Problem(_Out):
    """Why a request could not be answered."""

    detail: str


class ChangedParagraph(_Out):
    paragraph: int
    text: str
    """The paragraph with deletions ``[-…-]`` and insertions ``{+…+}``."""


class Diff(_Out):
    id: int
    version: int
    previous_version: int
    paragraphs: list[ChangedParagraph]


class Flag(_Out):
    check: str
    reason: str


class DayCount(_Out):
    day: str
    articles: int


class SourceSummary(_Out):
    source: str
    configured: bool
    articles: int
    flags: list[Flag]
    last_run: Run | None  # type: ignore[valid-type]
    per_day: list[DayCount]


SourceList = list_of("SourceList", SourceSummary, "Configured sources first.")
