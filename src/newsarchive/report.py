"""How commands print results: tables for people, JSON lines and CSV for scripts."""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .storage.articles import EXPORT_FIELDS
from .storage.history import VersionRecord
from .storage.near_duplicates import ClusterMember
from .storage.runs import COUNTERS, RunRecord
from .textdiff import word_diff

if TYPE_CHECKING:  # annotations only: importing Scrapy would slow every command by a second
    from .config import SourceConfig
    from .crawler.extraction import Extraction
    from .crawler.run import CrawlSummary
    from .scheduler.status import SourceStatus

__all__ = [
    "EXPORT_FIELDS",
    "print_clusters",
    "print_crawl_summary",
    "print_extraction",
    "print_history",
    "print_runs",
    "print_source",
    "print_sources",
    "print_status",
    "write_records",
]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(record: dict[str, Any]) -> str:
    return json.dumps({k: _json_value(v) for k, v in record.items()}, ensure_ascii=False)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO = sys.stdout) -> None:
    """A plain aligned text table; numbers right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(isinstance(row[i], int) for row in rows) and rows for i in range(len(headers))]
    for n, row in enumerate(cells):
        out.write(
            "  ".join(
                c.rjust(w) if numeric[i] else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            + "\n"
        )
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


SUMMARY_COLUMNS = ("source", "status", *COUNTERS)


def print_crawl_summary(
    summaries: Sequence[CrawlSummary], fmt: str = "table", out: TextIO = sys.stdout
) -> None:
    if fmt == "json":
        out.write(json.dumps([dataclasses.asdict(s) for s in summaries], indent=2) + "\n")
        return
    rows = [[getattr(s, c) for c in SUMMARY_COLUMNS] for s in summaries]
    if len(summaries) > 1:
        rows.append(
            ["TOTAL", "", *[sum(getattr(s, c) for s in summaries) for c in SUMMARY_COLUMNS[2:]]]
        )
    table(SUMMARY_COLUMNS, rows, out)


def write_records(records: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Write export records as JSON lines or CSV (authors as a JSON list); returns the count."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            row = {k: _json_value(v) for k, v in record.items()}
            row["authors"] = json.dumps(record["authors"], ensure_ascii=False)
            writer.writerow(row)
            count += 1
        return count
    for record in records:
        out.write(to_json(record) + "\n")
        count += 1
    return count


PARQUET_BATCH = 1000


def write_parquet(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write export records to a Parquet file in row groups (constant memory); returns the count.

    Needs pyarrow, the optional ``parquet`` extra: it is too heavy (≈170 MB) for
    the default install.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable(
            "parquet export needs pyarrow: pip install 'newsarchive[parquet]'"
        ) from None
    utc = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("source", pa.string()),
            ("url", pa.string()),
            ("canonical_url", pa.string()),
            ("title", pa.string()),
            ("authors", pa.list_(pa.string())),
            ("published_at", utc),
            ("language", pa.string()),
            ("text", pa.string()),
            ("content_hash", pa.string()),
            ("duplicate_of", pa.int64()),
            ("version", pa.int32()),
            ("fetched_at", utc),
        ]
    )
    assert schema.names == list(EXPORT_FIELDS)
    count = 0
    # Written to a temporary name and renamed: a failed export leaves no half file.
    partial = path.with_name(path.name + ".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) == PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch = []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    partial.replace(path)
    return count


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed."""


def print_extraction(
    path: str, result: Extraction, fmt: str = "jsonl", out: TextIO = sys.stdout
) -> None:
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
        out.write(f"{key}: {_json_value(record[key])}\n")
    out.write(f"\n{result.text}\n\n")


