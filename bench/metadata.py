"""Dates, authors, date provenance and access, per benchmark set and per split.

Usage::

    python bench/metadata.py ../shared/extraction-bench [--sets zh-news dragnet ...] [--misses]

Each set's pages are split by a fixed hash of the page id: a third is held out
(``sha256(id) % 3 == 0``) and the rest is the development part the rules were
tuned on, so the held-out figures say how the rules do on pages never looked at.
Where a set has ``dates.json`` / ``authors.json`` (zh-news), date and author
accuracy is printed with ``bench/extraction.py``'s own scoring; for every set,
how many pages each ``published_at_source`` and ``access`` value got.
``--misses`` lists the development pages whose date or author is wrong.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from newsarchive.crawler.extraction import extract_article

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extraction import _truth_value, authors_correct, date_correct

HELD_OUT, DEV = "held-out", "dev"


def split(page_id: str) -> str:
    return HELD_OUT if int(hashlib.sha256(page_id.encode()).hexdigest(), 16) % 3 == 0 else DEV


def _table(folder: Path, name: str) -> dict[str, dict[str, str]]:
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def run_set(folder: Path, misses: bool) -> None:
    truth = _table(folder, "ground-truth.json")
    dates, authors = _table(folder, "dates.json"), _table(folder, "authors.json")
    right: Counter[tuple[str, str]] = Counter()
    known: Counter[tuple[str, str]] = Counter()
    sources: Counter[str] = Counter()
    access: Counter[str] = Counter()
    for page_id in sorted(truth):
        raw = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        result = extract_article(raw, truth[page_id].get("url"))
        sources[result.published_at_source or "none"] += 1
        access[result.access] += 1
        part = split(page_id)
        checks = (
            ("date", _truth_value(dates, page_id), result.published_at, date_correct),
            ("author", _truth_value(authors, page_id), result.authors, authors_correct),
        )
        for field, expected, got, correct in checks:
            if expected is None:
                continue
            known[part, field] += 1
            ok = correct(got, expected)  # type: ignore[operator]
            right[part, field] += ok
            if misses and not ok and part == DEV:
                print(f"  miss {field} {page_id}: expected {expected!r}, got {got!r}")
    print(f"\n{folder.name}: {len(truth)} pages")
    for part in (DEV, HELD_OUT):
        figures = [
            f"{field}s {right[part, field]}/{known[part, field]}"
            for field in ("date", "author")
            if known[part, field]
        ]
        if figures:
            print(f"  {part:<9} {', '.join(figures)}")
    print("  published_at_source: " + ", ".join(f"{k} {v}" for k, v in sources.most_common()))
    print("  access: " + ", ".join(f"{k} {v}" for k, v in access.most_common()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", type=Path, help="the folder holding the sets")
    parser.add_argument("--sets", nargs="*", help="set names (default: every set)")
    parser.add_argument("--misses", action="store_true", help="list wrong development pages")
    args = parser.parse_args(argv)
    names = args.sets or sorted(p.name for p in args.bench.iterdir() if p.is_dir())
    for name in names:
        run_set(args.bench / name, args.misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
