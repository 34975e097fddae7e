"""Near-duplicate detection: precision/recall on a labelled corpus, and look-up cost at scale.

1. Quality. Generates a corpus of English and Chinese stories with known syndicated
   copies (edits: rewritten lead, dropped paragraph, different boilerplate — each
   copy gets one or two), plus same-topic follow-ups that share background
   paragraphs with an earlier story but are not copies. Every article goes
   through the crawl's path: ``signature()`` then ``save_article`` in a write
   transaction, in shuffled order. Precision = stored ``duplicate_of`` links that
   join two members of the same true cluster; recall = non-first members of a
   true cluster that got linked into it.

2. Scale. Grows the archive to each size (default 10k, 100k, 1M articles) by
   bulk-loading background articles (signature + band rows, through the DB-API's
   executemany; no version rows, which the look-up never reads), then times a
   sample of real ``save_article`` calls at that size: half syndicated copies of
   background stories (which must be linked), half new stories (which must not).
   The first POOL background articles are real generated stories, and the
   copies are made of them; the rest get random signatures. Unrelated texts'
   band keys are as good as random (two stories sharing six MinHash values in
   a band is the rare event LSH is built on), and generating and hashing a
   million texts would take the bench an hour.
   Reports per-article time for the signature and for look-up + insert + commit,
   and the process's peak RSS.

    python bench/dedupe.py [--sizes 10000,100000,1000000] [--sample 400]
                           [--database-url sqlite:///path.db] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select, text

from newsarchive.similarity import NUM_PERM, band_keys, signature
from newsarchive.storage import (
    FetchedArticle,
    Outcome,
    create_archive_engine,
    ensure_schema,
    save_article,
    write_session,
)
from newsarchive.storage.articles import DEFAULT_NEAR_DUPLICATE_THRESHOLD, ensure_source
from newsarchive.storage.models import Article

POOL = 2000
"""Background articles that are real stories (the rest carry random signatures)."""
START = datetime(2024, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------- text generation

_SYLLABLES = (
    "ka ri to mo na ste ver lan dor pen sil bar con tri ham port el in ar ul se ta ne ro "
    "mi ga bo de fu ly ch th an er on ow est ing al ic ou ea"
).split()


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


_VOCAB_RNG = random.Random(7)
EN_WORDS = _vocabulary(_VOCAB_RNG, 20000)
# Common Han characters: the first 3,500 of the unified block stand in for real text.
ZH_CHARS = [chr(0x4E00 + i) for i in range(0, 3500 * 5, 5)]


def _zipf_cdf(n: int) -> np.ndarray:
    # Word frequencies in news follow Zipf's law: common shingles are shared by
    # unrelated stories, as in real text.
    weights = 1.0 / np.arange(1, n + 1) ** 1.05
    return np.cumsum(weights / weights.sum())


EN_CDF = _zipf_cdf(len(EN_WORDS))
ZH_CDF = _zipf_cdf(len(ZH_CHARS))


def _draw(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(n)), len(cdf) - 1)


def _sentence(rng: np.random.Generator, lang: str) -> str:
    if lang == "zh":
        chars = _draw(rng, ZH_CDF, int(rng.integers(14, 32)))
        return "".join(ZH_CHARS[i] for i in chars) + "。"
    words = [EN_WORDS[i] for i in _draw(rng, EN_CDF, int(rng.integers(12, 26)))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: np.random.Generator, lang: str) -> str:
    return ("" if lang == "zh" else " ").join(
        _sentence(rng, lang) for _ in range(int(rng.integers(2, 4)))
    )


def story(seed: int, lang: str, paragraphs: tuple[int, int] = (8, 15)) -> list[str]:
    """A deterministic story: the same seed always gives the same paragraphs."""
    rng = np.random.default_rng(seed)
    return [_paragraph(rng, lang) for _ in range(int(rng.integers(*paragraphs)))]


BOILERPLATE = {
    "en": ["Sign up to our morning briefing.", "Copyright Harbour Gazette. All rights reserved."],
    "zh": ["欢迎关注本报官方账号。", "本文版权归海港日报所有，未经许可不得转载。"],
}
WIRE_BOILERPLATE = {
    "en": ["Reporting by Coastal Wire; editing by the desk.", "(c) Coastal Wire Service."],
    "zh": ["（海湾通讯社供稿）", "责任编辑：王芳"],
}


def syndicate(
    paragraphs: list[str], lang: str, rng: random.Random, seed: int
) -> tuple[list[str], str]:
    """A copy with one or two of: rewritten lead sentence (with a dateline), one paragraph
    cut, the wire's boilerplate instead of the paper's."""
    body = paragraphs[: -len(BOILERPLATE[lang])]
    edits = rng.sample(["lead", "drop", "boilerplate"], rng.randint(1, 2))
    if "lead" in edits:
        first = body[0]
        end = first.find("。" if lang == "zh" else ". ") + 1
        dateline = "本报讯 " if lang == "zh" else "KESTREL BAY (Coastal Wire) - "
        lead = dateline + _sentence(np.random.default_rng(seed + 10**9), lang)
        body = [lead + first[end:], *body[1:]]
    if "drop" in edits and len(body) > 3:
        del body[rng.randrange(1, len(body))]
    tail = WIRE_BOILERPLATE[lang] if "boilerplate" in edits else BOILERPLATE[lang]
    return [*body, *tail], "+".join(sorted(edits))


def published(paragraphs: list[str], lang: str) -> list[str]:
    return [*paragraphs, *BOILERPLATE[lang]]


# ---------------------------------------------------------------- storing


def fetched(url: str, paragraphs: list[str], source: str, at: datetime) -> FetchedArticle:
    body = "\n".join(paragraphs)
    return FetchedArticle(
        source=source,
        url=url,
        canonical_url=url,
        text=body,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
        title=paragraphs[0][:60],
        fetched_at=at,
        minhash=signature(body),
    )


def store(engine: Engine, item: FetchedArticle, threshold: float) -> Outcome:
    with write_session(engine) as session:
        return save_article(session, item, near_duplicate_threshold=threshold)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- 1. quality


@dataclass
class Labelled:
    url: str
    cluster: int
    paragraphs: list[str]
    source: str
    edits: str = ""


def quality(engine: Engine, originals: int, seed: int, threshold: float) -> dict[str, Any]:
    rng = random.Random(seed)
    items: list[Labelled] = []
    for n in range(originals):
        lang = "zh" if n % 3 == 0 else "en"
        base = story(seed * 10**6 + n, lang)
        items.append(Labelled(f"https://gazette.test/{lang}/{n}", n, published(base, lang), "q-a"))
        for c in range(rng.choice([0, 1, 1, 2, 3])):
            copy, edits = syndicate(published(base, lang), lang, rng, seed * 10**6 + n * 10 + c)
            url = f"https://portal{c}.test/{lang}/{n}"
            items.append(Labelled(url, n, copy, f"q-{c}", f"{lang}:{edits}"))
        if n and rng.random() < 0.3:
            # A follow-up: two background paragraphs of an earlier story, new reporting.
            earlier = story(seed * 10**6 + rng.randrange(n), lang)
            follow = story(seed * 10**6 + 5 * 10**5 + n, lang)
            mixed = [follow[0], *earlier[1:3], *follow[1:]]
            items.append(
                Labelled(
                    f"https://gazette.test/{lang}/{n}-f", -n - 1, published(mixed, lang), "q-a"
                )
            )
    rng.shuffle(items)
    cluster_of: dict[str, int] = {}
    url_of: dict[int, str] = {}
    for i, item in enumerate(items):
        at = START + timedelta(seconds=i)
        store(engine, fetched(item.url, item.paragraphs, item.source, at), threshold)
        cluster_of[item.url] = item.cluster
    with engine.connect() as conn:
        rows = conn.execute(select(Article.id, Article.url, Article.duplicate_of)).all()
    url_of = {r.id: r.url for r in rows}
    links = [(r.url, url_of[r.duplicate_of]) for r in rows if r.duplicate_of is not None]
    correct = sum(cluster_of[a] == cluster_of[b] for a, b in links)
    sizes: dict[int, int] = {}
    for item in items:
        sizes[item.cluster] = sizes.get(item.cluster, 0) + 1
    expected = sum(size - 1 for size in sizes.values())
    found = sum(1 for a, b in links if cluster_of[a] == cluster_of[b])
    # Recall per kind of copy: was the copy put in its story's cluster (either way round)?
    clustered = {a for a, b in links if cluster_of[a] == cluster_of[b]}
    clustered |= {b for a, b in links if cluster_of[a] == cluster_of[b]}
    by_edit: dict[str, list[bool]] = {}
    for item in items:
        if item.edits:
            by_edit.setdefault(item.edits, []).append(item.url in clustered)
    return {
        "by_edit": {k: (sum(v) / len(v), len(v)) for k, v in sorted(by_edit.items())},
        "articles": len(items),
        "true_links": expected,
        "links": len(links),
        "precision": correct / len(links) if links else 1.0,
        "recall": found / expected if expected else 1.0,
    }


# ---------------------------------------------------------------- 2. scale


def _background_rows(start: int, stop: int) -> list[tuple[int, bytes, list[int]]]:
    out = []
    for i in range(start, stop):
        if i < POOL:
            lang = "zh" if i % 3 == 0 else "en"
            sig = signature("\n".join(published(story(i, lang), lang)))
            assert sig is not None
        else:
            sig = np.random.default_rng(i).integers(0, 2**32, NUM_PERM, dtype="<u4").tobytes()
        out.append((i, sig, band_keys(sig)))
    return out


def _chunks(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    for a in range(start, stop, size):
        yield a, min(a + size, stop)


def grow(engine: Engine, have: int, want: int, workers: int) -> None:
    """Bulk-load background articles ``have``…``want`` (their ids are offset past the rest)."""
    with write_session(engine) as session:
        source_id = ensure_source(session, "background")
        # Explicit ids above every existing one (SQLite hands out max(id) + 1 next).
        offset = session.execute(select(func.max(Article.id))).scalar_one() + 1 - have
    dialect = engine.dialect.name
    param = "?" if dialect == "sqlite" else "%s"
    article_sql = (
        "INSERT INTO articles (id, source_id, canonical_url, url, version, content_hash, "
        f"first_seen_at, last_fetched_at, minhash) VALUES ({', '.join([param] * 9)})"
    )
    band_sql = f"INSERT INTO article_bands (band_key, article_id) VALUES ({param}, {param})"
    seen = START.replace(tzinfo=None) if dialect == "sqlite" else START
    with ProcessPoolExecutor(workers) as pool:
        batches = pool.map(
            _background_rows, *zip(*_chunks(have, want, 5000), strict=True), chunksize=1
        )
        for rows in batches:
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.executemany(
                    article_sql,
                    [
                        (
                            offset + i,
                            source_id,
                            f"https://background.test/{i}",
                            f"https://background.test/{i}",
                            1,
                            hashlib.sha256(sig).hexdigest(),
                            seen,
                            seen,
                            sig,
                        )
                        for i, sig, _ in rows
                    ],
                )
                cur.executemany(band_sql, [(k, offset + i) for i, _, keys in rows for k in keys])
                raw.commit()
            finally:
                raw.close()
            done = rows[-1][0] + 1
            if done % 100_000 < 5000:
                print(f"  loaded {done:,} background articles", file=sys.stderr, flush=True)


def timed_sample(
    engine: Engine, size: int, sample: int, seed: int, threshold: float
) -> dict[str, float]:
    rng = random.Random(seed + size)
    sig_times, store_times = [], []
    linked = missed = false_links = 0
    for n in range(sample):
        at = START + timedelta(days=30, seconds=size + n)
        if n % 2 == 0:
            i = rng.randrange(min(size, POOL))
            lang = "zh" if i % 3 == 0 else "en"
            paragraphs, _ = syndicate(published(story(i, lang), lang), lang, rng, i)
            url = f"https://copy.test/{size}/{n}"
        else:
            lang = "zh" if n % 3 == 0 else "en"
            paragraphs = published(story(seed * 10**7 + size + n, lang), lang)
            url = f"https://new.test/{size}/{n}"
        t0 = time.perf_counter()
        item = fetched(url, paragraphs, "sample", at)
        t1 = time.perf_counter()
        outcome = store(engine, item, threshold)
        t2 = time.perf_counter()
        sig_times.append(t1 - t0)
        store_times.append(t2 - t1)
        if n % 2 == 0:
            linked += outcome is Outcome.DUPLICATE
            missed += outcome is not Outcome.DUPLICATE
        else:
            false_links += outcome is Outcome.DUPLICATE
    return {
        "signature_ms": statistics.mean(sig_times) * 1000,
        "store_ms": statistics.mean(store_times) * 1000,
        "store_p50_ms": statistics.median(store_times) * 1000,
        "store_p95_ms": sorted(store_times)[int(len(store_times) * 0.95)] * 1000,
        "copies_linked": linked / (linked + missed),
        "false_links": false_links,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--sample", type=int, default=400)
    parser.add_argument("--originals", type=int, default=1500, help="labelled corpus stories")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_NEAR_DUPLICATE_THRESHOLD,
        help="near-duplicate threshold (default: the archive's)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    tmp = tempfile.TemporaryDirectory(prefix="newsarchive-bench-")
    url = args.database_url or f"sqlite:///{tmp.name}/dedupe.db"
    engine = create_archive_engine(url)
    ensure_schema(engine)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(Article)).scalar_one():
            raise SystemExit(f"{url} is not empty; the bench needs a fresh database")

    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    t0 = time.perf_counter()
    q = quality(engine, args.originals, args.seed, args.threshold)
    print(
        f"quality: {q['articles']} articles, {q['true_links']} true links, {q['links']} stored; "
        f"precision {q['precision']:.4f}, recall {q['recall']:.4f} "
        f"({time.perf_counter() - t0:.0f}s)"
    )
    for edits, (recall, count) in q["by_edit"].items():
        print(f"  copies with {edits:<22} recall {recall:.3f}  (n={count})")

    print(
        f"\n{'stored':>10} {'load s':>7} {'sig ms':>7} {'store ms':>9} {'p50':>6} {'p95':>6} "
        f"{'linked':>7} {'false':>6} {'RSS MB':>7}"
    )
    have = 0
    results = {}
    for size in sizes:
        t0 = time.perf_counter()
        grow(engine, have, size, args.workers)
        have = size
        load = time.perf_counter() - t0
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        r = timed_sample(engine, size, args.sample, args.seed, args.threshold)
        results[size] = r
        print(
            f"{size:>10,} {load:>7.0f} {r['signature_ms']:>7.2f} {r['store_ms']:>9.2f} "
            f"{r['store_p50_ms']:>6.2f} {r['store_p95_ms']:>6.2f} {r['copies_linked']:>7.3f} "
            f"{r['false_links']:>6} {peak_rss_mb():>7.0f}",
            flush=True,
        )
    if len(sizes) > 1:
        first, last = results[sizes[0]], results[sizes[-1]]
        ratio = (last["signature_ms"] + last["store_ms"]) / (
            first["signature_ms"] + first["store_ms"]
        )
        print(f"\nper-article insert+lookup at {sizes[-1]:,} / at {sizes[0]:,}: {ratio:.2f}x")
    engine.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
