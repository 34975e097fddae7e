"""Main-text extraction benchmark: newsarchive beside trafilatura and readability-lxml.

Usage::

    python bench/extraction.py [DATASET_DIR ...] [--part dev|held-out|both]
                               [--extractor newsarchive|trafilatura|readability ...]
                               [--limit N] [--time-sample N] [--worst N]

Without DATASET_DIR every set in ``../shared/extraction-bench/`` (beside the
checkout) is run.  A DATASET_DIR holds ``html/<id>.html.gz`` and
``ground-truth.json`` (and, for zh-news, ``dates.json`` / ``authors.json``).

The metric is the CJK-aware shingle F1 described in the dataset README: P and R
are averaged over pages, F1 is computed from those averages.

**Split.** Every set is cut into a DEV part and a HELD-OUT part by a fixed rule
that does not depend on the page: a page is held out when
``int(sha1(page id).hexdigest(), 16) % 3 == 0`` (about a third of each set).
Extraction is tuned on DEV pages only; HELD-OUT figures are for reporting, so
``--part dev`` (the default while tuning) never prints them.

``newsarchive`` runs ``extract_article`` on the raw bytes, exactly as the crawl
pipeline does (so its time includes decoding).  The baselines get the text
decoded by ``decode_html`` so every extractor sees the same characters.  Their
outputs are cached in ``bench/.cache/`` (gitignored), keyed by the library's
version, so a rerun only pays for newsarchive.  The speed ratio (CPU time) is measured
afresh on ``--time-sample`` pages per set (200: on 40, two samples of one set
differed by 0.16), newsarchive and trafilatura taking turns page by page so a
burst of load on a shared machine slows both alike.
Ground truth is only read for scoring, never by an extractor.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from newsarchive.crawler.encoding import decode_html
from newsarchive.crawler.extraction import extract_article

BENCH_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "extraction-bench"
CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "extraction"
PARTS = ("dev", "held-out")

# Han ideographs (incl. extensions and compatibility), kana, hangul.
_CJK = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
    "\U00020000-\U0003134f"
)
_TOKEN_RE = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
SHINGLE = 4


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text or "")


def shingles(text: str) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    if not toks:
        return Counter()
    if len(toks) < SHINGLE:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1))


def page_pr(prediction: str, truth: str) -> tuple[float, float]:
    pred, true = shingles(prediction), shingles(truth)
    if not pred:
        return (1.0, 1.0) if not true else (0.0, 0.0)
    tp = sum((pred & true).values())
    fp = sum(pred.values()) - tp
    fn = sum(true.values()) - tp
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def part_of(page_id: str) -> str:
    """The page's part of the fixed split: a third of every set is held out."""
    held_out = int(hashlib.sha1(page_id.encode("utf-8")).hexdigest(), 16) % 3 == 0
    return "held-out" if held_out else "dev"


# --------------------------------------------------------------------------
# Extractors: (raw bytes, decoded text, url) -> predicted text


def _newsarchive(raw: bytes, _decoded: str, url: str | None) -> str:
    return extract_article(raw, url).text


def _trafilatura(_raw: bytes, decoded: str, url: str | None) -> str:
    import trafilatura

    return trafilatura.extract(decoded) or ""


def _readability(_raw: bytes, decoded: str, url: str | None) -> str:
    import lxml.html
    from readability import Document

    try:
        summary = Document(decoded).summary()
        return lxml.html.fromstring(summary).text_content()
    except Exception:
        return ""


EXTRACTORS: dict[str, Callable[[bytes, str, str | None], str]] = {
    "newsarchive": _newsarchive,
    "trafilatura": _trafilatura,
    "readability": _readability,
}
# The competitors' outputs are cached under the version of the library that made them.
CACHED = {"trafilatura": "trafilatura", "readability": "readability-lxml"}


_WARM_UP_HTML = (
    "<html><body><article><h1>Warm-up</h1>"
    + "<p>The council met on Monday to discuss the new budget for the harbour.</p>" * 5
    + "</article></body></html>"
)
_WARM_UP = ("warm-up", _WARM_UP_HTML.encode(), _WARM_UP_HTML, None)

Page = tuple[str, bytes, str, str | None]


@dataclass
class Result:
    name: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)

    def averages(self, ids: list[str]) -> tuple[float, float, float]:
        n = len(ids) or 1
        p = sum(self.scores[i][0] for i in ids) / n
        r = sum(self.scores[i][1] for i in ids) / n
        return f1(p, r), p, r


