"""Chaos: ``kill -9`` crawls, re-extractions and prunes at random moments, then check the archive.

Serves a generated news site on 127.0.0.1 whose stories change between rounds
(so versions accumulate), and for each database (SQLite, and PostgreSQL when
reachable) starts one of ``crawl`` (most often), ``reprocess --all`` or ``prune
--dry-run`` and SIGKILLs its whole process group after a random delay, until
KILLS commands were killed (one that finishes first does not count). A last
crawl runs to its end. Then it checks what a user relies on:

* every story of the site is stored, once (no duplicate canonical URL);
* every article has versions 1..n with no gap, in fetch-time order;
* the search index holds exactly each article's latest version;
* no run is left ``running``;
* SQLite's ``PRAGMA integrity_check`` says ``ok``;
* every WARC file is complete and passes ``warcio check``, none is left ``.open``, and
  every version's WARC record reads back.

    python bench/chaos.py [--kills 100] [--pages 300] [--databases sqlite,postgresql]

Prints, per database, the kills by command and each check's result; exits 1 if
any check failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))
WORDS = (
    "harbour council ferry budget minister storm coast fishermen report vote plan week city "
    "water bridge school police court market prices energy wind farm port workers union "
    "talks agreement residents museum festival weather rain night morning official said"
).split()


def _story(i: int, edition: int, rng: random.Random) -> str:
    paragraphs = "\n".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(6)
    )
    update = f"<p>Update {edition}: the council will meet again on day {edition}.</p>"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Story {i}</title><meta property="og:type" content="article">
<meta property="article:published_time" content="2024-05-{1 + i % 28:02d}T09:00:00+00:00">
</head><body><nav><a href="/">Home</a></nav><main><article><h1>Story {i}</h1>
<p class="byline">By Jane Doe</p>{paragraphs}{update if edition else ""}</article></main>
<footer>Chaos Gazette</footer></body></html>"""


class Site:
    """The generated site; ``edit()`` changes some stories, as a newsroom does between crawls."""

    def __init__(self, root: Path, pages: int) -> None:
        self.root, self.pages = root, pages
        self.editions = [0] * pages
        self.rng = random.Random(7)
        (root / "news").mkdir(parents=True)
        for i in range(pages):
            self._write(i)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        locs = "".join(f"<url><loc>{self.url}/news/{i}.html</loc></url>" for i in range(pages))
        (root / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>',
            encoding="utf-8",
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _write(self, i: int) -> None:
        rng = random.Random(i)  # the story's body stays; only its update line changes
        page = _story(i, self.editions[i], rng)
        (self.root / "news" / f"{i}.html").write_text(page, encoding="utf-8")

    def edit(self, share: float = 0.05) -> None:
        for i in self.rng.sample(range(self.pages), max(1, int(self.pages * share))):
            self.editions[i] += 1
            self._write(i)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _config(path: Path, database_url: str, site: Site) -> Path:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n\n'
        f'[archive]\nwarc_dir = "{path.parent / "warc"}"\n\n'
        '[[recrawl]]\nyounger_than = "3650d"\nevery = "0s"\n\n'
        "[scrapy]\nAUTOTHROTTLE_ENABLED = false\nCONCURRENT_REQUESTS_PER_DOMAIN = 16\n"
        'LOG_LEVEL = "ERROR"\n\n'
        f'[[sources]]\nname = "chaos"\nsitemaps = ["{site.url}/sitemap.xml"]\n',
        encoding="utf-8",
    )
    return path


def _run(argv: list[str], kill_after: float | None, log: Path) -> bool:
    """Run a command in its own process group; SIGKILL the group after ``kill_after`` s.

    True when it was killed before it finished; a command that finished with a
    failure stops the bench (its log's end is shown).
    """
    with log.open("wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            returncode = proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # extraction processes die with it
            proc.wait()
            return True
    if returncode not in (0, 1):  # 1: a crawl ran but some pages failed
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(argv[3:])} exited {returncode}:\n{tail}")
    return False


