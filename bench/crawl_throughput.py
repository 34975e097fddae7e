"""Crawl throughput: ``newsarchive crawl`` into SQLite next to a bare Scrapy + trafilatura spider.

Serves N generated article pages (~60 KB each, mostly page furniture) on
127.0.0.1, then crawls them, in one run, with
  * bare:        a Scrapy spider that only downloads and runs trafilatura.extract;
  * newsarchive: the full crawl (clean → dedupe → store into a fresh SQLite file).
Both discover the pages from the same sitemap with the same concurrency. Prints
pages/s, the ratio, and each child's peak RSS. Absolute numbers wobble on a
shared machine; the ratio is the result.

    python bench/crawl_throughput.py [--pages 2000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = (
    "harbour council ferry budget minister storm coast fishermen report vote plan week city "
    "water bridge school police court market prices energy wind farm port workers union "
    "talks agreement residents museum festival weather rain night morning official said"
).split()
SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOG_LEVEL": "WARNING",
}


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 22))]
    return " ".join(words).capitalize() + "."


def _page(i: int, rng: random.Random) -> str:
    paragraphs = "\n".join(
        f"<p>{' '.join(_sentence(rng) for _ in range(4))}</p>" for _ in range(10)
    )
    nav = "".join(f'<li><a href="/section/{n}.html">Section {n}</a></li>' for n in range(40))
    related = "".join(
        f'<li><a href="/news/{rng.randint(0, 10**6)}.html">{_sentence(rng)}</a></li>'
        for _ in range(40)
    )
    script = "var cfg = {" + ",".join(f'"k{n}": "{"x" * 40}"' for n in range(500)) + "};"
    style = "".join(f".c{n} {{ margin: {n}px; color: #{n:06x}; }}\n" for n in range(600))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Story {i}: {_sentence(rng)}</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-05-{1 + i % 28:02d}T09:00:00+01:00">
<style>{style}</style><script>{script}</script></head>
<body><header><nav><ul>{nav}</ul></nav></header>
<div class="ad-slot">- Advertisement -</div>
<main><article><h1>Story {i}</h1><p class="byline">By Jane Doe</p>
{paragraphs}
<div class="share-bar">Share this article</div></article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside></main>
<div class="newsletter">Sign up for our newsletter</div>
<footer><p>© Bench Gazette</p></footer></body></html>"""


def build_site(root: Path, pages: int) -> None:
    rng = random.Random(42)
    (root / "news").mkdir(parents=True)
    urls = []
    for i in range(pages):
        (root / "news" / f"story-{i}.html").write_text(_page(i, rng), encoding="utf-8")
        urls.append(f"<url><loc>BASE/news/story-{i}.html</loc></url>")
    (root / "sitemap.tmpl").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(urls)
        + "</urlset>",
        encoding="utf-8",
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(root: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (root / "sitemap.xml").write_text(
        (root / "sitemap.tmpl").read_text(encoding="utf-8").replace("BASE", base), encoding="utf-8"
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_child(argv: list[str]) -> tuple[float, int]:
    """Run a child process; return (wall seconds, its peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed:\n{proc.stderr.read().decode()[-3000:]}")
    return elapsed, usage.ru_maxrss // 1024


def bare_spider(sitemap_url: str) -> None:
    """Child mode: download every page of the sitemap and run trafilatura on it, nothing else."""
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiders import SitemapSpider

    class Bare(SitemapSpider):
        name = "bare"
        sitemap_urls = [sitemap_url]  # noqa: RUF012

        def parse(self, response: Any) -> None:
            trafilatura.extract(response.body)

    process = CrawlerProcess({**SETTINGS, "ROBOTSTXT_OBEY": True})
    process.crawl(Bare)
    process.start()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        bare_spider(args.bare_child)
        return

    newsarchive = str(Path(sys.executable).with_name("newsarchive"))
    with tempfile.TemporaryDirectory(prefix="na-bench-") as tmp:
        root = Path(tmp) / "site"
        build_site(root, args.pages)
        size = sum(p.stat().st_size for p in (root / "news").iterdir()) / args.pages / 1024
        server = serve(root)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        print(f"{args.pages} pages, {size:.0f} KB each on average, served at {base}")
        results: dict[str, list[tuple[float, int]]] = {
            "bare scrapy+trafilatura": [],
            "newsarchive crawl": [],
        }
        for n in range(args.repeat):
            db = Path(tmp) / f"bench-{n}.db"
            config = Path(tmp) / f"bench-{n}.toml"
            scrapy_table = "\n".join(
                f"{k} = {v!r}".replace("False", "false") for k, v in SETTINGS.items()
            )
            config.write_text(
                f'[database]\nurl = "sqlite:///{db}"\n\n'
                # The bench site is on loopback, which a crawl refuses unless allowed.
                '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n\n'
                f"[scrapy]\n{scrapy_table}\n\n"
                f'[[sources]]\nname = "bench"\nsitemaps = ["{base}/sitemap.xml"]\n',
                encoding="utf-8",
            )
            results["bare scrapy+trafilatura"].append(
                run_child([sys.executable, __file__, "--bare-child", f"{base}/sitemap.xml"])
            )
            results["newsarchive crawl"].append(
                run_child([newsarchive, "--config", str(config), "crawl"])
            )
        server.shutdown()

    print(f"\n{'crawler':<26} {'pages/s':>9} {'peak RSS MiB':>13}")
    rates = {}
    for name, runs in results.items():
        best = min(t for t, _ in runs)
        rates[name] = args.pages / best
        print(f"{name:<26} {rates[name]:>9.1f} {max(r for _, r in runs):>13}")
    ratio = rates["newsarchive crawl"] / rates["bare scrapy+trafilatura"]
    print(f"\nnewsarchive / bare throughput ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
