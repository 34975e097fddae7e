"""``newsarchive serve``: a read-only web UI and JSON API over the archive."""

from .app import create_app

__all__ = ["create_app"]
