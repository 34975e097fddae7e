"""Crawl scheduling (the daemon). Starts crawls on a schedule; it never crawls itself."""

# The checkout's folders are not packages of their own: from the repository
# root `import scheduler` would load a second copy of every module beside the
# installed newsarchive.scheduler.
if __name__ != "newsarchive.scheduler":
    raise ImportError(f"import newsarchive.scheduler, not {__name__} (a folder of the checkout)")
