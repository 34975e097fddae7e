"""Re-extraction speed: ``newsarchive reprocess --all`` with 1 and with 2 processes.

Archives N generated article pages (the ~60 KB pages of ``crawl_throughput.py``)
as a crawl does, the responses in a gzipped WARC file and an older extractor's
versions in a fresh SQLite archive (``--raw zlib``: in the database's zlib
column instead, as versions stored before WARC). Then, ``--rounds`` times, for
each P in ``--processes`` in turn, runs ``reprocess --all --processes P`` on a
fresh copy and prints the pages/s the command reports and the CPU milliseconds
per page of the command's process ("main": its start, reading, storing, and
the pages it extracts itself) and of its extraction processes, side by side,
with the ratio to the first P in the same round. Running the P alternately
keeps a shared machine's load from favouring one of them.

After each run with more processes than the first P, busy loops are timed in
the first P and in this P processes (2 s each): what the machine gives that
many processes against the first P at that moment. With other sessions busy,
Linux (sched_autogroup) shares the CPUs between sessions, not processes, and a
second process of the same session gets little or no more CPU; that ratio is
then the most any code could gain.

    python bench/reprocess.py [--pages 400] [--processes 1,2] [--rounds 3] [--raw warc]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from crawl_throughput import _page

from newsarchive.crawler.pages import content_hash
from newsarchive.storage import CrawlStore, FetchedArticle
from newsarchive.storage.warc import WarcWriter

# Runs the command as the `newsarchive` script does, then reports on stderr the
# CPU time of this process and of the extraction processes it started (and
# waited for when it shut its pool down).
LAUNCHER = """
import resource, sys
from newsarchive.cli import main
code = main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF)
pool = resource.getrusage(resource.RUSAGE_CHILDREN)
print("cpu", me.ru_utime + me.ru_stime, pool.ru_utime + pool.ru_stime, file=sys.stderr)
sys.exit(code)
"""


def build(folder: Path, pages: int, raw: str) -> None:
    """An archive of ``pages`` stories in ``folder`` (``archive.db``, ``warc/``)."""
    rng = random.Random(42)
    warc = WarcWriter(folder / "warc", max_size=1 << 40) if raw == "warc" else None
    with CrawlStore(f"sqlite:///{folder / 'archive.db'}") as store:
        store.migrate()
        for n in range(pages):
            url = f"http://bench.test/news/story-{n}.html"
            body = _page(n, rng).encode()
            location = (
                warc.write_exchange(
                    url,
                    method="GET",
                    request_headers=[("Host", "bench.test")],
                    status=200,
                    reason="OK",
                    response_headers=[("Content-Type", "text/html; charset=utf-8")],
                    body=body,
                )
                if warc is not None
                else None
            )
            store.save_article(
                FetchedArticle(
                    source="bench",
                    url=url,
                    canonical_url=url,
                    text=f"old text {n}",
                    content_hash=content_hash(f"old text {n}"),
                    raw_html=None if location else body,
                    raw_encoding="utf-8",
                    warc_file=location.file if location else None,
                    warc_offset=location.offset if location else None,
                    extractor_version="2020-01-01",
                )
            )
    if warc is not None:
        warc.close()


def run(folder: Path, processes: int) -> dict[str, float]:
    """``reprocess --all --processes P`` on a fresh copy of the archive in ``folder``."""
    work = folder / f"run-{processes}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shutil.copy(folder / "archive.db", work / "archive.db")
    if (folder / "warc").exists():
        (work / "warc").symlink_to(folder / "warc")  # read only: shared by every run
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, "reprocess", "--all", "--processes", str(processes)],
        cwd=work,  # where the default warc_dir, ./warc, lies
        env={"NEWSARCHIVE_DATABASE_URL": "sqlite:///archive.db", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(result.stdout)
    cpu = next(line for line in result.stderr.splitlines() if line.startswith("cpu "))
    own, pool = (float(seconds) for seconds in cpu.split()[1:])
    pages = summary["examined"]
    shutil.rmtree(work)
    return {
        "pages_per_second": summary["pages_per_second"],
        "main_ms": own * 1000 / pages,
        "pool_ms": pool * 1000 / pages,
        "updated": summary["updated"],
    }


SPIN = """
import sys, time
end = time.perf_counter() + float(sys.argv[1])
count = 0
while time.perf_counter() < end:
    count += 1
print(count)
"""


def spin(processes: int, seconds: float = 2.0) -> int:
    """Loop iterations ``processes`` busy processes of this session manage in ``seconds``."""
    running = [
        subprocess.Popen([sys.executable, "-c", SPIN, str(seconds)], stdout=subprocess.PIPE)
        for _ in range(processes)
    ]
    return sum(int(process.communicate()[0]) for process in running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--raw", choices=("warc", "zlib"), default="warc")
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]
    first = counts[0]
    ratios: dict[int, list[float]] = {p: [] for p in counts[1:]}
    machine: dict[int, list[float]] = {p: [] for p in counts[1:]}
    print(f"{args.pages} pages ({args.raw}), load average {os.getloadavg()[0]:.1f}")
    print("round  P  pages/s  ratio  CPU ms/page: main  extraction   all  busy loops")
    with tempfile.TemporaryDirectory(prefix="na-reprocess-") as tmp:
        folder = Path(tmp)
        build(folder, args.pages, args.raw)
        for round_ in range(1, args.rounds + 1):
            rates = {}
            for processes in counts:
                got = run(folder, processes)
                rates[processes] = got["pages_per_second"]
                ratio = rates[processes] / rates[first]
                spun = ""
                if processes != first:
                    ratios[processes].append(ratio)
                    machine[processes].append(spin(processes) / spin(first))
                    spun = f"  {machine[processes][-1]:4.2f}×"
                print(
                    f"{round_:5}  {processes}  {got['pages_per_second']:7.1f}  {ratio:4.2f}×"
                    f"  {got['main_ms']:17.1f}  {got['pool_ms']:10.1f}"
                    f"  {got['main_ms'] + got['pool_ms']:4.1f}"
                    f"{spun}"
                    + ("" if got["updated"] == args.pages else f"  ({got['updated']} updated!)")
                )
    print(f"load average {os.getloadavg()[0]:.1f}")
    for processes, values in ratios.items():
        print(
            f"{processes} processes / {first}: median {statistics.median(values):.2f}×"
            f" (each round: {', '.join(f'{v:.2f}' for v in values)});"
            f" busy loops {statistics.median(machine[processes]):.2f}×"
        )


if __name__ == "__main__":
    main()
