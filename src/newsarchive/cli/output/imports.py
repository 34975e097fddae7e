"""Import results: the progress bar on a terminal, and the summary at the end."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from . import table

if TYPE_CHECKING:  # annotations only: the import package loads Scrapy
    from newsarchive.crawler.imports.run import FileSummary, ImportSummary

SUMMARY_COLUMNS = (
    "records",
    "new",
    "updated",
    "unchanged",
    "duplicates",
    "not_article",
    "revisits",
    "skipped",
    "errors",
    "store_errors",
)


def _name(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


class ProgressBar:
    """A ``rich`` progress bar: files, records, articles, rate and time left of each file."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.fields[files]}[/] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[records]} records, {task.fields[articles]} articles"),
            TextColumn("{task.fields[rate]:.0f} records/s"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self.files = 0
        self.planned_files: int | None = None
        self.task: Any = None
        self.started = time.monotonic()

    @classmethod
    @contextlib.contextmanager
    def on_terminal(cls, stream: TextIO = sys.stderr) -> Iterator[ProgressBar | None]:
        """A bar when ``stream`` is a terminal; None (no output at all) for a pipe or file."""
        if not stream.isatty():
            yield None
            return
        bar = cls(stream)
        with bar.progress:
            yield bar

    def planned(self, files: int) -> None:
        self.planned_files = files

    def file_started(self, location: str, size: int | None, offset: int) -> None:
        self.files += 1
        of = f"/{self.planned_files}" if self.planned_files else ""
        self.started = time.monotonic()
        self.task = self.progress.add_task(
            _name(location),
            total=size,
            completed=offset,
            files=f"file {self.files}{of}",
            records=0,
            articles=0,
            rate=0.0,
        )

    def advanced(self, location: str, offset: int, summary: FileSummary) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.progress.update(
            self.task,
            completed=offset,
            records=summary.records,
            articles=summary.articles,
            rate=summary.records / elapsed,
        )

    def file_finished(self, summary: FileSummary) -> None:
        if self.task is None:
            return
        task = self.progress.tasks[-1]
        self.advanced(summary.location, int(task.total or task.completed), summary)


def _row(summary: FileSummary) -> dict[str, Any]:
    record: dict[str, Any] = {"file": summary.location, "status": summary.status}
    record.update({c: getattr(summary, c) for c in SUMMARY_COLUMNS})
    record.update(resumed_from=summary.resumed_from, error=summary.error)
    return record


def print_import_summary(
    summary: ImportSummary, fmt: str = "table", out: TextIO = sys.stdout
) -> None:
    """One row per file and a total, like ``crawl``'s summary; JSON for scripts."""
    records = summary.total("records")
    rate = records / summary.seconds if summary.seconds else 0.0
    if fmt == "json":
        document = {
            "files": [_row(f) for f in summary.files],
            "totals": {c: summary.total(c) for c in SUMMARY_COLUMNS},
            "seconds": round(summary.seconds, 3),
            "records_per_second": round(rate, 1),
        }
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    rows = [
        [_name(f.location), f.status, *[getattr(f, c) for c in SUMMARY_COLUMNS]]
        for f in summary.files
    ]
    if len(summary.files) > 1:
        rows.append(["TOTAL", "", *[summary.total(c) for c in SUMMARY_COLUMNS]])
    table(("file", "status", *SUMMARY_COLUMNS), rows, out)
    out.write(f"{records} records in {summary.seconds:.1f}s ({rate:.0f} records/s)\n")
    for failed in summary.files:
        if failed.error:
            out.write(f"{_name(failed.location)}: {failed.error}\n")
