"""Articles as commands show them: extractions, duplicate clusters, histories, search hits."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from newsarchive.textdiff import word_diff

from . import json_value, shorten, table, to_json

if TYPE_CHECKING:  # annotations only: extract must not pay for the database, nor search for Scrapy
    from newsarchive.crawler.extraction import Extraction
    from newsarchive.storage.events import EventRecord
    from newsarchive.storage.history import VersionRecord
    from newsarchive.storage.near_duplicates import ClusterMember
    from newsarchive.storage.search import SearchHit


def print_extraction(
    path: str, result: Extraction, fmt: str = "jsonl", out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    record = {
        "file": path,
        "title": result.title,
        "text": result.text,
        "authors": list(result.authors),
        "published_at": result.published_at,
        "language": result.language,
        "top_image": result.top_image,
        "section": result.section,
        "tags": list(result.tags),
    }
    if fmt == "jsonl":
        out.write(to_json(record) + "\n")
        return
    out.write(f"== {path}\n")
    for key in ("title", "authors", "published_at", "language", "top_image", "section", "tags"):
        out.write(f"{key}: {json_value(record[key])}\n")
    out.write(f"\n{result.text}\n\n")


def print_clusters(
    members: Iterable[ClusterMember], fmt: str = "table", out: TextIO | None = None
) -> int:
    """Duplicate clusters, original first; similarity is the estimate against the original.

    Returns how many articles were listed.
    """
    out = out or sys.stdout
    count = 0
    if fmt == "jsonl":
        for m in members:
            record = dataclasses.asdict(m)
            record["original"] = m.id == m.cluster
            out.write(to_json(record) + "\n")
            count += 1
        return count
    rows = []
    for m in members:
        if m.id == m.cluster:
            similarity = "original"
        elif m.similarity is None:
            similarity = "?"
        else:
            similarity = f"{m.similarity:.2f}" + (" exact" if m.exact else "")
        rows.append([m.cluster, m.id, similarity, m.source, m.url, shorten(m.title, 50)])
        count += 1
    if rows:
        table(("cluster", "id", "similarity", "source", "url", "title"), rows, out)
    return count


def print_history(
    versions: Sequence[VersionRecord],
    *,
    diff: bool = False,
    fmt: str = "table",
    out: TextIO | None = None,
    events: Sequence[EventRecord] = (),
) -> None:
    """An article's versions, oldest first, a changed headline marked; with ``diff`` the
    word-level changes from the one before (deletions ``[-…-]``, insertions ``{+…+}``);
    then its removed/restored ``events`` (JSON lines: records with ``event``, not ``version``)."""
    out = out or sys.stdout
    changes = [
        word_diff(prev.text, cur.text) if diff and prev is not None else None
        for prev, cur in zip([None, *versions[:-1]], versions, strict=True)
    ]
    if fmt == "jsonl":
        for v, changed in zip(versions, changes, strict=True):
            record: dict[str, Any] = {
                "id": v.article_id,
                "version": v.version,
                "fetched_at": v.fetched_at,
                "url": v.url,
                "title": v.title,
                "content_hash": v.content_hash,
                "crawl_run_id": v.crawl_run_id,
                "title_changed": v.title_changed,
            }
            if diff:
                record["diff"] = (
                    None
                    if changed is None
                    else [{"paragraph": c.number, "text": c.text} for c in changed]
                )
            out.write(to_json(record) + "\n")
        for e in events:
            out.write(to_json({"id": e.article_id, "event": e.kind.value, **_event(e)}) + "\n")
        return
    table(
        ("version", "fetched_at", "words", "headline", "title", "url"),
        [
            [
                v.version,
                v.fetched_at.isoformat(timespec="seconds"),
                len(v.text.split()),
                "changed" if v.title_changed else "",
                shorten(v.title, 40),
                v.url,
            ]
            for v in versions
        ],
        out,
    )
    if events:
        out.write("\n")
        table(
            ("event", "at", "http_status", "detail", "url"),
            [
                [e.kind.value, e.at.isoformat(timespec="seconds"), e.http_status, e.detail, e.url]
                for e in events
            ],
            out,
        )
    if not diff:
        return
    for prev, v, changed in zip(versions[:-1], versions[1:], changes[1:], strict=True):
        out.write(f"\n--- version {prev.version} → {v.version}\n")
        if not changed:
            out.write("(no paragraph changed)\n")
        for c in changed or []:
            out.write(f"¶{c.number}: {c.text}\n")


def _event(e: EventRecord) -> dict[str, Any]:
    return {
        "at": e.at,
        "url": e.url,
        "http_status": e.http_status,
        "detail": e.detail,
        "crawl_run_id": e.crawl_run_id,
    }


def print_search_results(
    hits: Sequence[SearchHit], fmt: str = "table", out: TextIO | None = None
) -> None:
    """Ranked hits: a line per article (id, date, source, title, URL), then its snippet."""
    out = out or sys.stdout
    if fmt == "jsonl":
        for hit in hits:
            record = dataclasses.asdict(hit)
            record["id"] = record.pop("article_id")
            record["score"] = round(hit.score, 6)
            out.write(to_json(record) + "\n")
        return
    if not hits:
        out.write("no matching articles\n")
        return
    for n, hit in enumerate(hits, 1):
        out.write(
            f"{n:>3}. [{hit.article_id}] {hit.date:%Y-%m-%d} {hit.source}: "
            f"{shorten(hit.title, 80) or '(no title)'}\n     {hit.url}\n     {hit.snippet}\n"
        )
