"""Crawling news sites with Scrapy: spiders, middlewares, item pipelines, extraction."""

# The checkout's folders are not packages of their own: from the repository
# root `import crawler` would load a second copy of every module beside the
# installed newsarchive.crawler.
if __name__ != "newsarchive.crawler":
    raise ImportError(f"import newsarchive.crawler, not {__name__} (a folder of the checkout)")
