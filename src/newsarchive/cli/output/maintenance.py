"""Archive upkeep results: ``stats``, ``prune`` and ``reprocess``."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from . import table

if TYPE_CHECKING:
    from newsarchive.crawler.reprocess import ReprocessSummary
    from newsarchive.storage.prune import PruneReport
    from newsarchive.storage.stats import ArchiveStats


def print_stats(stats: ArchiveStats, fmt: str = "table", out: TextIO | None = None) -> None:
    """Archive totals, then articles per source, per day and per language."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(stats.as_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    share = f"{stats.duplicate_share:.1%}"
    table(
        ("articles", "versions", "duplicates", "duplicate_share", "database_bytes", "warc_bytes"),
        [
            [
                stats.articles,
                stats.versions,
                stats.duplicates,
                share,
                stats.database_bytes,
                stats.warc_bytes,
            ]
        ],
        out,
    )
    out.write("\n")
    table(("source", "articles"), [[s, n] for s, n in stats.per_source.items()], out)
    out.write("\n")
    table(("day", "articles"), [[d, n] for d, n in stats.per_day.items()], out)
    out.write("\n")
    table(("language", "articles"), [[lang, n] for lang, n in stats.per_language.items()], out)


def print_prune_report(report: PruneReport, fmt: str = "table", out: TextIO | None = None) -> None:
    """What a prune removed (or, dry run, would remove), and WARC files left unreferenced.

    The table has counts only: the ids of a large prune would flood a terminal
    (``json`` has them).
    """
    out = out or sys.stdout
    if fmt == "json":
        record: dict[str, Any] = {**report.__dict__, "articles": report.articles}
        record["before"] = report.before.isoformat()
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    verb = "would remove" if report.dry_run else "removed"
    out.write(
        f"{verb} {report.articles} articles and {report.versions} versions "
        f"first seen before {report.before.isoformat()}"
        + (f" from source {report.source}" if report.source else "")
        + "\n"
    )
    for name in report.unreferenced_warc:
        state = "deleted" if name in report.deleted_warc else "no longer referenced"
        out.write(f"WARC {state}: {name}\n")


@contextlib.contextmanager
def reprocess_progress(
    stream: TextIO = sys.stderr,
) -> Iterator[Callable[[ReprocessSummary], None] | None]:
    """A live line of counts on a terminal (a spinner: the number of pages to come is not
    counted first); None, and no output at all, for a pipe or a file."""
    if not stream.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(file=stream),
    )
    began = time.monotonic()
    with progress:
        task = progress.add_task("reprocessing", total=None)

        def update(summary: ReprocessSummary) -> None:
            outcomes = summary.outcomes
            rate = summary.extracted / max(time.monotonic() - began, 1e-6)
            progress.update(
                task,
                description=(
                    f"{summary.examined} examined: {outcomes['new']} new, "
                    f"{outcomes['updated']} updated, {outcomes['unchanged']} unchanged, "
                    f"{outcomes['duplicate']} duplicate, {summary.empty} empty, {rate:.0f}/s"
                ),
            )

        yield update


def print_reprocess_summary(summary: ReprocessSummary, out: TextIO | None = None) -> None:
    """The counts as one JSON object: examined, current, empty, each outcome, then the speed."""
    out = out or sys.stdout
    record = {
        "examined": summary.examined,
        "current": summary.current,
        "empty": summary.empty,
        **summary.outcomes,
        "processes": summary.processes,
        "pages_per_second": round(summary.pages_per_second, 1),
    }
    out.write(json.dumps(record) + "\n")
