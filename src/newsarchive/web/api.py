"""``/api``: the archive as JSON, with the export's field names, paginated.

Each list answers ``{"items": [...], "next": URL or null}``; ``next`` is the next
page with the same filters. FastAPI derives ``/api/openapi.json`` from the models
in :mod:`.schemas`, so the document and the answers cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request

from newsarchive.storage import Archive
from newsarchive.storage.runs import recent_runs

from . import schemas
from .schemas import exported
from .views import cluster_of, events_of, source_overviews, version_diff

router = APIRouter(prefix="/api", tags=["archive"])

Limit = Annotated[int, Query(ge=1, le=100, description="items per page")]
MAX_OFFSET = 10_000
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.Problem, "description": "no such article or version"}
}


def _archive(request: Request) -> Archive:
    return request.app.state.archive  # type: ignore[no-any-return]


def utc(value: datetime | None) -> datetime | None:
    """A datetime from a query string; one without an offset is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _next(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    params.pop("token", None)  # a page link must not spread the secret
    params.update({k: str(v) for k, v in changes.items()})
    return f"{request.url.path}?{urlencode(params)}"


def _listed(request: Request, article_id: int, part: Callable[[Archive, int], list[Any]]) -> Any:
    try:
        return {"items": [exported(item) for item in part(_archive(request), article_id)]}
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/articles", response_model=schemas.ArticlePage, summary="Articles in id order")
def list_articles(
    request: Request,
    source: str | None = None,
    language: str | None = None,
    since: Annotated[datetime | None, Query(description="first seen at or after")] = None,
    until: Annotated[datetime | None, Query(description="first seen before")] = None,
    access: Annotated[
        Literal["free", "paywalled", "unknown"] | None,
        Query(description="the latest version's access: free, paywalled or unknown"),
    ] = None,
    after: Annotated[int | None, Query(description="the last id of the previous page")] = None,
    limit: Limit = 20,
) -> Any:
    stream = _archive(request).articles(
        source=source,
        language=language,
        since=utc(since),
        until=utc(until),
        access=access,
        after=after,
        batch_size=limit,
    )
    try:
        items = list(islice(stream, limit))
    finally:
        stream.close()
    more = len(items) == limit
    return {
        "items": [exported(a) for a in items],
        "next": _next(request, after=items[-1].id) if more else None,
    }


@router.get(
    "/articles/{article_id}",
    response_model=schemas.Article,
    responses=NOT_FOUND,
    summary="One article (its latest version)",
)
def get_article(request: Request, article_id: int) -> Any:
    try:
        return exported(_archive(request).article(article_id))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get(
    "/articles/{article_id}/versions",
    response_model=schemas.VersionList,
    responses=NOT_FOUND,
    summary="Every stored version, oldest first",
)
def get_versions(request: Request, article_id: int) -> Any:
    return _listed(request, article_id, Archive.versions)


@router.get(
    "/articles/{article_id}/versions/{version}/diff",
    response_model=schemas.Diff,
    responses=NOT_FOUND,
    summary="What a version changed from the one before, per paragraph",
)
def get_diff(request: Request, article_id: int, version: int) -> Any:
    try:
        paragraphs = version_diff(_archive(request).versions(article_id), version)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return {
        "id": article_id,
        "version": version,
        "previous_version": version - 1,
        "paragraphs": [{"paragraph": p.number, "text": p.text} for p in paragraphs],
    }


@router.get(
    "/articles/{article_id}/duplicates",
    response_model=schemas.ClusterList,
    responses=NOT_FOUND,
    summary="The article's duplicate cluster",
)
def get_duplicates(request: Request, article_id: int) -> Any:
    return _listed(request, article_id, cluster_of)


@router.get(
    "/articles/{article_id}/events",
    response_model=schemas.EventList,
    responses=NOT_FOUND,
    summary="Takedown events: removed, restored",
)
def get_events(request: Request, article_id: int) -> Any:
    return _listed(request, article_id, events_of)


@router.get(
    "/search",
    response_model=schemas.SearchPage,
    responses={400: {"model": schemas.Problem, "description": "a query without words"}},
    summary="Ranked full-text search of the latest versions",
)
def search(
    request: Request,
    q: Annotated[str, Query(description='words that must all match; "quotes" for a phrase')],
    source: str | None = None,
    language: str | None = None,
    since: Annotated[datetime | None, Query(description="dated at or after")] = None,
    until: Annotated[datetime | None, Query(description="dated at or before")] = None,
    duplicates: Annotated[bool, Query(description="include copies of other articles")] = False,
    removed: Annotated[
        bool | None, Query(description="true: only taken down; false: only still up")
    ] = None,
    access: Annotated[
        Literal["free", "paywalled", "unknown"] | None,
        Query(description="only articles whose latest version was judged so"),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Limit = 20,
) -> Any:
    try:
        hits = _archive(request).search(
            q,
            source=source,
            language=language,
            since=utc(since),
            until=utc(until),
            include_duplicates=duplicates,
            removed=removed,
            access=access,
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    more = len(hits) == limit and offset + limit <= MAX_OFFSET
    return {
        "items": [exported(h) for h in hits],
        "next": _next(request, offset=offset + limit) if more else None,
    }


@router.get(
    "/sources",
    response_model=schemas.SourceList,
    summary="Sources: health flags, last run, stories per day",
)
def list_sources(request: Request) -> Any:
    overviews = source_overviews(request.app.state.config, _archive(request))
    return {
        "items": [
            {
                "source": o.source,
                "configured": o.configured,
                "articles": o.articles,
                "flags": [exported(f) for f in o.flags],
                "last_run": exported(o.runs[0]) if o.runs else None,
                "per_day": [{"day": d.day.isoformat(), "articles": d.articles} for d in o.per_day],
            }
            for o in overviews
        ]
    }


@router.get("/runs", response_model=schemas.RunPage, summary="Crawl runs, newest first")
def list_runs(
    request: Request,
    source: str | None = None,
    before: Annotated[int | None, Query(description="the last id of the previous page")] = None,
    limit: Limit = 20,
) -> Any:
    runs = recent_runs(_archive(request).engine, source=source, limit=limit, before=before)
    return {
        "items": [exported(r) for r in runs],
        "next": _next(request, before=runs[-1].id) if len(runs) == limit else None,
    }


@router.get("/stats", response_model=schemas.Stats, summary="Counts and size on disk")
def get_stats(request: Request) -> Any:
    return _archive(request).stats().as_dict()
