"""How commands print results: tables for people, JSON lines and CSV for scripts."""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

from .crawler.extraction import Extraction
from .crawler.run import CrawlSummary
from .storage.articles import EXPORT_FIELDS

__all__ = ["EXPORT_FIELDS", "print_crawl_summary", "print_extraction", "write_records"]


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


SUMMARY_COLUMNS = (
    "source",
    "status",
    "pages",
    "new",
    "updated",
    "unchanged",
    "duplicates",
    "errors",
)


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
    }
    if fmt == "jsonl":
        out.write(to_json(record) + "\n")
        return
    out.write(f"== {path}\n")
    for key in ("title", "authors", "published_at", "language"):
        out.write(f"{key}: {_json_value(record[key])}\n")
    out.write(f"\n{result.text}\n\n")