def _shorten(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_clusters(
    members: Iterable[ClusterMember], fmt: str = "table", out: TextIO = sys.stdout
) -> int:
    """Duplicate clusters, original first; similarity is the estimate against the original.

    Returns how many articles were listed.
    """
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
        rows.append([m.cluster, m.id, similarity, m.source, m.url, _shorten(m.title, 50)])
        count += 1
    if rows:
        table(("cluster", "id", "similarity", "source", "url", "title"), rows, out)
    return count


def print_history(
    versions: Sequence[VersionRecord],
    *,
    diff: bool = False,
    fmt: str = "table",
    out: TextIO = sys.stdout,
) -> None:
    """An article's versions, oldest first; with ``diff`` the word-level changes from the one
    before (deletions ``[-…-]``, insertions ``{+…+}``)."""
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
            }
            if diff:
                record["diff"] = (
                    None
                    if changed is None
                    else [{"paragraph": c.number, "text": c.text} for c in changed]
                )
            out.write(to_json(record) + "\n")
        return
    table(
        ("version", "fetched_at", "words", "title", "url"),
        [
            [
                v.version,
                v.fetched_at.isoformat(timespec="seconds"),
                len(v.text.split()),
                _shorten(v.title, 40),
                v.url,
            ]
            for v in versions
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


RUN_COLUMNS = ("id", "source", "started_at", "finished_at", "status", *COUNTERS)


def _when(value: datetime | None) -> str:
    """A UTC time for a table cell: ``2024-06-01 12:00:03Z``; ``-`` for none."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def print_runs(runs: Sequence[RunRecord], fmt: str = "table", out: TextIO = sys.stdout) -> None:
    """Crawl runs, newest first; JSON lines add the ``error`` field."""
    if fmt == "jsonl":
        for run in runs:
            record = {c: getattr(run, c) for c in RUN_COLUMNS}
            record["error"] = run.error
            out.write(to_json(record) + "\n")
        return
    rows = [
        [
            run.id,
            run.source,
            _when(run.started_at),
            _when(run.finished_at),
            run.status,
            *[getattr(run, c) for c in RUN_COLUMNS[5:]],
        ]
        for run in runs
    ]
    table(RUN_COLUMNS, rows, out)


def _status_note(status: SourceStatus, now: datetime) -> str:
    notes = []
    if status.running:
        notes.append("crawling now")
    if status.failing:
        notes.append(f"FAILING: {status.failures} failed runs in a row, backing off")
    if status.last_run is None:
        notes.append("never crawled")
    elif status.next_run <= now and not status.running:
        notes.append("due")
    return "; ".join(notes)


def print_status(
    statuses: Sequence[SourceStatus], fmt: str = "table", out: TextIO = sys.stdout
) -> None:
    """Per source: schedule, last run and its outcome, next run, articles stored, failures."""
    now = datetime.now(UTC)
    if fmt == "json":
        records = []
        for s in statuses:
            last = s.last_run
            records.append(
                {
                    "source": s.source,
                    "schedule": s.schedule,
                    "timezone": s.timezone,
                    "last_run": None
                    if last is None
                    else {k: _json_value(v) for k, v in dataclasses.asdict(last).items()},
                    "next_run": s.next_run.isoformat(),
                    "articles": s.articles,
                    "consecutive_failures": s.failures,
                    "failing": s.failing,
                    "running": s.running,
                }
            )
        out.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        return
    headers = ("source", "schedule", "last_run", "outcome", "next_run", "articles", "note")
    rows = [
        [
            s.source,
            s.schedule if s.timezone == "UTC" else f"{s.schedule} ({s.timezone})",
            _when(s.last_run.started_at) if s.last_run else "-",
            s.last_run.status if s.last_run else "-",
            "now" if s.next_run <= now else _when(s.next_run),
            s.articles,
            _status_note(s, now),
        ]
        for s in statuses
    ]
    table(headers, rows, out)
    for s in statuses:
        if s.failing and s.last_run is not None and s.last_run.error:
            out.write(f"{s.source}: last error: {s.last_run.error}\n")


def print_sources(
    sources: Sequence[SourceConfig], fmt: str = "table", out: TextIO = sys.stdout
) -> None:
    """The configured sources, one line (or JSON object) each."""
    if fmt == "json":
        payload = [s.model_dump(mode="json") for s in sources]
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    headers = ("name", "schedule", "timezone", "feeds", "sitemaps", "start_urls", "domains")
    rows = [
        [
            s.name,
            s.schedule,
            s.timezone,
            len(s.feeds),
            len(s.sitemaps),
            len(s.start_urls),
            ",".join(s.domains),
        ]
        for s in sources
    ]
    table(headers, rows, out)


def print_source(
    source: SourceConfig,
    upcoming: Sequence[datetime],
    fmt: str = "table",
    out: TextIO = sys.stdout,
) -> None:
    """Everything the config says about one source, plus its next regular run times."""
    data = source.model_dump(mode="json")
    data["domains"] = source.domains
    data["upcoming_runs"] = [t.isoformat() for t in upcoming]
    if fmt == "json":
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "-"
        out.write(f"{key.ljust(width)}  {value}\n")
