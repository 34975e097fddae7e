"""Moved to :mod:`newsarchive.cli.output`; kept until ``newsarchive.demo`` imports from there."""

from newsarchive.cli.output import table, to_json
from newsarchive.cli.output.articles import print_clusters, print_extraction, print_history
from newsarchive.cli.output.export import (
    EXPORT_FIELDS,
    ParquetUnavailable,
    write_parquet,
    write_records,
)
from newsarchive.cli.output.runs import print_crawl_summary, print_runs, print_status
from newsarchive.cli.output.sources import print_source, print_sources

__all__ = [
    "EXPORT_FIELDS",
    "ParquetUnavailable",
    "print_clusters",
    "print_crawl_summary",
    "print_extraction",
    "print_history",
    "print_runs",
    "print_source",
    "print_sources",
    "print_status",
    "table",
    "to_json",
    "write_parquet",
    "write_records",
]
