"""``newsarchive serve``: a read-only web UI and JSON API over the archive."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazily: `serve` refuses a bad address before FastAPI and the templates are loaded.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
