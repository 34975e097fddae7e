"""Import throughput: records per second of ``newsarchive import`` with 1 and 2 processes.

Writes one gzip WARC of N generated article pages (a warcinfo record, then one
``response`` per page, as CC-NEWS files hold them), then imports it into a
fresh SQLite archive once with ``--processes 1`` and once with ``--processes 2``,
in one run. Prints records/s for each, the ratio, and the CPU time per record
of all processes together: on a shared machine the rates follow the load, the
CPU time much less.

    python bench/import.py [--pages 5000]
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

WORDS = (
    "harbour council ferry budget minister storm coast fishermen report vote plan week city "
    "water bridge school police court market prices energy wind farm port workers union "
    "talks agreement residents museum festival weather rain night morning official said"
).split()


def _page(i: int, rng: random.Random) -> bytes:
    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 22))).capitalize() + "."

    paragraphs = "".join(f"<p>{' '.join(sentence() for _ in range(4))}</p>" for _ in range(8))
    menu = "".join(f"<li><a href='/section/{n}'>Section {n}</a></li>" for n in range(30))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Story {i}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='2024-05-{1 + i % 28:02d}T09:00:00Z'>"
        f"</head><body><nav><ul>{menu}</ul></nav><article><h1>Story {i}: {sentence()}</h1>"
        f"<p class='byline'>By Reporter {i % 40}</p>{paragraphs}</article>"
        "<footer>© The Bench Gazette</footer></body></html>"
    ).encode()


def write_warc(path: Path, pages: int) -> None:
    rng = random.Random(14)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "bench"}))
        for i in range(pages):
            body = _page(i, rng)
            http = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            stamp = (start + timedelta(seconds=17 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            record = writer.create_warc_record(
                f"https://bench-{i % 7}.example.net/news/{i}",
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                warc_headers_dict={"WARC-Date": stamp},
                http_headers=http,
            )
            writer.write_record(record)


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the extraction processes)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_import(warc: Path, folder: Path, processes: int) -> tuple[float, float, int, int]:
    from newsarchive.config import parse_config
    from newsarchive.crawler.imports.run import ImportOptions, import_archives

    folder.mkdir()
    config = parse_config(
        {"database": {"url": f"sqlite:///{folder / 'archive.db'}"}}, folder / "x.toml"
    )
    started, cpu = time.perf_counter(), _cpu_seconds()
    summary = import_archives(config, [str(warc)], ImportOptions(processes=processes))
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    stored = summary.total("new") + summary.total("duplicates")
    return seconds, cpu, summary.total("records"), stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warc = folder / "bench.warc.gz"
        write_warc(warc, args.pages)
        print(f"WARC: {args.pages} pages, {warc.stat().st_size / 1e6:.1f} MB gzip")
        rates = {}
        for processes in (1, 2):
            seconds, cpu, records, stored = run_import(warc, folder / f"p{processes}", processes)
            rates[processes] = records / seconds
            print(
                f"--processes {processes}: {records} records, {stored} stories stored in "
                f"{seconds:.1f}s = {rates[processes]:.1f} records/s; "
                f"{1000 * cpu / records:.1f} CPU-ms per record (all processes)"
            )
        print(f"2 processes / 1 process: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