def _cache_path(dataset: Path, name: str) -> Path:
    return CACHE_DIR / dataset.name / f"{name}-{version(CACHED[name])}.json"


def predictions(dataset: Path, name: str, pages: list[Page]) -> dict[str, str]:
    """``name``'s text for every page; a competitor's comes from the cache when it has it."""
    extract = EXTRACTORS[name]
    if name not in CACHED:
        return {page_id: extract(raw, decoded, url) for page_id, raw, decoded, url in pages}
    path = _cache_path(dataset, name)
    cache: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = [page for page in pages if page[0] not in cache]
    for page_id, raw, decoded, url in missing:
        cache[page_id] = extract(raw, decoded, url)
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # a bench killed mid-write leaves the old cache whole
    return {page[0]: cache[page[0]] for page in pages}


def speed_ratio(pages: list[Page]) -> float:
    """CPU seconds per page of newsarchive over trafilatura's, measured turn by turn.

    CPU time of this process, not wall time: on a shared machine the wall
    clock also counts the time other programs held the CPU.
    """
    for _page_id, raw, decoded, url in [*pages[:2], _WARM_UP]:
        _newsarchive(raw, decoded, url)
        _trafilatura(raw, decoded, url)
    # trafilatura builds jusText's stop-word table on the first page that needs
    # it (0.4 s, once per process); whichever extractor meets that page first
    # would pay it inside the sample.
    from trafilatura.external import jt_stoplist_init

    jt_stoplist_init()
    ours = theirs = 0.0
    for _page_id, raw, decoded, url in pages:
        start = time.process_time()
        _newsarchive(raw, decoded, url)
        middle = time.process_time()
        _trafilatura(raw, decoded, url)
        ours += middle - start
        theirs += time.process_time() - middle
    return ours / theirs if theirs else float("inf")


# --------------------------------------------------------------------------
# zh-news metadata checks


def _truth_value(table: dict[str, dict[str, str]], page_id: str) -> str | None:
    value = (table.get(page_id) or {}).get("articleBody")
    if value is None:
        return None
    value = value.strip()
    # One zh-news date is spelled "UNKNWON": it means unknown, not a date.
    return None if not value or re.fullmatch(r"UNK\w*", value.upper()) else value


