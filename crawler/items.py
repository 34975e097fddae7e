"""The item a spider yields for every fetched HTML page; the pipelines fill in the rest."""

from __future__ import annotations

from dataclasses import dataclass

from .extraction import Extraction
from .pages import FetchedPage, StoryIdentity


@dataclass
class ArticleItem:
    """One fetched page on its way through clean → dedupe → store (see :mod:`.pages`)."""

    page: FetchedPage
    extraction: Extraction | None = None
    """Set by the clean pipeline."""
    identity: StoryIdentity | None = None
    """Set by the dedupe pipeline."""
