"""Full-text search over the latest version of every article, in any language.

The index (``article_search``, created by migration 0004 and kept current by
triggers; CJK bigrams added by 0011, CJK trigrams on PostgreSQL by 0013) differs
per dialect:

* SQLite: an FTS5 table with the ``trigram`` tokenizer. Every term of 3 or more
  characters is a substring match through the index, in every script, so Chinese
  or Japanese words are found without a word segmenter. Two-character CJK terms
  (谈判, 火灾) are too short for trigrams: they are looked up in a second FTS5
  table, ``article_search_bigram``, which indexes every pair of adjacent CJK
  characters (``cjk_bigrams``). Other terms of 1–2 characters are matched with
  LIKE over the trigram table's text (a scan of the indexed text).
* PostgreSQL: a stored, weighted ``tsvector`` ('simple' configuration: no stemming,
  no stop words, so it serves every language) with a GIN index, queried by word
  prefix (``bridge`` finds "bridges"); a ``pg_trgm`` GIN index for terms in
  scripts written without spaces (Thai…), matched with ILIKE; a GIN index of
  every pair of adjacent words (migration 0012) for quoted phrases, which finds
  the texts holding all the phrase's pairs before ILIKE checks the phrase (so a
  phrase matches where a word begins, as words do); a GIN-indexed, weighted
  tsvector of CJK bigrams for two-character CJK terms, ranked with ``ts_rank`` as
  words are; and a GIN index of every CJK trigram (migration 0013) for longer CJK
  terms (the texts holding all their trigrams, then a substring test).

A query is a list of terms, all of which must match (AND); ``"double quotes"``
make a phrase. Ranking: BM25 (SQLite, both tables) or ``ts_rank`` (PostgreSQL,
both tsvectors), title matches weighted above body matches; queries with only
substring terms on PostgreSQL, or LIKE terms on SQLite, rank by occurrences.
Only the :data:`CANDIDATES` most recently archived matches are ranked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table
from sqlalchemy.sql.util import find_tables

from ..cjk import CJK_CHARS
from .models import Article, ArticleVersion, Source, latest_version

SEARCH_TABLE = "article_search"
BIGRAM_TABLE = "article_search_bigram"
# SQLite FTS5 keeps an index in these shadow tables of its virtual table.
_FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")
_INDEX_TABLES = {
    *(base + shadow for base in (SEARCH_TABLE, BIGRAM_TABLE) for shadow in ("", *_FTS5_SHADOWS))
}

# Scripts written without spaces between words: the tsvector parser would keep a
# whole sentence as one token, so their terms are matched as substrings.
_UNSEGMENTED = re.compile(f"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff{CJK_CHARS}]")
TRIGRAM_MIN = 3
_CJK_RUN = re.compile(f"[{CJK_CHARS}]{{2,}}")
_CJK_PAIR = re.compile(f"[{CJK_CHARS}]{{2}}")
_CJK_TERM = re.compile(f"[{CJK_CHARS}]{{3,}}")
# What PostgreSQL's \w matches in phrase_words (migration 0012), near enough: a
# phrase this counts wrong is still answered right, only slower.
_WORD = re.compile(r"\w")
SNIPPET_CHARS = 160
CANDIDATES = 2000
"""How many matches a query ranks at most: those of the most recently archived articles."""
HIGHLIGHT = ("[", "]")


def include_in_schema_comparison(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: the search index is not an ORM model.

    It is created with raw SQL per dialect (an FTS5 virtual table and its shadow
    tables on SQLite, a table with a generated tsvector on PostgreSQL), so model
    comparisons must not see it.
    """
    if type_ != "table" or name is None:
        return True
    return name not in _INDEX_TABLES


