"""Crawl scheduling (the daemon). Starts crawls on a schedule; it never crawls itself."""
