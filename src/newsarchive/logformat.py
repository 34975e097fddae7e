"""Log lines for people (text) or for log shippers (one JSON object per line).

Extra fields passed with ``logger.info(..., extra={...})`` become keys of the
JSON object, so a shipper can filter on ``source`` or ``status`` without
parsing the message.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]
# Scrapy's own default, so a daemon's lines and its crawls' lines read alike.
TEXT_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
_RECORD_ATTRS = frozenset(
    [*logging.LogRecord("", 0, "", 0, "", (), None).__dict__, "message", "asctime", "taskName"]
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_") and key not in data:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def log_handler(fmt: LogFormat, level: str | int = logging.INFO) -> logging.Handler:
    """A stderr handler writing ``fmt`` lines at ``level`` and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.setLevel(level)
    return handler


def configure_logging(fmt: LogFormat, level: str | int = logging.INFO) -> None:
    """Send every logger's records at ``level`` and above to stderr as ``fmt`` lines."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(log_handler(fmt, level))
    root.setLevel(level)
