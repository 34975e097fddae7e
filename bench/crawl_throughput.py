"""Crawl throughput: ``newsarchive crawl`` into SQLite next to a bare Scrapy + trafilatura spider.

Serves N generated article pages (~60 KB each, mostly page furniture) on
127.0.0.1, then crawls them, in one run, with
  * bare:        a Scrapy spider that only downloads and runs trafilatura.extract;
  * newsarchive: the full crawl (clean → dedupe → store into a fresh SQLite file).
  * download:    a Scrapy spider that only downloads (the stage table's download row).
Both discover the pages from the same sitemap with the same concurrency. Prints
pages/s, the ratio, CPU ms per page of each crawl (its extraction processes
included) and the crawl's peak RSS summed over its process tree (and its PSS, and the
largest process of each kind: crawl, extraction, resource tracker). ``--pages
2000,20000`` repeats that for each size, to show whether memory stays flat.

Then the stage table: CPU milliseconds per page of each step newsarchive takes
(decode, extract, template, MinHash, WARC, database write, search index), run
one by one in this process over a sample of the same pages, next to what the
bare spider does for the same stage. Absolute numbers wobble on a shared
machine; the ratios are the result.

    python bench/crawl_throughput.py [--pages 2000] [--repeat 1] [--sample 200] [--no-stages]
        [--compare /path/to/other-venv/bin/newsarchive]

``--compare`` crawls the same pages, in turn in the same run, with another install
(say main's, in a venv of its own): old and new code side by side, on the same load.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = (
    "harbour council ferry budget minister storm coast fishermen report vote plan week city "
    "water bridge school police court market prices energy wind farm port workers union "
    "talks agreement residents museum festival weather rain night morning official said"
).split()
WRITE_BATCH = 16
"""Stories per transaction in the stage table's database write: about what the store
pipeline gathers while a batch is written, with 16 requests in flight."""
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


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    """The child's CPU time and that of every process it started and waited for."""
    peak_rss_mib: float
    """Highest sum of RSS over the child and its descendants, sampled every 0.2 s."""
    peak_by_kind: dict[str, float] = field(default_factory=dict)
    """Highest RSS, in MiB, of any one process of each kind (see ``_kind``)."""
    peak_pss_mib: float = 0.0
    """Highest sum of PSS over the tree: RSS counts a page shared by several processes
    (libpython, lxml, numpy) in each of them, PSS shares it out among them."""
    cpu_by_kind: dict[str, float] = field(default_factory=dict)
    """CPU seconds of the processes of each kind, as last sampled: which one the
    crawl waits for (the crawl process is one thread of Python; extraction is spread)."""


def _kind(cmdline: bytes, root: bool) -> str:
    """What a process of a crawl's tree is: the crawl itself, an extraction process, or
    multiprocessing's resource tracker."""
    if root:
        return "crawl"
    if b"resource_tracker" in cmdline:
        return "resource tracker"
    if b"multiprocessing" in cmdline:
        return "extraction"
    return "other"


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_rss_kib(
    root: int, cpu: dict[int, tuple[str, float]] | None = None
) -> tuple[int, dict[str, int], int]:
    """RSS of ``root`` and its descendants (from /proc), in KiB, the largest one of each
    kind of process, and the tree's PSS; ``cpu`` gets each process's kind and CPU seconds."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    by_kind: dict[str, int] = {}
    for pid in tree:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        kind = _kind(cmdline, pid == root)
        by_kind[kind] = max(by_kind.get(kind, 0), rss.get(pid, 0))
        if cpu is not None and pid in ticks:
            cpu[pid] = (kind, ticks[pid] / _TICKS)
    return sum(rss.get(pid, 0) for pid in tree), by_kind, sum(_pss_kib(pid) for pid in tree)


def run_child(argv: list[str]) -> Run:
    """Run a child process to its end, sampling its process tree's memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = peak_pss = 0
    peaks: dict[str, int] = {}
    cpu: dict[int, tuple[str, float]] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        while not done.wait(0.2):
            total, by_kind, pss = _tree_rss_kib(proc.pid, cpu)
            peak, peak_pss = max(peak, total), max(peak_pss, pss)
            for kind, kib in by_kind.items():
                peaks[kind] = max(peaks.get(kind, 0), kib)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed:\n{proc.stderr.read().decode()[-3000:]}")
    # wait4 counts the child and its waited-for descendants (extraction processes).
    peak = max(peak, usage.ru_maxrss)
    cpu_by_kind: dict[str, float] = {}
    for kind, seconds in cpu.values():
        cpu_by_kind[kind] = cpu_by_kind.get(kind, 0.0) + seconds
    return Run(
        elapsed,
        usage.ru_utime + usage.ru_stime,
        peak / 1024,
        {kind: kib / 1024 for kind, kib in sorted(peaks.items())},
        peak_pss / 1024,
        dict(sorted(cpu_by_kind.items())),
    )


