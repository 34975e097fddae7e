"""Re-extraction speed: ``newsarchive reprocess --all`` with 1 and with 2 extraction processes.

Stores N generated article pages (the ~60 KB pages of ``crawl_throughput.py``)
as an older extractor's versions in a fresh SQLite archive, copies it, then
runs ``reprocess --all --processes P`` on a copy for each P and prints the
pages/s the command reports, and the ratio.

    python bench/reprocess.py [--pages 400] [--processes 1,2]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from crawl_throughput import _page

from newsarchive.crawler.pages import content_hash
from newsarchive.storage import CrawlStore, FetchedArticle


def build(path: Path, pages: int) -> None:
    rng = random.Random(42)
    with CrawlStore(f"sqlite:///{path}") as store:
        store.migrate()
        for n in range(pages):
            url = f"http://bench.test/news/story-{n}.html"
            store.save_article(
                FetchedArticle(
                    source="bench",
                    url=url,
                    canonical_url=url,
                    text=f"old text {n}",
                    content_hash=content_hash(f"old text {n}"),
                    raw_html=_page(n, rng).encode(),
                    extractor_version="2020-01-01",
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--processes", default="1,2")
    args = parser.parse_args()
    newsarchive = str(Path(sys.executable).with_name("newsarchive"))
    rates = {}
    with tempfile.TemporaryDirectory(prefix="na-reprocess-") as tmp:
        original = Path(tmp) / "archive.db"
        build(original, args.pages)
        for processes in (int(p) for p in args.processes.split(",")):
            copy = Path(tmp) / f"archive-{processes}.db"
            shutil.copy(original, copy)
            result = subprocess.run(
                [newsarchive, "reprocess", "--all", "--processes", str(processes)],
                env={"NEWSARCHIVE_DATABASE_URL": f"sqlite:///{copy}", "PATH": ""},
                capture_output=True,
                text=True,
                check=True,
            )
            summary = json.loads(result.stdout)
            rates[processes] = summary["pages_per_second"]
            print(
                f"--processes {processes}: {summary['pages_per_second']:.1f} pages/s "
                f"({summary['examined']} pages, {summary['updated']} updated)"
            )
    first = min(rates)
    for processes, rate in rates.items():
        if processes != first:
            print(f"{processes} processes / {first}: {rate / rates[first]:.2f}×")


if __name__ == "__main__":
    main()
