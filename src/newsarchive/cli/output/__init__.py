"""How commands print results: tables for people, JSON (lines) and CSV for scripts.

One module per kind of result; this one holds the pieces they share and
imports nothing heavy.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO


def json_value(value: Any) -> Any:
    """A value as JSON holds it: datetimes as ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(record: dict[str, Any]) -> str:
    return json.dumps({k: json_value(v) for k, v in record.items()}, ensure_ascii=False)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None) -> None:
    """A plain aligned text table; numbers right-aligned."""
    # Looked up per call, not bound at import: a redirected sys.stdout is honoured.
    out = out or sys.stdout
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


def shorten(text: str | None, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def when(value: datetime | None) -> str:
    """A UTC time for a table cell: ``2024-06-01 12:00:03Z``; ``-`` for none."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"
