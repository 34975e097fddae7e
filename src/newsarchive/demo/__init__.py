"""``newsarchive demo``: crawl the bundled sample site on loopback into a fresh SQLite file."""

from __future__ import annotations

import functools
import json
import shutil
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from newsarchive.cli.output.runs import print_crawl_summary
from newsarchive.config import parse_config
from newsarchive.crawler.run import run_crawl
from newsarchive.storage import create_archive_engine, iter_articles, read_session

DB_NAME = "newsarchive-demo.db"
CONFIG_NAME = "newsarchive-demo.toml"
WARC_DIR_NAME = "newsarchive-demo-warc"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(root: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-site").start()
    return server


def run_demo(directory: Path, *, log_level: str | None = None) -> int:
    """Serve the sample site, crawl it with the full pipeline, print the summary and 3 articles."""
    directory.mkdir(parents=True, exist_ok=True)
    db_path = (directory / DB_NAME).resolve()
    warc_dir = db_path.with_name(WARC_DIR_NAME)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(warc_dir, ignore_errors=True)  # the previous demo's, never anything else
    # A config for exploring the demo archive afterwards with every command
    # (raw and reprocess need its WARC folder, not only the database).
    config_path = db_path.with_name(CONFIG_NAME)
    config_path.write_text(
        f"# Written by `newsarchive demo`: the demo archive.\n"
        f"[database]\nurl = {json.dumps(f'sqlite:///{db_path}')}\n\n"
        f"[archive]\nwarc_dir = {json.dumps(str(warc_dir))}\n",
        encoding="utf-8",
    )

    with as_file(files("newsarchive.demo") / "site") as site_root:
        server = _serve(site_root)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        config = parse_config(
            {
                "database": {"url": f"sqlite:///{db_path}"},
                # The sample site is served on loopback, which crawls refuse by default.
                "crawl": {"allow_private_networks": ["127.0.0.1/32"]},
                # Beside the demo database, not in whatever folder the user ran it from.
                "archive": {"warc_dir": str(warc_dir)},
                # A local site needs no politeness delay; everything else stays default.
                "scrapy": {"AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": log_level or "INFO"},
                "sources": [
                    {
                        "name": "riverside",
                        "start_urls": [f"{base}/"],
                        "feeds": [f"{base}/feed.xml"],
                        "sitemaps": [f"{base}/robots.txt"],
                        "schedule": "*/30 * * * *",
                    }
                ],
            },
            "<demo>",
        )
        print(f"Serving the sample site at {base}; crawling into {db_path}", file=sys.stderr)
        try:
            summaries = run_crawl(config, config.sources)
        finally:
            server.shutdown()

    print("\nCrawl summary")
    print_crawl_summary(summaries)
    engine = create_archive_engine(config.database_url)
    with read_session(engine) as session:
        samples = [a for a in iter_articles(session) if a["duplicate_of"] is None][:3]
        duplicates = [a for a in iter_articles(session) if a["duplicate_of"] is not None]
    for article in samples:
        text = article["text"]
        print(f"\n## {article['title']}")
        print(f"   {article['url']}")
        print(
            f"   language={article['language']} published={article['published_at']} "
            f"authors={', '.join(article['authors']) or '-'}"
        )
        print("   " + (text[:400] + " …" if len(text) > 400 else text).replace("\n", "\n   "))
    for dup in duplicates:
        print(f"\nduplicate: {dup['url']} copies article {dup['duplicate_of']}")
    print(
        f"\nThe archive is in {db_path}, its WARC files in {warc_dir}. Explore it with:\n"
        f"  newsarchive --config {config_path} export\n"
        f"  newsarchive --config {config_path} search 夜市\n"
        f"  newsarchive --config {config_path} duplicates\n"
        f"  newsarchive --config {config_path} raw 1"
    )
    engine.dispose()
    return 0 if summaries and all(s.status == "ok" for s in summaries) else 1