def _checks(database_url: str, warc_dir: Path, pages: int) -> tuple[dict[str, str | None], str]:
    """Each check's name → None when it holds, else what is wrong; and what was checked."""
    from sqlalchemy import func, select, text

    from newsarchive.storage import create_archive_engine
    from newsarchive.storage.models import Article, ArticleVersion, CrawlRun
    from newsarchive.storage.warc import WarcLocation, read_response_body

    engine = create_archive_engine(database_url)
    results: dict[str, str | None] = {}

    def check(name: str, problem: Callable[[], str | None]) -> None:
        try:
            results[name] = problem()
        except Exception as exc:  # a check that cannot run is a failed check
            results[name] = f"{type(exc).__name__}: {exc}"

    with engine.connect() as conn:
        stories = conn.execute(select(func.count(Article.id))).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(Article.canonical_url)))).scalar()
        check(
            "every story stored once",
            lambda: None if stories == distinct == pages else f"{stories} rows, {distinct} URLs",
        )
        versions = conn.execute(
            select(
                ArticleVersion.article_id, ArticleVersion.version, ArticleVersion.fetched_at
            ).order_by(ArticleVersion.article_id, ArticleVersion.version)
        ).all()
        latest = dict(conn.execute(select(Article.id, Article.version)).all())

        def gapless() -> str | None:
            by_article: dict[int, list[Any]] = {}
            for row in versions:
                by_article.setdefault(row.article_id, []).append(row)
            bad = [
                a
                for a, n in latest.items()
                if [r.version for r in by_article.get(a, [])] != list(range(1, n + 1))
                or any(
                    x.fetched_at > y.fetched_at
                    for x, y in zip(by_article[a], by_article[a][1:], strict=False)
                )
            ]
            return f"{len(bad)} articles, e.g. {bad[:5]}" if bad else None

        check("versions 1..n in fetch order", gapless)

        def search_in_sync() -> str | None:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT rowid, body FROM article_search")).all()
                texts = dict(
                    conn.execute(
                        select(ArticleVersion.article_id, ArticleVersion.text).join(
                            Article,
                            (Article.id == ArticleVersion.article_id)
                            & (Article.version == ArticleVersion.version),
                        )
                    ).all()
                )
                wrong = [r for r, body in rows if texts.get(r) != body]
                missing = set(texts) - {r for r, _ in rows}
            else:
                rows = conn.execute(text("SELECT article_id, version FROM article_search")).all()
                wrong = [a for a, v in rows if latest.get(a) != v]
                missing = set(latest) - {a for a, _ in rows}
            if wrong or missing:
                return f"{len(wrong)} stale, {len(missing)} missing"
            return None

        check("search index holds the latest versions", search_in_sync)
        running = conn.execute(
            select(func.count(CrawlRun.id)).where(CrawlRun.status == "running")
        ).scalar_one()
        check("no run left running", lambda: f"{running} running" if running else None)
        if engine.dialect.name == "sqlite":
            verdict = conn.execute(text("PRAGMA integrity_check")).scalar()
            check("sqlite integrity_check", lambda: None if verdict == "ok" else verdict)
        records = conn.execute(
            select(ArticleVersion.warc_file, ArticleVersion.warc_offset).where(
                ArticleVersion.warc_file.is_not(None)
            )
        ).all()
    engine.dispose()

    def warc_files_valid() -> str | None:
        files = sorted(warc_dir.glob("*.warc.gz"))
        bad = [f.name for f in files if _warc_problem(f)]
        leftover = sorted(p.name for p in warc_dir.glob("*.open"))
        if bad or leftover:
            return f"{len(bad)} of {len(files)} invalid {bad[:3]}, left open: {leftover[:3]}"
        return None

    def records_readable() -> str | None:
        unreadable = 0
        for name, offset in records:
            try:
                read_response_body(warc_dir, WarcLocation(name, offset))
            except Exception:
                unreadable += 1
        return f"{unreadable} of {len(records)} unreadable" if unreadable else None

    check("every WARC file complete and valid, none left open", warc_files_valid)
    check("every version's WARC record reads back", records_readable)
    files = len(list(warc_dir.glob("*.warc.gz")))
    return results, f"{stories} articles, {len(versions)} versions, {files} WARC files checked"


def _warc_problem(path: Path) -> str | None:
    """Why a .warc.gz file is not valid, or None: every gzip member complete, every digest
    right (``warcio check`` alone passes a file cut at a member boundary)."""
    import gzip

    try:
        with gzip.open(path) as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError) as exc:
        return f"{path.name}: {exc}"
    warcio = str(Path(sys.executable).with_name("warcio"))
    checked = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True)
    return f"{path.name}: {checked.stdout.strip()[-200:]}" if checked.returncode else None


def _fresh_postgres() -> tuple[str, Callable[[], None]] | None:
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        print(f"PostgreSQL not reachable at {PG_ADMIN_URL}: skipped ({exc})")
        return None
    name = f"newsarchive_chaos_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"{base}/{name}", drop


def run(database: str, kills: int, pages: int, tmp: Path, rng: random.Random) -> bool:
    site = Site(tmp / f"site-{database}", pages)
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if database == "sqlite":
        url = f"sqlite:///{tmp / 'chaos.db'}"
    else:
        fresh = _fresh_postgres()
        if fresh is None:
            return True
        url, drop = fresh
    config = _config(tmp / f"{database}.toml", url, site)
    base = [NEWSARCHIVE, "--config", str(config)]
    commands = {
        "crawl": [*base, "crawl"],
        "reprocess": [*base, "reprocess", "--all"],
        "prune": [*base, "prune", "--dry-run", "--before", "2999-01-01"],
    }
    killed: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    started = time.monotonic()
    try:
        log = tmp / f"{database}.log"
        _run(commands["crawl"], None, log)  # something to re-extract and prune from the start
        while sum(killed.values()) < kills:  # a command that finishes first is no kill
            name = rng.choices(list(commands), weights=[8, 1, 1])[0]
            if _run(commands[name], rng.uniform(0.5, 6.0), log):
                killed[name] += 1
            else:
                finished[name] += 1
            if rng.random() < 0.3:
                site.edit()
        _run(commands["crawl"], None, log)
        results, checked = _checks(url, tmp / "warc", pages)
    finally:
        site.server.shutdown()
        drop()
    print(
        f"\n{database}: {sum(killed.values())} kills ({dict(killed)}), "
        f"{sum(finished.values())} runs finished first ({dict(finished)}), "
        f"{time.monotonic() - started:.0f} s; {checked}"
    )
    for name, problem in results.items():
        print(f"  ok   {name}" if problem is None else f"  FAIL {name}: {problem}")
    return all(problem is None for problem in results.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100, help="kills per database")
    parser.add_argument("--pages", type=int, default=300, help="stories on the generated site")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ok = True
    for database in args.databases.split(","):
        with tempfile.TemporaryDirectory(prefix=f"na-chaos-{database}-") as tmp:
            ok = run(database, args.kills, args.pages, Path(tmp), rng) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
