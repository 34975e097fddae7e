"""The archive database: models, sessions, migrations, and the queries everything reads through.

This package never imports Scrapy; crawls hand it plain records.
"""

# The checkout's folders are not packages of their own: from the repository
# root `import storage` would load a second copy of every module beside the
# installed newsarchive.storage.
if __name__ != "newsarchive.storage":
    raise ImportError(f"import newsarchive.storage, not {__name__} (a folder of the checkout)")


from .archive import Archive, ArticleRecord
from .articles import EXPORT_FIELDS, FetchedArticle, Outcome, iter_articles, save_article
from .crawl_store import CrawlStore, StorageError
from .engine import create_archive_engine, read_session, write_session
from .schema import ensure_schema

__all__ = [
    "EXPORT_FIELDS",
    "Archive",
    "ArticleRecord",
    "CrawlStore",
    "FetchedArticle",
    "Outcome",
    "StorageError",
    "create_archive_engine",
    "ensure_schema",
    "iter_articles",
    "read_session",
    "save_article",
    "write_session",
]