def bare_spider(sitemap_url: str, extract: bool = True) -> None:
    """Child mode: download every page of the sitemap and run trafilatura on it, nothing else."""
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiders import SitemapSpider

    class Bare(SitemapSpider):
        name = "bare"
        sitemap_urls = [sitemap_url]  # noqa: RUF012

        def parse(self, response: Any) -> None:
            if extract:
                trafilatura.extract(response.body)

    process = CrawlerProcess({**SETTINGS, "ROBOTSTXT_OBEY": True})
    process.crawl(Bare)
    process.start()


def _cpu_ms(pages: list[Any], step: Callable[[Any], Any]) -> tuple[float, list[Any]]:
    """CPU milliseconds per page of ``step`` over ``pages``, and its results."""
    began = time.process_time()
    results = [step(page) for page in pages]
    return (time.process_time() - began) * 1000 / len(pages), results


def stage_table(root: Path, sample: int) -> list[tuple[str, float | None, float | None]]:
    """(stage, newsarchive CPU ms/page, bare spider CPU ms/page) over ``sample`` pages."""
    import trafilatura

    from newsarchive.crawler.encoding import decode_html
    from newsarchive.crawler.extraction import block_hashes, extract_article, strip_template
    from newsarchive.crawler.pages import content_hash
    from newsarchive.similarity import signature
    from newsarchive.storage import CrawlStore, FetchedArticle
    from newsarchive.storage.search import cjk_bigrams
    from newsarchive.storage.warc import WarcWriter

    paths = sorted((root / "news").iterdir())[:sample]
    bodies = [path.read_bytes() for path in paths]
    urls = [f"http://bench.test/news/{path.name}" for path in paths]
    rows: list[tuple[str, float | None, float | None]] = []
    decode, texts = _cpu_ms(bodies, decode_html)
    rows.append(("decode", decode, None))  # trafilatura decodes inside extract
    extract, found = _cpu_ms(list(zip(texts, urls, strict=True)), lambda p: extract_article(*p))
    bare_extract, _ = _cpu_ms(bodies, trafilatura.extract)
    rows.append(("extract", extract, bare_extract))
    # What a crawl does per page once it knows the template: hash the lines, strip them.
    learned = {h: 99 for h in block_hashes(found[0].text)}
    template, _ = _cpu_ms(
        found, lambda e: (block_hashes(e.text), strip_template(e.text, learned, min_pages=5))
    )
    rows.append(("template", template, None))
    minhash, signatures = _cpu_ms(found, lambda e: signature(e.text))
    rows.append(("MinHash", minhash, None))
    with tempfile.TemporaryDirectory(prefix="na-stages-") as tmp:
        writer = WarcWriter(Path(tmp) / "warc", max_size=10**9)
        warc, _ = _cpu_ms(
            list(zip(urls, bodies, strict=True)),
            lambda p: writer.write_exchange(
                p[0],
                method="GET",
                request_headers=[("Host", "bench.test")],
                status=200,
                reason="OK",
                response_headers=[("Content-Type", "text/html; charset=utf-8")],
                body=p[1],
            ),
        )
        writer.close()
        rows.append(("WARC", warc, None))
        with CrawlStore(f"sqlite:///{Path(tmp) / 'stages.db'}") as store:
            store.migrate()
            articles = [
                FetchedArticle(
                    source="bench",
                    url=url,
                    canonical_url=url,
                    text=e.text,
                    content_hash=content_hash(e.text),
                    title=e.title,
                    minhash=sig,
                )
                for url, e, sig in zip(urls, found, signatures, strict=True)
            ]
            # In batches, as the store pipeline writes them (one transaction each).
            batches = [articles[i : i + WRITE_BATCH] for i in range(0, len(articles), WRITE_BATCH)]
            write, _ = _cpu_ms(batches, store.save_articles)
            write *= len(batches) / len(articles)
            # The index rows the triggers write, alone, into a scratch copy of the tables.
            with store.engine.begin() as conn:
                conn.exec_driver_sql("CREATE VIRTUAL TABLE s USING fts5(t, b, tokenize='trigram')")
                conn.exec_driver_sql("CREATE VIRTUAL TABLE g USING fts5(t, b, tokenize='ascii')")
                index, _ = _cpu_ms(
                    articles,
                    lambda a: (
                        conn.exec_driver_sql(
                            "INSERT INTO s VALUES (?, ?)", (a.title or "", a.text)
                        ),
                        conn.exec_driver_sql(
                            "INSERT INTO g VALUES (?, ?)",
                            (cjk_bigrams(a.title), cjk_bigrams(a.text)),
                        ),
                    ),
                )
    rows.append(("database write", write - index, None))
    rows.append(("index", index, None))
    return rows