def _date_parts(value: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", value)[:3])


def date_correct(predicted: object, truth: str | None) -> bool:
    if truth is None:
        return predicted is None
    if predicted is None:
        return False
    parts = _date_parts(truth)
    got = (predicted.year, predicted.month, predicted.day)  # type: ignore[attr-defined]
    return got[: len(parts)] == parts


def _name_key(names: list[str] | str) -> set[str]:
    if isinstance(names, str):
        names = [names]
    out: set[str] = set()
    for name in names:
        out.update(p for p in re.split(r"[\s、,，;&/]+", name) if p)
    return out


def authors_correct(predicted: list[str], truth: str | None) -> bool:
    if truth is None:
        return not predicted
    return _name_key(predicted) == _name_key(truth)


def print_metadata(dataset: Path, pages: list[Page]) -> None:
    dates_file, authors_file = dataset / "dates.json", dataset / "authors.json"
    if not (dates_file.exists() or authors_file.exists()):
        return
    dates = json.loads(dates_file.read_text(encoding="utf-8")) if dates_file.exists() else {}
    authors = json.loads(authors_file.read_text(encoding="utf-8")) if authors_file.exists() else {}
    date_ok = date_known = date_known_ok = author_ok = author_known = author_known_ok = 0
    for page_id, raw, _decoded, url in pages:
        extraction = extract_article(raw, url)
        t_date = _truth_value(dates, page_id)
        ok = date_correct(extraction.published_at, t_date)
        date_ok += ok
        if t_date is not None:
            date_known += 1
            date_known_ok += ok
        t_auth = _truth_value(authors, page_id)
        ok = authors_correct(extraction.authors, t_auth)
        author_ok += ok
        if t_auth is not None:
            author_known += 1
            author_known_ok += ok
    n = len(pages) or 1
    print(
        f"  newsarchive dates: {date_known_ok}/{date_known} right on pages with a known date "
        f"({date_ok / n:.3f} over all {len(pages)}, UNKNOWN right iff None)"
    )
    print(
        f"  newsarchive authors: {author_known_ok}/{author_known} right on pages with a known "
        f"author ({author_ok / n:.3f} over all)"
    )


# --------------------------------------------------------------------------


def load_pages(dataset: Path, parts: tuple[str, ...], limit: int | None) -> list[Page]:
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    ids = [page_id for page_id in sorted(truth) if part_of(page_id) in parts]
    if limit:
        ids = ids[:limit]
    pages: list[Page] = []
    for page_id in ids:
        raw = gzip.decompress((dataset / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((page_id, raw, decode_html(raw), truth[page_id].get("url")))
    return pages


def run_set(
    dataset: Path,
    names: list[str],
    parts: tuple[str, ...],
    limit: int | None,
    time_sample: int,
    worst: int,
) -> dict[str, dict[str, tuple[float, float, float]]]:
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    pages = load_pages(dataset, parts, limit)
    # Warm-up (imports, lazy tables such as the language model) outside any measurement.
    for name in names:
        EXTRACTORS[name](_WARM_UP[1], _WARM_UP[2], None)
    results = []
    for name in names:
        result = Result(name)
        for page_id, text in predictions(dataset, name, pages).items():
            result.scores[page_id] = page_pr(text, truth[page_id]["articleBody"])
        results.append(result)

    print(f"\n{dataset.name}: {len(pages)} pages")
    print(f"  {'part':<10}{'pages':>6}" + "".join(f"{r.name:>22}" for r in results))
    figures: dict[str, dict[str, tuple[float, float, float]]] = {}
    for part in parts:
        ids = [p[0] for p in pages if part_of(p[0]) == part]
        row = f"  {part:<10}{len(ids):>6}"
        for result in results:
            f, p, r = result.averages(ids)
            figures.setdefault(part, {})[result.name] = (f, p, r)
            row += f"{f:>10.3f} ({p:.3f}/{r:.3f})"
        print(row)
    if time_sample and "newsarchive" in names:
        step = max(1, len(pages) // time_sample)
        ratio = speed_ratio(pages[::step][:time_sample])
        print(f"  time per page, newsarchive / trafilatura: {ratio:.2f}x (decoding included)")

    ours = next((r for r in results if r.name == "newsarchive"), None)
    if ours is not None and worst:
        urls = {page_id: url for page_id, _raw, _dec, url in pages}
        dev = {k: v for k, v in ours.scores.items() if part_of(k) == "dev"}
        print(f"  worst {worst} DEV pages for newsarchive (F1 P R id url):")
        for page_id, (p, r) in sorted(dev.items(), key=lambda kv: f1(*kv[1]))[:worst]:
            print(f"    {f1(p, r):.3f} {p:.3f} {r:.3f} {page_id} {urls.get(page_id) or ''}")
    if ours is not None:
        print_metadata(dataset, pages)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", type=Path, nargs="*", help=f"default: every set in {BENCH_DIR}")
    parser.add_argument(
        "--extractor",
        action="extend",
        nargs="+",
        choices=sorted(EXTRACTORS),
        help="one or more (the flag may repeat); default: all three",
    )
    parser.add_argument("--part", choices=[*PARTS, "both"], default="both")
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each set")
    parser.add_argument(
        "--time-sample", type=int, default=200, help="pages per set timed for the speed ratio"
    )
    parser.add_argument("--worst", type=int, default=0, help="list the N worst DEV pages")
    args = parser.parse_args(argv)
    names = args.extractor or ["newsarchive", "trafilatura", "readability"]
    parts = PARTS if args.part == "both" else (args.part,)
    datasets = args.datasets or sorted(p for p in BENCH_DIR.iterdir() if (p / "html").is_dir())
    table = {
        d.name: run_set(d, names, parts, args.limit, args.time_sample, args.worst) for d in datasets
    }

    print("\nsummary: F1 per set and part (" + " | ".join(names) + ")")
    for part in parts:
        for set_name, figures in table.items():
            cells = " | ".join(f"{figures[part][n][0]:.3f}" for n in names)
            print(f"  {part:<10}{set_name:<20}{cells}")
        pooled = [table[s][part] for s in table]
        means = " | ".join(f"{sum(f[n][0] for f in pooled) / len(pooled):.3f}" for n in names)
        print(f"  {part:<10}{'mean of sets':<20}{means}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
