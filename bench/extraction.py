"""Main-text extraction benchmark.

Usage::

    python bench/extraction.py DATASET_DIR [--extractor newsarchive|trafilatura|readability ...]
                               [--limit N]

DATASET_DIR holds ``html/<id>.html.gz`` and ``ground-truth.json`` (and, for
zh-news, ``dates.json`` / ``authors.json``).  The metric is the CJK-aware
shingle F1 described in the dataset README: P and R are averaged over pages,
F1 is computed from those averages.

``newsarchive`` runs ``extract_article`` on the raw bytes, exactly as the crawl
pipeline does (so its time includes decoding).  The baselines get the text
decoded by ``decode_html`` so every extractor sees the same characters.
Ground truth is only read for scoring, never by an extractor.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsarchive.crawler.encoding import decode_html
from newsarchive.crawler.extraction import extract_article

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


_WARM_UP_HTML = (
    "<html><body><article><h1>Warm-up</h1>"
    + "<p>The council met on Monday to discuss the new budget for the harbour.</p>" * 5
    + "</article></body></html>"
)
_WARM_UP = ("warm-up", _WARM_UP_HTML.encode(), _WARM_UP_HTML, None)


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)

    def averages(self) -> tuple[float, float, float]:
        n = len(self.scores) or 1
        p = sum(s[0] for s in self.scores.values()) / n
        r = sum(s[1] for s in self.scores.values()) / n
        return f1(p, r), p, r


# --------------------------------------------------------------------------
# zh-news metadata checks


def _truth_value(table: dict[str, dict[str, str]], page_id: str) -> str | None:
    value = (table.get(page_id) or {}).get("articleBody")
    if value is None:
        return None
    value = value.strip()
    return None if not value or value.upper() == "UNKNOWN" else value


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


# --------------------------------------------------------------------------


def run(dataset: Path, names: list[str], limit: int | None) -> int:
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    if limit:
        ids = ids[:limit]
    pages: list[tuple[str, bytes, str, str | None]] = []
    for page_id in ids:
        raw = gzip.decompress((dataset / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((page_id, raw, decode_html(raw), truth[page_id].get("url")))

    results = [Result(name) for name in names]
    # Warm up (imports, regex compilation, lazy tables such as the language
    # model, which a CJK-only set would otherwise load mid-run) outside the
    # timer so the first extractor measured doesn't pay for everyone.
    for result in results:
        for _page_id, raw, decoded, url in [*pages[:3], _WARM_UP]:
            EXTRACTORS[result.name](raw, decoded, url)
    # Extractors take turns page by page, so a burst of load on a shared
    # machine slows all of them alike and the speed ratios stay fair.
    preds: dict[str, dict[str, str]] = {result.name: {} for result in results}
    for page_id, raw, decoded, url in pages:
        for result in results:
            start = time.perf_counter()
            preds[result.name][page_id] = EXTRACTORS[result.name](raw, decoded, url)
            result.seconds += time.perf_counter() - start
    for result in results:
        for page_id in ids:
            result.scores[page_id] = page_pr(
                preds[result.name][page_id], truth[page_id]["articleBody"]
            )

    print(f"\n{dataset.name}: {len(pages)} pages")
    print(f"{'extractor':<14}{'F1':>8}{'P':>8}{'R':>8}{'pages/s':>10}")
    for result in results:
        f, p, r = result.averages()
        rate = len(pages) / result.seconds if result.seconds else float("inf")
        print(f"{result.name:<14}{f:>8.3f}{p:>8.3f}{r:>8.3f}{rate:>10.1f}")
    by_name = {result.name: result for result in results}
    if "newsarchive" in by_name and "trafilatura" in by_name:
        ratio = by_name["newsarchive"].seconds / by_name["trafilatura"].seconds
        print(f"time per page, newsarchive / trafilatura: {ratio:.2f}x (decoding included)")

    ours = next((r for r in results if r.name == "newsarchive"), None)
    if ours is None:
        return 0
    urls = {page_id: url for page_id, _raw, _dec, url in pages}
    print("\nworst 10 pages for newsarchive (F1 P R id url):")
    worst = sorted(ours.scores.items(), key=lambda kv: f1(*kv[1]))[:10]
    for page_id, (p, r) in worst:
        print(f"  {f1(p, r):.3f} {p:.3f} {r:.3f} {page_id} {urls.get(page_id) or ''}")

    dates_file, authors_file = dataset / "dates.json", dataset / "authors.json"
    if dates_file.exists() or authors_file.exists():
        dates = json.loads(dates_file.read_text(encoding="utf-8")) if dates_file.exists() else {}
        authors = (
            json.loads(authors_file.read_text(encoding="utf-8")) if authors_file.exists() else {}
        )
        # Metadata is read in a separate pass so the timed loop above stays
        # identical for every extractor.
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
            f"\nnewsarchive date accuracy: {date_ok / n:.3f} over all {len(pages)} pages "
            f"(UNKNOWN counts as correct iff None); "
            f"{date_known_ok}/{date_known} = {date_known_ok / max(date_known, 1):.3f} "
            "on pages with a known date"
        )
        print(
            f"newsarchive author accuracy: {author_ok / n:.3f} over all pages; "
            f"{author_known_ok}/{author_known} = {author_known_ok / max(author_known, 1):.3f} "
            "on pages with a known author"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument(
        "--extractor",
        action="extend",
        nargs="+",
        choices=sorted(EXTRACTORS),
        help="one or more (the flag may repeat); default: all three",
    )
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    names = args.extractor or ["newsarchive", "trafilatura", "readability"]
    return run(args.dataset, names, args.limit)


if __name__ == "__main__":
    sys.exit(main())
