"""Search latency at archive scale: p50/p95 per query kind, SQLite and PostgreSQL in one run.

Fills a fresh SQLite file and a fresh PostgreSQL database (created on the server
at --pg, dropped afterwards) with N synthetic articles by bulk inserts through the
migrated schema (so the search triggers index them as a crawl's writes would),
then times each query kind through ``storage.search.search_articles`` (limit 20).
English articles draw words from a Zipf-like vocabulary; a fifth are Chinese
built from common two-character words, a fifth Japanese (kanji words, katakana
loan words, kana particles).

With ``--before FILE`` (another ``storage/search.py``, e.g. ``git show
HEAD~1:storage/search.py > /tmp/search_before.py``) both codes answer each query
in turn on the same archives, so a figure before and after comes from one run.

With ``--keep DIR`` the built archives are kept (a SQLite file in DIR, a
PostgreSQL database named after the corpus) and reused by the next run with the
same --articles, so only the first run pays for the fill; a kept archive of an
older schema is upgraded by the new migrations (its rows are not rewritten).

    python bench/search.py [--articles 100000] [--repeat 20] [--keep /tmp/search-bench]
        [--pg postgresql://postgres@127.0.0.1/test] [--before FILE] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, text

from newsarchive.storage import create_archive_engine, ensure_schema, read_session, write_session
from newsarchive.storage.models import Article, ArticleVersion, Source
from newsarchive.storage.schema import current_revision, head_revision
from newsarchive.storage.search import search_articles

EN_WORDS = (
    "the of and to in said council harbour ferry budget minister storm coast fishermen report "
    "vote plan week city water bridge school police court market prices energy wind farm port "
    "workers union talks agreement residents museum festival weather rain night morning official "
    "election hospital railway airport flood tourism housing rent strike teachers nurses river"
).split()
ZH_WORDS = (
    "谈判 经济 政府 市场 城市 地铁 渔民 合作 发展 会议 代表 贸易 关税 交通 天气 学校 医院 "
    "居民 旅游 港口 工人 改革 价格 能源 政策 新闻 记者 警方 法院 选举"
).split()
JA_WORDS = (
    "朝市 地震 選挙 首相 経済 港町 漁業 観光 鉄道 台風 市場 学校 病院 予算 議会 "
    "ニュース テレビ スポーツ ホテル エネルギー"
).split()
JA_PARTICLES = "の は が を に で と も".split()
QUERIES = {
    "en common word": ["council", "market", "weather"],
    "en rare word": ["nurses", "tourism", "airport"],
    "en two words": ["harbour ferry", "energy prices", "railway strike"],
    "en phrase": ['"wind farm"', '"river flood"', '"school budget"'],
    "zh 2-char word": ["谈判", "地铁", "关税"],
    "zh 4-char word": ["贸易谈判", "城市地铁", "能源政策"],
    "ja 2-char word": ["朝市", "台風", "首相"],
    "ja 4-char word": ["ニュース", "港町の朝", "スポーツ"],
}
LANGUAGES = ("zh", "ja", "en", "en", "en")
BATCH = 5000


def _text(rng: random.Random, language: str) -> tuple[str, str]:
    if language == "zh":
        words = rng.choices(ZH_WORDS, k=160)
        return "".join(words[:6]), "。".join("".join(words[i : i + 8]) for i in range(0, 160, 8))
    if language == "ja":
        words = [w + rng.choice(JA_PARTICLES) for w in rng.choices(JA_WORDS, k=120)]
        return "".join(words[:4]), "。".join("".join(words[i : i + 6]) for i in range(0, 120, 6))
    weights = [1 / (n + 1) for n in range(len(EN_WORDS))]
    words = rng.choices(EN_WORDS, weights=weights, k=120)
    return " ".join(words[:8]).capitalize(), " ".join(words)


def fill(engine: Engine, articles: int, seed: int = 1) -> float:
    """Bulk-insert ``articles`` synthetic stories; returns seconds taken."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    with write_session(engine) as session:
        source_id = session.execute(
            insert(Source).values(name="bench", created_at=start).returning(Source.id)
        ).scalar_one()
    for first in range(0, articles, BATCH):
        rows, versions = [], []
        for n in range(first, min(first + BATCH, articles)):
            language = LANGUAGES[n % 5]
            title, body = _text(rng, language)
            digest = hashlib.sha256(f"{n}{body}".encode()).hexdigest()
            when = start + timedelta(minutes=n)
            url = f"http://bench.test/{n}"
            rows.append(
                {
                    "id": n + 1,
                    "source_id": source_id,
                    "canonical_url": url,
                    "url": url,
                    "version": 1,
                    "content_hash": digest,
                    "first_seen_at": when,
                    "last_fetched_at": when,
                }
            )
            versions.append(
                {
                    "article_id": n + 1,
                    "version": 1,
                    "url": url,
                    "title": title,
                    "authors": [],
                    "language": language,
                    "text": body,
                    "content_hash": digest,
                    "fetched_at": when,
                }
            )
        with write_session(engine) as session:
            session.execute(insert(Article), rows)
            session.execute(insert(ArticleVersion), versions)
    return time.perf_counter() - began


Search = Callable[..., list[Any]]


