"""The HTML pages: search, article, version diff, capture, sources, runs.

Server-rendered with Jinja2 (autoescape on: every string from an archived page
is text, never markup); no JavaScript at all.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from newsarchive.storage import Archive, read_session
from newsarchive.storage.raw import archived_response
from newsarchive.storage.runs import recent_runs
from newsarchive.storage.stats import source_names

from .capture import CAPTURE_CSP, safe_capture
from .views import article_detail, source_overviews, version_diff

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


def _archive(request: Request) -> Archive:
    return request.app.state.archive  # type: ignore[no-any-return]


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    """A form's ``YYYY-MM-DD`` as the start (or, with ``end``, the last instant) of that UTC day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"not a date (YYYY-MM-DD): {value!r}") from None
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start + timedelta(days=1, microseconds=-1) if end else start


_REMOVED = {"": None, "only": True, "hide": False}


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = "",
    source: str = "",
    language: str = "",
    since: str = "",
    until: str = "",
    duplicates: bool = False,
    removed: str = "",
    access: str = "",
    page: int = 1,
) -> Response:
    archive = _archive(request)
    page = max(1, min(page, 500))
    hits, error = [], None
    if q.strip():
        try:
            hits = archive.search(
                q,
                source=source or None,
                language=language or None,
                since=_day(since),
                until=_day(until, end=True),
                include_duplicates=duplicates,
                removed=_REMOVED.get(removed),
                access=access or None,
                limit=PAGE_SIZE + 1,
                offset=(page - 1) * PAGE_SIZE,
            )
        except ValueError as exc:
            error = str(exc)
    with read_session(archive.engine) as session:
        sources = source_names(session)
    form = {
        "q": q,
        "source": source,
        "language": language,
        "since": since,
        "until": until,
        "duplicates": duplicates,
        "removed": removed,
        "access": access,
    }
    return _render(
        request,
        "search.html",
        form=form,
        hits=hits[:PAGE_SIZE],
        more=len(hits) > PAGE_SIZE,
        page=page,
        error=error,
        sources=sources,
        # Counting the whole archive costs seconds on a big one: only the start page shows it.
        stats=None if q.strip() else archive.stats(),
    )


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: int) -> Response:
    try:
        detail = article_detail(_archive(request), article_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return _render(request, "article.html", detail=detail, a=detail.article)


@router.get("/articles/{article_id}/versions/{version}/diff", response_class=HTMLResponse)
def diff_page(request: Request, article_id: int, version: int) -> Response:
    archive = _archive(request)
    try:
        article = archive.article(article_id)
        versions = archive.versions(article_id)
        paragraphs = version_diff(versions, version)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    by_number = {v.version: v for v in versions}
    return _render(
        request,
        "diff.html",
        a=article,
        old=by_number[version - 1],
        new=by_number[version],
        paragraphs=paragraphs,
    )


@router.get("/articles/{article_id}/versions/{version}/capture", response_class=HTMLResponse)
def capture_page(request: Request, article_id: int, version: int) -> Response:
    archive = _archive(request)
    try:
        article = archive.article(article_id)
        versions = {v.version: v for v in archive.versions(article_id)}
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    if version not in versions:
        raise HTTPException(404, f"article {article_id} has no version {version}")
    return _render(request, "capture.html", a=article, v=versions[version])


@router.get("/captures/{article_id}/{version}")
def capture_document(request: Request, article_id: int, version: int) -> Response:
    """The archived page itself, for the sandboxed iframe of the capture page."""
    archive = _archive(request)
    try:
        with read_session(archive.engine) as session:
            response = archived_response(session, article_id, archive.warc_dir, version)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except OSError as exc:  # a WARC file moved, deleted or unreadable
        logger.warning("capture of article %d version %d unreadable: %s", article_id, version, exc)
        raise HTTPException(404, f"the capture cannot be read: {exc}") from None
    html = safe_capture(response.body, response.declared_encoding)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CAPTURE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request) -> Response:
    overviews = source_overviews(request.app.state.config, _archive(request))
    return _render(request, "sources.html", overviews=overviews)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, source: str = "", before: int | None = None) -> Response:
    runs = recent_runs(
        _archive(request).engine, source=source or None, limit=PAGE_SIZE + 1, before=before
    )
    more = len(runs) > PAGE_SIZE
    runs = list(islice(runs, PAGE_SIZE))
    return _render(request, "runs.html", runs=runs, source=source, more=more)
