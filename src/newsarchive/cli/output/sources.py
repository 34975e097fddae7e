"""The configured sources, as ``sources list`` and ``sources show`` print them."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from . import table

if TYPE_CHECKING:
    from newsarchive.config import SourceConfig


def print_sources(
    sources: Sequence[SourceConfig], fmt: str = "table", out: TextIO | None = None
) -> None:
    """The configured sources, one line (or JSON object) each."""
    out = out or sys.stdout
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
    out: TextIO | None = None,
) -> None:
    """Everything the config says about one source, plus its next regular run times."""
    out = out or sys.stdout
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