def _crawl_config(tmp: Path, name: str, sitemap: str) -> Path:
    """A config crawling the bench site into a fresh SQLite file and WARC folder."""
    config = tmp / f"{name}.toml"
    scrapy_table = "\n".join(f"{k} = {v!r}".replace("False", "false") for k, v in SETTINGS.items())
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp / name}.db"\n\n'
        f'[archive]\nwarc_dir = "{tmp / f"warc-{name}"}"\n\n'
        # The bench site is on loopback, which a crawl refuses unless allowed.
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n\n'
        f"[scrapy]\n{scrapy_table}\n\n"
        f'[[sources]]\nname = "bench"\nsitemaps = ["{sitemap}"]\n',
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", default="2000", help="sizes, comma-separated: 2000,20000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sample", type=int, default=200, help="pages for the stage table")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NEWSARCHIVE",
        help="another install's newsarchive command (e.g. main's, in a venv of its own), "
        "crawled in turn with this one's on the same pages: old and new code side by side",
    )
    parser.add_argument("--no-stages", action="store_true", help="skip the stage table")
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    parser.add_argument("--download-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        bare_spider(args.bare_child)
        return
    if args.download_child:
        bare_spider(args.download_child, extract=False)
        return

    crawlers = {"newsarchive": str(Path(sys.executable).with_name("newsarchive"))}
    for n, command in enumerate(args.compare, 1):
        crawlers[f"compare {n}"] = command
        print(f"compare {n}: {command}")
    sizes = [int(n) for n in args.pages.split(",")]
    report: dict[int, dict[str, Run]] = {}
    stages: list[tuple[str, float | None, float | None]] = []
    for pages in sizes:
        with tempfile.TemporaryDirectory(prefix="na-bench-") as tmp:
            root = Path(tmp) / "site"
            build_site(root, pages)
            size = sum(p.stat().st_size for p in (root / "news").iterdir()) / pages / 1024
            server = serve(root)
            base = f"http://127.0.0.1:{server.server_address[1]}"
            sitemap = f"{base}/sitemap.xml"
            print(f"{pages} pages, {size:.0f} KB each on average, served at {base}", flush=True)
            runs: dict[str, list[Run]] = {"download only": [], "bare": []}
            runs.update({name: [] for name in crawlers})
            for n in range(args.repeat):
                if pages == sizes[0] and not args.no_stages:
                    runs["download only"].append(
                        run_child([sys.executable, __file__, "--download-child", sitemap])
                    )
                runs["bare"].append(run_child([sys.executable, __file__, "--bare-child", sitemap]))
                for name, command in crawlers.items():
                    config = _crawl_config(Path(tmp), f"{name.replace(' ', '-')}-{n}", sitemap)
                    runs[name].append(run_child([command, "--config", str(config), "crawl"]))
            server.shutdown()
            report[pages] = {name: min(r, key=lambda x: x.seconds) for name, r in runs.items() if r}
            if pages == sizes[0] and not args.no_stages:
                stages = stage_table(root, min(args.sample, pages))

    label = {"bare": "bare scrapy+trafilatura", "download only": "bare scrapy, download only"}
    for pages, runs in report.items():
        print(f"\n{pages} pages")
        print(
            f"{'crawler':<26} {'pages/s':>9} {'CPU ms/page':>12} {'peak RSS MiB':>13} "
            f"{'(PSS)':>6}  largest process of each kind, RSS MiB; CPU ms/page of each kind"
        )
        for name, run in runs.items():
            kinds = ", ".join(f"{kind} {mib:.0f}" for kind, mib in run.peak_by_kind.items())
            cpu = ", ".join(
                f"{kind} {seconds * 1000 / pages:.1f}" for kind, seconds in run.cpu_by_kind.items()
            )
            print(
                f"{label.get(name, name):<26} {pages / run.seconds:>9.1f} "
                f"{run.cpu_seconds * 1000 / pages:>12.1f} {run.peak_rss_mib:>13.0f} "
                f"{run.peak_pss_mib:>6.0f}  {kinds}; {cpu}"
            )
        for name in crawlers:
            ratio = runs["bare"].seconds / runs[name].seconds
            print(f"{name} / bare throughput ratio: {ratio:.2f}")
    if len(report) > 1:
        for name in crawlers:
            first, last = report[sizes[0]][name], report[sizes[-1]][name]
            print(
                f"\n{name} peak RSS at {sizes[-1]} / at {sizes[0]} pages: "
                f"{last.peak_rss_mib / first.peak_rss_mib:.2f}"
            )
    if args.no_stages:
        return

    download = report[sizes[0]]["download only"]
    download_ms = download.cpu_seconds * 1000 / sizes[0]
    print(f"\nCPU ms per page, by stage ({min(args.sample, sizes[0])} pages, one at a time)")
    print(f"{'stage':<16} {'newsarchive':>12} {'bare':>8}")
    print(f"{'download':<16} {download_ms:>12.1f} {download_ms:>8.1f}")
    for stage, ours, bare in stages:
        theirs = "—" if bare is None else f"{bare:.1f}"
        print(f"{stage:<16} {ours:>12.1f} {theirs:>8}")
    total = download_ms + sum(ours for _, ours, _ in stages)
    bare_total = download_ms + sum(bare or 0 for _, _, bare in stages)
    print(f"{'sum':<16} {total:>12.1f} {bare_total:>8.1f}")


if __name__ == "__main__":
    main()
