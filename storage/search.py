"""Full-text search over the latest version of every article, in any language.

The index (``article_search``, created by migration 0004 and kept current by
triggers; CJK bigrams added by 0011) differs per dialect:

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
  scripts written without spaces (CJK, Thai…) and for quoted phrases, matched
  with ILIKE; and a GIN-indexed, weighted tsvector of CJK bigrams for
  two-character CJK terms, ranked with ``ts_rank`` as words are.

A query is a list of terms, all of which must match (AND); ``"double quotes"``
make a phrase. Ranking: BM25 (SQLite, both tables) or ``ts_rank`` (PostgreSQL,
both tsvectors), title matches weighted above body matches; queries with only
ILIKE (PostgreSQL) or LIKE (SQLite) terms rank by occurrences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table

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
SNIPPET_CHARS = 160
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


def _occurrences(expr: ColumnElement[str], term: str, name: str) -> ColumnElement[float]:
    """How often ``term`` occurs in ``expr``, ignoring (ASCII, on SQLite) case."""
    needle = bindparam(name, term.lower())
    lowered = func.lower(expr)
    return (func.length(lowered) - func.length(func.replace(lowered, needle, ""))) / func.length(
        needle
    )


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
    stmt = search_statement(session.get_bind().dialect.name, terms, filters, limit, offset)
    hits = []
    for row in session.execute(stmt):
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


def search_statement(
    dialect: str,
    terms: list[Term],
    filters: list[ColumnElement[bool]] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Select[Any]:
    """The query :func:`search_articles` runs (exposed so its plan can be inspected)."""
    if not terms:
        raise ValueError("empty search query")
    if dialect == "sqlite":
        match = _sqlite_match(terms)
    elif dialect == "postgresql":
        match = _postgresql_match(terms)
    else:
        raise NotImplementedError(f"no full-text search for the {dialect} dialect")

    date = _article_date()
    # Rank first on narrow rows, then fetch texts for the winners only: a common
    # word matches most of the archive, and carrying every text through the sort
    # cost more than the matching did.
    ranked = (
        select(Article.id, match.score.label("score"), date.label("date"))
        .select_from(match.source)
        .join(Article, Article.id == match.key)
        .join(ArticleVersion, latest_version())
        .join(Source, Source.id == Article.source_id)
        .where(*match.conditions, *(filters or []))
        .order_by(literal_column("score").desc(), date.desc(), Article.id)
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


def _occurrence_score(title: Any, body: Any, terms: list[Term]) -> ColumnElement[Any]:
    score: ColumnElement[Any] | None = None
    for n, term in enumerate(terms):
        part = 3 * _occurrences(title, term.text, f"occ_t{n}") + _occurrences(
            body, term.text, f"occ_b{n}"
        )
        score = part if score is None else score + part
    assert score is not None
    return score


def _postgresql_match(terms: list[Term]) -> _Match:
    words = [t for t in terms if not t.substring_only]
    bigram = [t for t in terms if t.cjk_bigram]
    substrings = [t for t in terms if t.substring_only and not t.cjk_bigram]
    # The very expression of ix_article_search_trigram, or the index is not used.
    content = literal_column(f"({SEARCH_TABLE}.title || ' ' || {SEARCH_TABLE}.body)")
    conditions: list[Any] = []
    ranks: list[ColumnElement[Any]] = []
    if words:
        # Each word a quoted lexeme with a prefix match: input is never tsquery syntax.
        tsquery = " & ".join(_lexeme(t) + ":*" for t in words)
        ranks.append(_tsvector_match("document", "tsquery", tsquery, conditions))
    if bigram:
        # A two-character CJK term is one lexeme of the bigram index: an exact match.
        tsquery = " & ".join(_lexeme(t) for t in bigram)
        ranks.append(_tsvector_match("bigrams", "bigram_query", tsquery, conditions))
    for n, term in enumerate(substrings):
        conditions.append(content.ilike(bindparam(f"sub_{n}", _like_pattern(term.text))))
    if ranks:
        score = ranks[0] if len(ranks) == 1 else ranks[0] + ranks[1]
    else:
        title = literal_column(f"{SEARCH_TABLE}.title")
        body = literal_column(f"{SEARCH_TABLE}.body")
        score = _occurrence_score(title, body, substrings)
    search = table(SEARCH_TABLE)
    return _Match(search, literal_column(f"{SEARCH_TABLE}.article_id"), conditions, score)


def _lexeme(term: Term) -> str:
    return "'" + term.text.lower().replace("'", "''") + "'"


def _tsvector_match(
    column_: str, name: str, tsquery: str, conditions: list[Any]
) -> ColumnElement[Any]:
    """Adds ``column_ @@ tsquery`` to ``conditions``; returns its ``ts_rank``."""
    vector = literal_column(f"{SEARCH_TABLE}.{column_}")
    query = func.to_tsquery(literal_column("'simple'"), bindparam(name, tsquery))
    conditions.append(vector.op("@@")(query))
    return func.ts_rank(vector, query)


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