def load_search(path: Path) -> Search:
    """``search_articles`` of another copy of ``storage/search.py`` (say the previous
    commit's, from ``git show``), imported inside the installed package so its
    relative imports resolve."""
    name = "newsarchive.storage._search_before"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.search_articles


def measure(
    engine: Engine, repeat: int, searches: dict[str, Search]
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Code label → query kind → (p50 ms, p95 ms, hits of its first query).

    With several codes, each query runs through each in turn, so a load that
    comes and goes weighs on all of them alike.
    """
    results: dict[str, dict[str, tuple[float, float, int]]] = {label: {} for label in searches}
    with read_session(engine) as session:
        for kind, queries in QUERIES.items():
            timings: dict[str, list[float]] = {label: [] for label in searches}
            hits = {label: len(search(session, queries[0])) for label, search in searches.items()}
            for _ in range(repeat):
                for query in queries:
                    for label, search in searches.items():
                        began = time.perf_counter()
                        search(session, query)
                        timings[label].append((time.perf_counter() - began) * 1000)
            for label, times in timings.items():
                times.sort()
                p95 = times[min(len(times) - 1, round(len(times) * 0.95))]
                results[label][kind] = (statistics.median(times), p95, hits[label])
    return results


def _corpus_name(articles: int) -> str:
    """Names a kept archive: a change of corpus size or schema means a new one."""
    return f"newsarchive_bench_search_{articles}_r{head_revision()}"


def _older_corpus(names: list[str], articles: int) -> str | None:
    """The kept archive of the same size at the newest older schema, among ``names``.

    Upgrading it costs the new migrations; filling a million articles again, most of
    an hour.
    """
    pattern = re.compile(rf"newsarchive_bench_search_{articles}_r(\d+)")
    older = [
        (match.group(1), name)
        for name in names
        if (match := pattern.fullmatch(name)) and match.group(1) < head_revision()
    ]
    return max(older)[1] if older else None


def _filled(engine: Engine, articles: int) -> bool:
    """Whether a kept archive is migrated (to any revision) and completely filled."""
    if current_revision(engine) is None:
        return False
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM articles")).scalar_one() == articles


def _prepare(engine: Engine, label: str, articles: int, reuse: bool) -> None:
    if reuse and _filled(engine, articles):
        revision = current_revision(engine)
        if revision == head_revision():
            print(f"{label}: reusing the kept archive of {articles} articles")
            return
        # Rows already stored keep the layout they were written with (TOAST, say):
        # the migrations' indexes are new, the table is not rewritten.
        began = time.perf_counter()
        ensure_schema(engine)
        took = time.perf_counter() - began
        print(f"{label}: upgraded the kept archive of {articles} articles from {revision}", end="")
        print(f" in {took:.1f}s")
    else:
        ensure_schema(engine)
        print(f"{label}: filled {articles} articles in {fill(engine, articles):.1f}s")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", type=Path, help="keep the built archives here and reuse them")
    parser.add_argument(
        "--before",
        type=Path,
        help="another storage/search.py to time side by side, interleaved query by query",
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    name = _corpus_name(args.articles)
    databases = args.databases.split(",")
    searches: dict[str, Search] = {"after": search_articles}
    if args.before:
        searches = {"before": load_search(args.before), **searches}

    report: dict[str, dict[str, dict[str, tuple[float, float, int]]]] = {}
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{name}.db"
            if not args.keep:
                path.unlink(missing_ok=True)
            older = _older_corpus([p.stem for p in folder.glob("*.db")], args.articles)
            if args.keep and not path.exists() and older:
                (folder / f"{older}.db").rename(path)
            engine = create_archive_engine(f"sqlite:///{path}")
            try:
                if not args.keep or not _filled(engine, args.articles):
                    engine.dispose()
                    path.unlink(missing_ok=True)
                    engine = create_archive_engine(f"sqlite:///{path}")
                _prepare(engine, "sqlite", args.articles, reuse=True)
                report["sqlite"] = measure(engine, args.repeat, searches)
            finally:
                engine.dispose()

    if "postgresql" in databases:
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        if not args.keep:
            name = f"{name}_{uuid.uuid4().hex[:8]}"
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            kept = conn.execute(text("SELECT datname FROM pg_database")).scalars().all()
            older = _older_corpus(list(kept), args.articles) if args.keep else None
            if not exists and older:
                conn.execute(text(f'ALTER DATABASE "{older}" RENAME TO "{name}"'))
            elif not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = create_archive_engine(args.pg.rsplit("/", 1)[0] + "/" + name)
            if not _filled(engine, args.articles):
                # A half-filled kept database (an interrupted run) is refilled from scratch.
                with engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            _prepare(engine, "postgresql", args.articles, reuse=True)
            report["postgresql"] = measure(engine, args.repeat, searches)
            engine.dispose()
        finally:
            if not args.keep:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    print(f"\n{args.articles} articles, limit 20, {args.repeat}×3 queries per kind")
    print("p50 / p95 ms (hits of the first query)")
    columns = [(db, label) for db in report for label in searches]
    print(f"{'query kind':<16}" + "".join(f"{db + ' ' + label:>22}" for db, label in columns))
    for kind in QUERIES:
        cells = []
        for db, label in columns:
            p50, p95, hits = report[db][label][kind]
            cells.append(f"{p50:.1f} / {p95:.1f} ({hits})")
        print(f"{kind:<16}" + "".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
