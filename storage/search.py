"""Full-text search over the latest version of every article, in any language.

The index (``article_search``, created by migration 0004 and kept current by
triggers) differs per dialect:

* SQLite: an FTS5 table with the ``trigram`` tokenizer. Every term of 3 or more
  characters is a substring match through the index, in every script, so Chinese
  or Japanese words are found without a word segmenter. Terms of 1–2 characters
  (谈判, 火灾) are too short for trigrams and are matched with LIKE over the same
  table (a scan of the indexed text, not of the whole database).
* PostgreSQL: a stored, weighted ``tsvector`` ('simple' configuration: no stemming,
  no stop words, so it serves every language) with a GIN index, queried by word
  prefix (``bridge`` finds "bridges"); and a ``pg_trgm`` GIN index for terms in
  scripts written without spaces (CJK, Thai…) and for quoted phrases, matched
  with ILIKE.

A query is a list of terms, all of which must match (AND); ``"double quotes"``
make a phrase. Ranking: BM25 (SQLite) or ``ts_rank`` (PostgreSQL), title matches
weighted above body matches; substring-only queries rank by occurrences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, literal_column, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table

from ..cjk import CJK_CHARS
from .models import Article, ArticleVersion, Source, latest_version

SEARCH_TABLE = "article_search"
# SQLite FTS5 keeps an index in these shadow tables of its virtual table.
_FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")

# Scripts written without spaces between words: the tsvector parser would keep a
# whole sentence as one token, so their terms are matched as substrings.
_UNSEGMENTED = re.compile(f"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff{CJK_CHARS}]")
TRIGRAM_MIN = 3
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
    return name != SEARCH_TABLE and not any(name == SEARCH_TABLE + s for s in _FTS5_SHADOWS)


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
    if not terms:
        raise ValueError("empty search query")
    dialect = session.get_bind().dialect.name
    search = table(SEARCH_TABLE, column("title"), column("body"))
    if dialect == "sqlite":
        key = literal_column(f"{SEARCH_TABLE}.rowid")
        conditions, score = _sqlite_match(search, terms)
    elif dialect == "postgresql":
        key = literal_column(f"{SEARCH_TABLE}.article_id")
        conditions, score = _postgresql_match(terms)
    else:
        raise NotImplementedError(f"no full-text search for the {dialect} dialect")

    date = func.coalesce(ArticleVersion.published_at, Article.first_seen_at)
    stmt = (
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
            score.label("score"),
        )
        .select_from(search)
        .join(Article, Article.id == key)
        .join(ArticleVersion, latest_version())
        .join(Source, Source.id == Article.source_id)
        .where(*conditions)
    )
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if language is not None:
        stmt = stmt.where(ArticleVersion.language == language)
    if access is not None:
        stmt = stmt.where(ArticleVersion.access == access)
    if since is not None:
        stmt = stmt.where(date >= since)
    if until is not None:
        stmt = stmt.where(date <= until)
    if not include_duplicates:
        stmt = stmt.where(Article.duplicate_of.is_(None))
    if removed is not None:
        taken_down = Article.removed_at.is_not(None)
        stmt = stmt.where(taken_down if removed else ~taken_down)
    stmt = stmt.order_by(literal_column("score").desc(), date.desc(), Article.id)
    stmt = stmt.limit(limit).offset(offset)

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


def _sqlite_match(search: Any, terms: list[Term]) -> tuple[list[Any], ColumnElement[Any]]:
    indexed = [t for t in terms if len(t.text) >= TRIGRAM_MIN]
    short = [t for t in terms if len(t.text) < TRIGRAM_MIN]
    conditions: list[Any] = []
    if indexed:
        # Each term an FTS5 string (quotes doubled): no operator in user input is live.
        expression = " ".join('"' + t.text.replace('"', '""') + '"' for t in indexed)
        conditions.append(text(f"{SEARCH_TABLE} MATCH :fts_query").bindparams(fts_query=expression))
        # bm25 is lower-is-better; a title hit counts three times a body hit.
        score: ColumnElement[Any] = -func.bm25(literal_column(SEARCH_TABLE), 3.0, 1.0)
    else:
        score = _occurrence_score(search.c.title, search.c.body, short)
    for n, term in enumerate(short):
        pattern = bindparam(f"short_{n}", _like_pattern(term.text))
        conditions.append(
            or_(search.c.title.like(pattern, escape="\\"), search.c.body.like(pattern, escape="\\"))
        )
    return conditions, score


def _occurrence_score(title: Any, body: Any, terms: list[Term]) -> ColumnElement[Any]:
    score: ColumnElement[Any] | None = None
    for n, term in enumerate(terms):
        part = 3 * _occurrences(title, term.text, f"occ_t{n}") + _occurrences(
            body, term.text, f"occ_b{n}"
        )
        score = part if score is None else score + part
    assert score is not None
    return score


def _postgresql_match(terms: list[Term]) -> tuple[list[Any], ColumnElement[Any]]:
    words = [t for t in terms if not t.substring_only]
    substrings = [t for t in terms if t.substring_only]
    document = literal_column(f"{SEARCH_TABLE}.document")
    # The very expression of ix_article_search_trigram, or the index is not used.
    content = literal_column(f"({SEARCH_TABLE}.title || ' ' || {SEARCH_TABLE}.body)")
    conditions: list[Any] = []
    score: ColumnElement[Any] | None = None
    if words:
        # Each word a quoted lexeme with a prefix match: input is never tsquery syntax.
        tsquery = " & ".join("'" + t.text.lower().replace("'", "''") + "':*" for t in words)
        query = func.to_tsquery(literal_column("'simple'"), bindparam("tsquery", tsquery))
        conditions.append(document.op("@@")(query))
        score = func.ts_rank(document, query)
    for n, term in enumerate(substrings):
        conditions.append(content.ilike(bindparam(f"sub_{n}", _like_pattern(term.text))))
    if score is None:
        title = literal_column(f"{SEARCH_TABLE}.title")
        body = literal_column(f"{SEARCH_TABLE}.body")
        score = _occurrence_score(title, body, substrings)
    return conditions, score


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
