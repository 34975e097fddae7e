"""newsarchive: a scheduled crawl-and-archive system for news."""

__version__ = "0.1.0"
