"""Importing WARC and WACZ archives made by other crawlers through the crawl's per-page path."""
