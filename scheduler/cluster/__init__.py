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
import importlib.util
from typing import TYPE_CHECKING, Any

from newsarchive.config import ClusterConfig, Config, ConfigError

if TYPE_CHECKING:
    from .jobs import BrokerUnavailable, enqueue_crawl, enqueue_import, queue_depth

__all__ = [
    "BrokerUnavailable",
    "enqueue_crawl",
    "enqueue_import",
    "queue_depth",
    "require_cluster_extra",
]
_LAZY = ("BrokerUnavailable", "enqueue_crawl", "enqueue_import", "queue_depth")


def require_cluster_extra(config: Config) -> ClusterConfig:
    """The ``[cluster]`` section; ConfigError naming the file if there is none or Celery is
    not installed (the optional ``[cluster]`` extra)."""
    if config.cluster is None:
        raise ConfigError(f"{config.path}: no [cluster] section (broker_url is needed)")
    if importlib.util.find_spec("celery") is None:
        raise ConfigError(
            f"{config.path}: cluster: Celery is not installed; "
            "install the extra: pip install 'newsarchive[cluster]'"
        )
    return config.cluster


def __getattr__(name: str) -> Any:
    # Celery is the optional [cluster] extra: `status` on one machine reads the
    # workers table through this package without importing it.
    if name in _LAZY:
        return getattr(importlib.import_module(".jobs", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
