"""How the archive commands (search, stats, prune) print their results."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from .report import table, to_json
from .storage.prune import PruneReport
from .storage.search import SearchHit
from .storage.stats import ArchiveStats


def _short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_search_results(
    hits: Sequence[SearchHit], fmt: str = "table", out: TextIO = sys.stdout
) -> None:
    """Ranked hits: a line per article (id, date, source, title, URL), then its snippet."""
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
            f"{_short(hit.title, 80) or '(no title)'}\n     {hit.url}\n     {hit.snippet}\n"
        )


def print_stats(stats: ArchiveStats, fmt: str = "table", out: TextIO = sys.stdout) -> None:
    """Archive totals, then articles per source, per day and per language."""
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


def print_prune_report(report: PruneReport, out: TextIO = sys.stdout) -> None:
    """What a prune removed (or, dry run, would remove), and WARC files left unreferenced.

    Counts only: the ids of a large prune would flood a terminal (``--format json`` has them).
    """
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
