"""Export records: JSON lines or CSV to a stream, or a Parquet file."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from newsarchive.storage.articles import EXPORT_FIELDS

from . import json_value, to_json

PARQUET_BATCH = 1000


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed."""


def write_records(records: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Write export records as JSON lines or CSV (authors as a JSON list); returns the count."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            row = {k: json_value(v) for k, v in record.items()}
            row["authors"] = json.dumps(record["authors"], ensure_ascii=False)
            writer.writerow(row)
            count += 1
        return count
    for record in records:
        out.write(to_json(record) + "\n")
        count += 1
    return count


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
            ("removed_at", utc),
            ("published_at_source", pa.string()),
            ("access", pa.string()),
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
