"""Crawl results: a crawl's summary, the crawl_runs table, and each source's status."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from newsarchive.storage.runs import COUNTERS, RunRecord

from . import json_value, table, to_json, when

if TYPE_CHECKING:  # annotations only: importing Scrapy would slow every command by a second
    from newsarchive.crawler.run import CrawlSummary
    from newsarchive.scheduler.status import ClusterStatus, SourceStatus

SUMMARY_COLUMNS = ("source", "status", *COUNTERS)
RUN_COLUMNS = ("id", "source", "started_at", "finished_at", "status", *COUNTERS, "worker")


def print_crawl_summary(
    summaries: Sequence[CrawlSummary], fmt: str = "table", out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps([dataclasses.asdict(s) for s in summaries], indent=2) + "\n")
        return
    rows = [[getattr(s, c) for c in SUMMARY_COLUMNS] for s in summaries]
    if len(summaries) > 1:
        rows.append(
            ["TOTAL", "", *[sum(getattr(s, c) for s in summaries) for c in SUMMARY_COLUMNS[2:]]]
        )
    table(SUMMARY_COLUMNS, rows, out)


def print_runs(runs: Sequence[RunRecord], fmt: str = "table", out: TextIO | None = None) -> None:
    """Crawl runs, newest first; JSON lines add the ``error`` field.

    ``worker`` is the cluster worker that ran the crawl (null/"-" for the daemon's or the CLI's).
    """
    out = out or sys.stdout
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
            when(run.started_at),
            when(run.finished_at),
            run.status,
            *[getattr(run, c) for c in COUNTERS],
            run.worker or "-",
        ]
        for run in runs
    ]
    table(RUN_COLUMNS, rows, out)


def _status_note(status: SourceStatus, now: datetime) -> str:
    notes = []
    if status.running:
        worker = status.last_run.worker if status.last_run else None
        notes.append(f"crawling now on {worker}" if worker else "crawling now")
    if status.failing:
        notes.append(f"FAILING: {status.failures} failed runs in a row, backing off")
    notes.extend(f.check.upper() for f in status.flags if f.check != "failing")
    if status.degraded and status.last_run is not None:
        notes.append(f"DEGRADED: {status.last_run.store_errors} stories not stored")
    if status.last_run is None:
        notes.append("never crawled")
    elif status.next_run <= now and not status.running:
        notes.append("due")
    return "; ".join(notes)


def print_status(
    statuses: Sequence[SourceStatus],
    fmt: str = "table",
    out: TextIO | None = None,
    *,
    cluster: ClusterStatus | None = None,
) -> None:
    """Per source: schedule, last run and its outcome, next run, articles stored, failures.

    With a cluster, then the queue depth and the workers seen lately; its JSON is
    ``{"sources": [...], "cluster": {...}}`` instead of the list of sources.
    """
    out = out or sys.stdout
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
                    else {k: json_value(v) for k, v in dataclasses.asdict(last).items()},
                    "next_run": s.next_run.isoformat(),
                    "articles": s.articles,
                    "consecutive_failures": s.failures,
                    "failing": s.failing,
                    "degraded": s.degraded,
                    "running": s.running,
                    "flags": [{"check": f.check, "reason": f.reason} for f in s.flags],
                }
            )
        document: object = records
        if cluster is not None:
            document = {"sources": records, "cluster": _cluster_record(cluster)}
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    headers = ("source", "schedule", "last_run", "outcome", "next_run", "articles", "note")
    rows = [
        [
            s.source,
            s.schedule if s.timezone == "UTC" else f"{s.schedule} ({s.timezone})",
            when(s.last_run.started_at) if s.last_run else "-",
            s.last_run.status if s.last_run else "-",
            "now" if s.next_run <= now else when(s.next_run),
            s.articles,
            _status_note(s, now),
        ]
        for s in statuses
    ]
    table(headers, rows, out)
    for s in statuses:
        for flag in s.flags:
            out.write(f"{s.source}: {flag.check}: {flag.reason}\n")
        if (s.failing or s.degraded) and s.last_run is not None and s.last_run.error:
            out.write(f"{s.source}: last error: {s.last_run.error}\n")
    if cluster is not None:
        _print_cluster(cluster, out)


def _cluster_record(cluster: ClusterStatus) -> dict[str, object]:
    return {
        "queue": cluster.queue,
        "queue_depth": cluster.queue_depth,
        "workers": [
            {k: json_value(v) for k, v in dataclasses.asdict(w).items()} for w in cluster.workers
        ],
    }


def _print_cluster(cluster: ClusterStatus, out: TextIO) -> None:
    if cluster.queue_depth is None:
        out.write(f"\nqueue {cluster.queue}: broker unreachable, jobs waiting unknown\n")
    else:
        out.write(f"\nqueue {cluster.queue}: {cluster.queue_depth} job(s) waiting\n")
    if not cluster.workers:
        out.write("no worker seen in the last hour\n")
        return
    out.write("workers seen in the last hour:\n")
    table(
        ("worker", "hostname", "pid", "queue", "started_at", "last_seen_at"),
        [
            [w.name, w.hostname, w.pid, w.queue, when(w.started_at), when(w.last_seen_at)]
            for w in cluster.workers
        ],
        out,
    )