def cjk_bigrams(content: str | None) -> str:
    """Every pair of adjacent CJK characters in ``content``, space-separated, repeats kept.

    What the bigram index holds (repeats make BM25 and ts_rank count
    occurrences); on PostgreSQL the SQL function of migration 0011 computes it.
    """
    if not content:
        return ""
    return " ".join(
        run[i : i + 2] for run in _CJK_RUN.findall(content) for i in range(len(run) - 1)
    )


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Make ``cjk_bigrams()`` callable on a SQLite connection: the index triggers call it.

    Every archive connection registers it (``storage.engine``); a program that
    writes to an archive through another connection must too, or its writes fail
    with "no such function: cjk_bigrams".
    """
    dbapi_connection.create_function("cjk_bigrams", 1, cjk_bigrams, deterministic=True)


@dataclass(frozen=True)
class SearchHit:
    """One ranked search result: an article's latest version."""

    article_id: int
    source: str
    title: str | None
    url: str
    date: datetime
    """Publication time if the page states one, else when the archive first saw the story."""
    language: str | None
    score: float
    """Higher is better; comparable only within one result list."""
    snippet: str
    """A passage of the text around the first match, terms marked ``[like this]``."""
    removed_at: datetime | None = None
    """When a re-fetch found the story taken down, None while it is up."""


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool

    @property
    def substring_only(self) -> bool:
        """True when PostgreSQL must match it with ILIKE rather than the tsvector."""
        return self.phrase or bool(_UNSEGMENTED.search(self.text)) or not self.text.isalnum()

    @property
    def word_pairs(self) -> bool:
        """True for a phrase of two or more words, which PostgreSQL finds by its word pairs."""
        return self.phrase and sum(1 for word in self.text.split() if _WORD.search(word)) >= 2

    @property
    def cjk_bigram(self) -> bool:
        """True for a two-character CJK term, which the bigram index answers exactly."""
        return _CJK_PAIR.fullmatch(self.text) is not None


_TOKEN = re.compile(r'"([^"]*)"?|([^\s"]+)')


def parse_query(query: str) -> list[Term]:
    """The query's terms: words split on spaces, ``"quoted phrases"`` kept whole.

    Only double quotes group; any other character is part of a term (``don't``).
    """
    terms = []
    for phrase, word in _TOKEN.findall(query):
        words = (phrase or word).split()
        if words:
            terms.append(Term(" ".join(words), phrase=len(words) > 1))
    return terms


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _occurrences(
    expr: ColumnElement[str],
    lowered: ColumnElement[str],
    term: str,
    name: str,
    length: Any,
) -> ColumnElement[float]:
    """How often ``term`` occurs in ``expr`` (``lowered``: the same text lowercased),
    ignoring (ASCII, on SQLite) case.

    ``length`` is the SQL function that measures the texts: in bytes where the
    database has it (PostgreSQL's octet_length reads a header, where length counts
    the characters of 2,000 texts: a third of a Japanese phrase's ranking).
    """
    needle = bindparam(name, term.lower())
    # CJK has no case: lower() of every candidate's text would be spent for nothing.
    text_ = expr if _CJK_TERM.fullmatch(term) else lowered
    return (length(text_) - length(func.replace(text_, needle, ""))) / length(needle)


def search_articles(
    session: Session,
    query: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str | None = None,
    access: str | None = None,
    limit: int = 20,
    include_duplicates: bool = False,
    removed: bool | None = None,
    offset: int = 0,
) -> list[SearchHit]:
    """The ``limit`` best-ranked articles whose latest title+text match every term of ``query``,
    after skipping the ``offset`` best.

    Only the :data:`CANDIDATES` most recently archived matches (at least
    ``limit + offset``) are ranked, see :func:`search_statement`.
    ``since``/``until`` bound the article's date (publication, else first seen),
    inclusive. Copies of other articles (``duplicate_of``) are left out unless
    ``include_duplicates``; ``removed`` True keeps only stories found taken down,
    False only those still up; ``access`` keeps those whose latest version was judged
    so (``free``, ``paywalled``, ``unknown``). ValueError for a query with no terms.
    """
    terms = parse_query(query)
    filters = search_filters(
        source=source,
        since=since,
        until=until,
        language=language,
        access=access,
        include_duplicates=include_duplicates,
        removed=removed,
    )
    if not terms:
        raise ValueError("empty search query")
    dialect = session.get_bind().dialect.name
    rows = _ranked_rows(session, dialect, terms, filters, limit, offset)
    hits = []
    for row in rows:
        published, first_seen = row.published_at, row.first_seen_at
        hits.append(
            SearchHit(
                article_id=row.id,
                source=row.name,
                title=row.title,
                url=row.url,
                # coalesce() in SQL loses the UTC type decorator; take the typed columns.
                date=published or first_seen,
                language=row.language,
                score=float(row.score or 0.0),
                snippet=snippet(row.text, [t.text for t in terms]),
                removed_at=row.removed_at,
            )
        )
    return hits


