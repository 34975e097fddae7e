"""Crawls and imports as Celery jobs, run by ``newsarchive worker`` on many machines.

- :mod:`.app`: the Celery app built from ``[cluster]``, and the task names;
- :mod:`.jobs`: putting jobs on the queue, and how many wait there;
- :mod:`.tasks`: what a worker does with a job (a child process, as the daemon);
- :mod:`.worker`: the ``newsarchive worker`` process;
- :mod:`.heartbeat`: the ``workers`` table;
- :mod:`.leader`: the one active dispatcher per database;
- :mod:`.dispatcher`: ``newsarchive daemon`` with ``[cluster]``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .jobs import BrokerUnavailable, enqueue_crawl, enqueue_import, queue_depth

__all__ = ["BrokerUnavailable", "enqueue_crawl", "enqueue_import", "queue_depth"]


def __getattr__(name: str) -> Any:
    # Celery is the optional [cluster] extra: `status` on one machine reads the
    # workers table through this package without importing it.
    if name in __all__:
        return getattr(importlib.import_module(".jobs", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