def _ranked_rows(
    session: Session,
    dialect: str,
    terms: list[Term],
    filters: list[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> list[Any]:
    if dialect != "postgresql":
        # FTS5 reads its matches newest first and stops after the candidates.
        return list(session.execute(search_statement(dialect, terms, filters, limit, offset)))
    # A GIN index yields matches in no useful order, so the newest ones are found by
    # bounding the article id: a window of the newest ids, sized from a sample and
    # widened until it holds enough candidates. The bitmap of the window's ids is
    # ANDed with the match's, so rows outside it are never read from the heap.
    wanted = _candidates(limit, offset)
    # One round trip sets the planner settings and reads what sizes the first window
    # (there were four): on a loaded machine one statement in twenty waits 3 ms or more
    # for the server process (SELECT 1 at load 6: 0.08 ms median, 3.3 ms p95).
    match = _postgresql_match(terms)
    with _planner_settings(session, _PG_SEARCH_SETTINGS, _window_sizing(match)) as sizing:
        newest, sampled, *held = sizing
        # The first window is sized by how many of the newest rows match: each window
        # read costs an index scan of the whole term, so guessing well saves one or two.
        span = (newest or 0) if not sampled else SAMPLE * wanted * 5 // (4 * sampled)
        # A CJK term's trigrams find nearly only its own texts: where those are few in
        # the whole archive, reading every one costs less than the window's ids, and
        # takes one statement (at 1,000,000 articles the window for 港町の朝, 6,288
        # matches, cost 110 ms of ids to keep 2,345 out). Not for a phrase, whose
        # pairs list texts the sample does not count, or a word.
        outside = sampled * max(0, (newest or 0) - span) / SAMPLE
        if match.redundant and outside * HEAP_ROW_COST < span * WINDOW_ENTRY_COST:
            span = newest or 0
        # What the GIN indexes would read, in rows tested: every match of each word in
        # the archive, whatever the window (an AND of two words in half the texts
        # each reads both lists in full, 100,000 entries at 100,000 articles); and
        # for two words or more, every row matching them all: the planner estimates an
        # AND of two prefix matches at 0.04 % of rows, and then reads each matching
        # row before it tests the window's bound rather than AND the bound's bitmap in.
        reads = [cost * count for (_, cost), count in zip(match.index_reads, held, strict=True)]
        if match.prefixes > 1:
            reads.append(HEAP_ROW_COST * sampled)
        index_cost = (newest or 0) * sum(reads) / SAMPLE
        while True:
            floor = None if newest is None or span >= newest else newest - span
            # So a term in many rows is tested on the window's rows one by one.
            dense = floor is not None and span <= max(DENSE_SPAN * wanted, index_cost)
            statement = search_statement(
                dialect, terms, filters, limit, offset, floor, scan_window=dense
            )
            rows = list(session.execute(statement))
            found = rows[0].candidates if rows else 0
            if floor is None or found >= wanted:
                return rows
            # Widen to where the matches seen so far say enough would be, with a margin.
            span = span * 8 if not found else max(2 * span, span * wanted * 3 // (2 * found))


# The planner cannot know that a search joins only a window's matches (it estimates
# a prefix tsquery at a default 2,000 rows whatever the word), and then hashes whole
# tables to join a few thousand rows: nested loops over the primary keys are right
# for every search. JIT compiling would cost more than the query. psycopg prepares
# a statement run five times, and PostgreSQL may then plan it once for any
# parameters: for any term and window, a plan that was 10× slower for some.
# The candidates are sorted newest first with the texts a substring term is counted
# in (2,900 Chinese texts at 100,000 articles), which 4 MB of work_mem sorted on disk.
# A parallel worker costs a process start to read a few thousand rows, and the
# planner went parallel for a phrase, its pairs' recheck priced as if computed.
_PG_SEARCH_SETTINGS = {
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "plan_cache_mode": "force_custom_plan",
    "work_mem": "32MB",
}


@contextmanager
def _planner_settings(
    session: Session, settings: dict[str, str], also: list[ColumnElement[Any]]
) -> Iterator[tuple[Any, ...]]:
    """``settings`` for the statements inside, then the session's own again; yields
    the values of ``also``, computed in the same round trip."""
    names = list(settings)
    # The subquery runs first, so it reads the settings from before set_config.
    reads = ", ".join(f"current_setting(:r{i}) AS s{i}" for i in range(len(names)))
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    before_row = text(f"(SELECT {reads} OFFSET 0) AS before").bindparams(
        **{f"r{i}": name for i, name in enumerate(names)}
    )
    setting = text(calls).bindparams(
        **{f"n{i}": name for i, name in enumerate(names)},
        **{f"v{i}": value for i, value in enumerate(settings.values())},
    )
    statement = select(literal_column("before.*"), setting, *also).select_from(before_row)
    row = session.execute(statement).one()
    before = row[: len(names)]
    yield tuple(row[2 * len(names) :])
    # Not in a finally: after an error PostgreSQL refuses every statement until the
    # rollback, which drops settings made with is_local anyway.
    _set_config(session, dict(zip(names, before, strict=True)))


def _set_config(session: Session, settings: dict[str, str]) -> None:
    # is_local: for this transaction only, so a failed search cannot leak them.
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(settings)))
    params: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        params[f"n{i}"], params[f"v{i}"] = name, value
    session.execute(text(f"SELECT {calls}"), params)


SAMPLE = 500
DENSE_SPAN = 4
"""A window of at most this many times the candidates is read row by row (PostgreSQL)."""
# Reading one GIN entry against testing one row of the window, measured at 100,000
# articles: a prefix (word:*) collects the entries of every lexeme it matches into a
# bitmap first (0.66 µs an entry, 1.6 µs an English row); one lexeme's list is read
# in order (0.24 µs an entry, where testing a CJK row's bigrams took 4.3 µs when
# they were in TOAST, as in archives written before migration 0012).
PREFIX_ENTRY_COST = 0.4
LEXEME_ENTRY_COST = 0.05
HEAP_ROW_COST = 1.0
# ANDing a window into the bitmap reads the primary key's entry of every id in it:
# 0.18 µs each at 1,000,000 articles, against 5.9 µs a Chinese row read and tested.
WINDOW_ENTRY_COST = 0.03


def _window_sizing(match: _Match) -> list[ColumnElement[Any]]:
    """The newest indexed article id, how many of the newest :data:`SAMPLE` index
    rows match (PostgreSQL), and how many hold each of :attr:`_Match.index_reads`.

    The LIMIT comes first, so the match is tested on those rows alone rather than
    through an index of every match; conditions that only an index answers
    cheaply (a phrase's word pairs) are left out of that test.
    """
    newest = (
        select(literal_column("*"))
        .select_from(table(SEARCH_TABLE))
        .order_by(literal_column("article_id").desc())
        .limit(SAMPLE)
        .subquery(SEARCH_TABLE)
    )
    counts = [func.count().filter(and_(*match.row_conditions))]
    counts += [func.count().filter(condition) for condition, _ in match.index_reads]
    sampled = select(*counts).select_from(newest).subquery("sampled")
    highest = select(func.max(literal_column("article_id"))).select_from(table(SEARCH_TABLE))
    return [highest.scalar_subquery(), *(select(c).scalar_subquery() for c in sampled.c)]


def _candidates(limit: int, offset: int) -> int:
    return max(CANDIDATES, limit + offset)


def search_statement(
    dialect: str,
    terms: list[Term],
    filters: list[ColumnElement[bool]] | None = None,
    limit: int = 20,
    offset: int = 0,
    floor: int | None = None,
    scan_window: bool = False,
) -> Select[Any]:
    """The query :func:`search_articles` runs (exposed so its plan can be inspected).

    It ranks the :data:`CANDIDATES` (at least ``limit + offset``) matches of the
    highest article ids, that is the most recently archived, and only those:
    ranking every match of a word in most of the archive cost a BM25 or ts_rank
    per match, 100 ms and more. ``floor`` (PostgreSQL) keeps only article ids above
    it, read through the GIN bitmaps or, ``scan_window``, by testing every row above
    it; a ``candidates`` column says how many matches were ranked.
    """
    if not terms:
        raise ValueError("empty search query")
    wanted = _candidates(limit, offset)
    if dialect == "sqlite":
        match = _sqlite_match(terms)
        # bm25() exists only in the query of its FTS5 table.
        carried = [match.score.label("score")]
        score = literal_column("score")
    elif dialect == "postgresql":
        match = _postgresql_match(terms)
        # ts_rank on the candidates only: below the LIMIT PostgreSQL would rank every
        # match in the window before keeping the newest.
        carried = [expr.label(name) for name, expr in match.reads]
        score = _postgresql_match(terms, over="candidates").score
    else:
        raise NotImplementedError(f"no full-text search for the {dialect} dialect")

    filters = filters or []
    window = [match.key > floor] if floor is not None else []
    source = match.source
    conditions = match.conditions
    # Row by row, a phrase's pairs would be computed from each text in the window.
    if scan_window and floor is not None and not match.indexed_only:
        # OFFSET 0: PostgreSQL neither flattens this nor pushes the match into it, so
        # the window's rows are read by primary key and the match tested on each.
        newest_rows = select(literal_column("*")).select_from(match.source).where(*window)
        source = newest_rows.offset(0).subquery(SEARCH_TABLE)
        window = []
        conditions = match.row_conditions
    needed = {t.name for clause in filters for t in find_tables(clause, check_columns=True)}
    # Newest first, so both databases stop reading matches after the candidates
    # (FTS5 walks its doclist backwards by rowid; PostgreSQL reads only the ids
    # above the floor). Versions and sources are joined here only for a filter on
    # them: each join is one more index look-up per match read.
    candidates = (
        select(Article.id.label("id"), *carried)
        .select_from(source)
        .join(Article, Article.id == match.key)
    )
    if ArticleVersion.__tablename__ in needed:
        candidates = candidates.join(ArticleVersion, latest_version())
    if Source.__tablename__ in needed:
        candidates = candidates.join(Source, Source.id == Article.source_id)
    # Materialized: the candidates are read (and ranked) once, then used twice.
    candidates_q = (
        candidates.where(*conditions, *filters, *window)
        .order_by(match.key.desc())
        .limit(wanted)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    scored = candidates_q
    if dialect == "postgresql":
        scored = (
            select(candidates_q.c.id, score.label("score"))
            .cte("scored")
            .prefix_with("MATERIALIZED")
        )
    # Ties of score are broken by date, which costs a look-up of each row's version:
    # only rows scoring at least the page's last one can be on the page.
    last = (
        select(scored.c.score)
        .order_by(scored.c.score.desc())
        .offset(max(limit + offset, 1) - 1)
        .limit(1)
        .scalar_subquery()
    )
    date = _article_date().label("date")
    ranked = (
        select(
            scored.c.id,
            scored.c.score,
            date,
            select(func.count()).select_from(scored).scalar_subquery().label("candidates"),
        )
        .select_from(scored)
        .join(Article, Article.id == scored.c.id)
        .join(ArticleVersion, latest_version())
        .where(or_(last.is_(None), scored.c.score >= last))
        .order_by(scored.c.score.desc(), date.desc(), scored.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("ranked")
    )
    return (
        select(
            Article.id,
            Source.name,
            ArticleVersion.title,
            ArticleVersion.url,
            ArticleVersion.published_at,
            Article.first_seen_at,
            ArticleVersion.language,
            ArticleVersion.text,
            Article.removed_at,
            ranked.c.score,
            ranked.c.candidates,
        )
        .select_from(ranked)
        .join(Article, Article.id == ranked.c.id)
        .join(ArticleVersion, latest_version())
        .join(Source, Source.id == Article.source_id)
        .order_by(ranked.c.score.desc(), ranked.c.date.desc(), ranked.c.id)
    )


def _article_date() -> ColumnElement[datetime]:
    return func.coalesce(ArticleVersion.published_at, Article.first_seen_at)


def search_filters(
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str | None = None,
    access: str | None = None,
    include_duplicates: bool = False,
    removed: bool | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses for :func:`search_statement`, over Article, ArticleVersion and Source."""
    date = _article_date()
    clauses: list[ColumnElement[bool]] = []
    if source is not None:
        clauses.append(Source.name == source)
    if language is not None:
        clauses.append(ArticleVersion.language == language)
    if since is not None:
        clauses.append(date >= since)
    if until is not None:
        clauses.append(date <= until)
    if access is not None:
        clauses.append(ArticleVersion.access == access)
    if not include_duplicates:
        clauses.append(Article.duplicate_of.is_(None))
    if removed is not None:
        taken_down = Article.removed_at.is_not(None)
        clauses.append(taken_down if removed else ~taken_down)
    return clauses


@dataclass(frozen=True)
class _Match:
    """How one dialect matches a query: the index to read, its article id, conditions, rank."""

    source: Any
    key: ColumnElement[Any]
    conditions: list[Any]
    score: ColumnElement[Any]
    reads: tuple[tuple[str, ColumnElement[Any]], ...] = ()
    """What the score reads of each candidate, by name (PostgreSQL, which ranks in an
    outer query)."""
    indexed_only: tuple[Any, ...] = ()
    """Conditions too costly to test row by row, answered through an index only (PostgreSQL)."""
    index_reads: tuple[tuple[Any, float], ...] = ()
    """Each list of matches a GIN index reads for the query, as a condition that holds
    for the rows it lists, and what reading one entry costs against testing one row
    (PostgreSQL): a window scan is cheaper than the index when these lists are long."""
    redundant: tuple[Any, ...] = ()
    """Conditions the others imply, there for an index to answer (PostgreSQL): left out
    where rows are tested one by one, which would compute them from each text."""

    @property
    def prefixes(self) -> int:
        """How many of :attr:`index_reads` are prefix matches of words."""
        return sum(1 for _, cost in self.index_reads if cost == PREFIX_ENTRY_COST)

    @property
    def row_conditions(self) -> list[Any]:
        """The conditions worth testing on each of a few rows: all but :attr:`indexed_only`
        and :attr:`redundant`."""
        index = (*self.indexed_only, *self.redundant)
        return [c for c in self.conditions if not any(c is i for i in index)]


def _fts5_string(terms: list[Term]) -> str:
    # Each term an FTS5 string (quotes doubled): no operator in user input is live.
    return " ".join('"' + t.text.replace('"', '""') + '"' for t in terms)


def _sqlite_match(terms: list[Term]) -> _Match:
    indexed = [t for t in terms if len(t.text) >= TRIGRAM_MIN]
    bigram = [t for t in terms if t.cjk_bigram]
    short = [t for t in terms if len(t.text) < TRIGRAM_MIN and not t.cjk_bigram]
    trigrams = table(SEARCH_TABLE, column("title"), column("body"))
    bigrams = table(BIGRAM_TABLE)
    conditions: list[Any] = []
    scores: list[ColumnElement[Any]] = []
    source: Any = None
    if indexed or short:
        source = trigrams
    if indexed:
        conditions.append(
            text(f"{SEARCH_TABLE} MATCH :fts_query").bindparams(fts_query=_fts5_string(indexed))
        )
        # bm25 is lower-is-better; a title hit counts three times a body hit.
        scores.append(-func.bm25(literal_column(SEARCH_TABLE), 3.0, 1.0))
    if bigram:
        bigram_rowid = literal_column(f"{BIGRAM_TABLE}.rowid")
        source = (
            bigrams
            if source is None
            else source.join(bigrams, bigram_rowid == literal_column(f"{SEARCH_TABLE}.rowid"))
        )
        conditions.append(
            text(f"{BIGRAM_TABLE} MATCH :bigram_query").bindparams(
                bigram_query=_fts5_string(bigram)
            )
        )
        scores.append(-func.bm25(literal_column(BIGRAM_TABLE), 3.0, 1.0))
    for n, term in enumerate(short):
        pattern = bindparam(f"short_{n}", _like_pattern(term.text))
        conditions.append(
            or_(
                trigrams.c.title.like(pattern, escape="\\"),
                trigrams.c.body.like(pattern, escape="\\"),
            )
        )
    if scores:
        score = scores[0] if len(scores) == 1 else scores[0] + scores[1]
    else:
        score = _occurrence_score(trigrams.c.title, trigrams.c.body, short)
    first = SEARCH_TABLE if indexed or short else BIGRAM_TABLE
    return _Match(source, literal_column(f"{first}.rowid"), conditions, score)


def _occurrence_score(
    title: Any,
    body: Any,
    terms: list[Term],
    length: Any = func.length,
    lowered: tuple[Any, Any] | None = None,
) -> ColumnElement[Any]:
    """3 × a term's occurrences in ``title`` plus those in ``body``, summed over ``terms``;
    ``lowered`` are the texts lowercased, if computed already."""
    title_lower, body_lower = lowered or (func.lower(title), func.lower(body))
    score: ColumnElement[Any] | None = None
    for n, term in enumerate(terms):
        part = 3 * _occurrences(title, title_lower, term.text, f"occ_t{n}", length)
        part = part + _occurrences(body, body_lower, term.text, f"occ_b{n}", length)
        score = part if score is None else score + part
    assert score is not None
    return score


def _postgresql_match(terms: list[Term], over: str = SEARCH_TABLE) -> _Match:
    """Conditions on the index table; the score over ``over``'s copies of its columns."""
    words = [t for t in terms if not t.substring_only]
    bigram = [t for t in terms if t.cjk_bigram]
    substrings = [t for t in terms if t.substring_only and not t.cjk_bigram]
    conditions: list[Any] = []
    ranks: list[ColumnElement[Any]] = []
    reads: list[tuple[str, ColumnElement[Any]]] = []
    index_reads: list[tuple[Any, float]] = []
    if words:
        # Each word a quoted lexeme with a prefix match: input is never tsquery syntax.
        tsquery = " & ".join(_lexeme(t) + ":*" for t in words)
        ranks.append(_tsvector_match("document", "tsquery", tsquery, conditions, over))
        reads.append(_index_column("document"))
        index_reads += [
            (_lexeme_match("document", f"read_w{n}", _lexeme(t) + ":*"), PREFIX_ENTRY_COST)
            for n, t in enumerate(words)
        ]
    if bigram:
        # A two-character CJK term is one lexeme of the bigram index: an exact match.
        tsquery = " & ".join(_lexeme(t) for t in bigram)
        ranks.append(_tsvector_match("bigrams", "bigram_query", tsquery, conditions, over))
        reads.append(_index_column("bigrams"))
        index_reads += [
            (_lexeme_match("bigrams", f"read_b{n}", _lexeme(t)), LEXEME_ENTRY_COST)
            for n, t in enumerate(bigram)
        ]
    indexed_only: list[Any] = []
    redundant: list[Any] = []
    for n, term in enumerate(substrings):
        pattern = bindparam(f"sub_{n}", _like_pattern(term.text))
        if term.word_pairs:
            # The pairs index of migration 0012 finds the texts holding each pair of the
            # phrase's adjacent words; ILIKE then checks the phrase itself, over an
            # expression equal to the trigram index's but not it, so the planner does
            # not AND in that index's thousands of texts that share the trigrams.
            # phrase_pairs is NULL when the database sees fewer than two words.
            pairs = func.phrase_pairs(bindparam(f"phrase_{n}", term.text))
            condition = or_(_WORD_PAIRS.op("@@")(pairs), pairs.is_(None))
            conditions.append(condition)
            indexed_only.append(condition)
            conditions.append(_UNINDEXED_CONTENT.ilike(pattern))
            continue
        if not _CJK_TERM.fullmatch(term.text):
            conditions.append(_CONTENT.ilike(pattern))
            continue
        # A CJK term's text holds each of its trigrams: the trigram index of migration
        # 0013 finds the texts holding all of them, nearly only the term's (its
        # bigrams were together in 50,000 texts of a million for 港町の朝: Chinese and
        # Japanese news share most bigrams of their common words). Then strpos,
        # which no index serves, so the planner cannot take the pg_trgm index
        # instead; CJK has no case, and a CJK term cannot straddle the space between
        # title and body. A text too long for its trigrams is indexed as '*'.
        grams = sorted({term.text[i : i + 3] for i in range(len(term.text) - 2)})
        tsquery = "(" + " & ".join(f"'{gram}'" for gram in grams) + ") | '*'"
        query = cast(bindparam(f"grams_{n}", tsquery), TSQUERY)
        condition = _CJK_TRIGRAMS.op("@@")(query)
        conditions.append(condition)
        redundant.append(condition)
        # A CJK trigram is in a text's index exactly when it is in the text: the
        # window's sample counts each list by strpos, not by computing trigrams.
        index_reads += [
            (_holds(bindparam(f"read_g{n}_{i}", gram)), LEXEME_ENTRY_COST)
            for i, gram in enumerate(grams)
        ]
        conditions.append(_holds(bindparam(f"sub_{n}", term.text)))
    if ranks:
        score = ranks[0] if len(ranks) == 1 else ranks[0] + ranks[1]
    else:
        title = literal_column(f"{over}.title")
        body = literal_column(f"{over}.body")
        reads += [_index_column("title"), _index_column("body")]
        lowered = None
        if not all(_CJK_TERM.fullmatch(t.text) for t in substrings):
            # Lowercased once per candidate: the count reads each text twice, and
            # lower() of 2,000 English texts costs more than the rest of the count.
            lowered = literal_column(f"{over}.title_lower"), literal_column(f"{over}.body_lower")
            reads += [(f"{name}_lower", func.lower(expr)) for name, expr in reads[-2:]]
        score = _occurrence_score(title, body, substrings, func.octet_length, lowered)
    search = table(SEARCH_TABLE)
    key = literal_column(f"{SEARCH_TABLE}.article_id")
    return _Match(
        search,
        key,
        conditions,
        score,
        tuple(reads),
        tuple(indexed_only),
        tuple(index_reads),
        tuple(redundant),
    )


# The text every expression index of article_search is built over: written as the
# indexes' definitions write it (ix_article_search_trigram's, and the arguments of
# ix_article_search_pairs' word_pairs and ix_article_search_cjk_trigrams'
# cjk_trigrams), or the planner does not see that an index answers.
_CONTENT = literal_column(f"({SEARCH_TABLE}.title || ' ' || {SEARCH_TABLE}.body)")
_WORD_PAIRS = func.word_pairs(_CONTENT)
_CJK_TRIGRAMS = func.cjk_trigrams(_CONTENT)
# Equal to _CONTENT, but no index's expression: ILIKE on it checks a phrase without
# the planner ANDing in the trigram index's thousands of texts.
_UNINDEXED_CONTENT = func.concat(
    literal_column(f"{SEARCH_TABLE}.title"), " ", literal_column(f"{SEARCH_TABLE}.body")
)


def _holds(needle: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether the index row's title or body holds ``needle`` (case-sensitive, no index)."""
    return or_(
        func.strpos(literal_column(f"{SEARCH_TABLE}.title"), needle) > 0,
        func.strpos(literal_column(f"{SEARCH_TABLE}.body"), needle) > 0,
    )


def _index_column(name: str) -> tuple[str, ColumnElement[Any]]:
    return name, literal_column(f"{SEARCH_TABLE}.{name}")


def _lexeme(term: Term) -> str:
    return "'" + term.text.lower().replace("'", "''") + "'"


def _lexeme_match(column_: str, name: str, lexeme: str) -> ColumnElement[bool]:
    query = func.to_tsquery(literal_column("'simple'"), bindparam(name, lexeme))
    return literal_column(f"{SEARCH_TABLE}.{column_}").op("@@")(query)


def _tsvector_match(
    column_: str, name: str, tsquery: str, conditions: list[Any], over: str
) -> ColumnElement[Any]:
    """Adds ``column_ @@ tsquery`` to ``conditions``; returns its ``ts_rank`` over ``over``."""
    query = func.to_tsquery(literal_column("'simple'"), bindparam(name, tsquery))
    conditions.append(literal_column(f"{SEARCH_TABLE}.{column_}").op("@@")(query))
    return func.ts_rank(literal_column(f"{over}.{column_}"), query)


def snippet(text_: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text_`` around the first term found, terms marked."""
    folded = text_.lower()
    needles = [t.lower() for t in terms if t]
    found = [(folded.find(n), n) for n in needles if folded.find(n) >= 0]
    first = min(found)[0] if found else 0
    start = max(0, first - width // 3)
    end = min(len(text_), start + width)
    window = text_[start:end].replace("\n", " ")
    pattern = re.compile(
        "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.I
    )
    marked = pattern.sub(lambda m: f"{HIGHLIGHT[0]}{m.group(0)}{HIGHLIGHT[1]}", window)
    return ("…" if start else "") + marked + ("…" if end < len(text_) else "")
