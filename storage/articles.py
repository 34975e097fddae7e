"""Storing fetched articles (new, new version, unchanged, duplicate) and reading them back."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from newsarchive.similarity import DEFAULT_NEAR_DUPLICATE_THRESHOLD, normalised_text

from .models import Article, ArticleVersion, Source, latest_version, utcnow
from .near_duplicates import (
    content_lock_key,
    elect_representative,
    find_near_duplicate,
    index_article,
    lock_bands,
    lock_root,
    representative_order,
    signature_band_keys,
)
from .upsert import insert_or_ignore


class Outcome(StrEnum):
    """What storing a fetched article did; the crawl summary counts these."""

    NEW = "new"
    """A story not stored before."""
    UPDATED = "updated"
    """A new version of a stored article."""
    UNCHANGED = "unchanged"
    """The stored text stands: same words, or a capture older than the latest version."""
    DUPLICATE = "duplicate"
    """A new article of a story already stored (it may still become its cluster's root)."""


@dataclass(frozen=True)
class FetchedArticle:
    """A cleaned article as a crawl hands it to storage."""

    source: str
    url: str
    canonical_url: str
    text: str
    content_hash: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    raw_html: bytes | None = None
    raw_encoding: str | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    crawl_run_id: int | None = None
    minhash: bytes | None = None
    """MinHash signature of ``text`` (``newsarchive.similarity.signature``), if long enough."""
    warc_file: str | None = None
    """The WARC file holding the response (then ``raw_html`` is not stored twice)."""
    warc_offset: int | None = None
    extractor_version: str | None = None
    """Version of the extraction code that made ``text`` (``EXTRACTOR_VERSION``)."""
    published_at_source: str | None = None
    """Where ``published_at`` came from (``json-ld``, ``meta``, …, ``first-seen``)."""
    access: str | None = None
    """``free``, ``paywalled`` or ``unknown``."""


# Built once, with parameters: building it for every story (a fresh aliased()
# and its column expressions above all) was a third of the crawl's store thread.
_same_text = aliased(Article, name="same_text")
_EXACT_COPY_ROOT = (
    select(Article.id)
    .join(ArticleVersion, latest_version())
    .where(
        Article.id.in_(
            select(func.coalesce(_same_text.duplicate_of, _same_text.id)).where(
                _same_text.content_hash == bindparam("content_hash"),
                _same_text.id != bindparam("article_id"),
            )
        )
    )
    .order_by(*representative_order())
    .limit(1)
)
"""The best-ranked root (:func:`best_ranked`) of the stories whose current text is
``content_hash``, other than ``article_id``."""


_ARTICLES = Article.__table__
_VERSIONS = ArticleVersion.__table__
# The claimed row, locked until the transaction ends (PostgreSQL; SQLite's writers
# are serialised by BEGIN IMMEDIATE).
_CLAIMED = (
    select(Article.id, Article.version, Article.content_hash, Article.last_fetched_at)
    .where(Article.canonical_url == bindparam("canonical_url"))
    .with_for_update()
)
_LATEST = (
    select(
        ArticleVersion.fetched_at,
        ArticleVersion.text,
        ArticleVersion.published_at,
        ArticleVersion.published_at_source,
    )
    .join(Article, latest_version())
    .where(Article.id == bindparam("article_id"))
)
_HAS_COPIES = select(Article.id).where(Article.duplicate_of == bindparam("article_id")).limit(1)
# Built once: building an UPDATE's or INSERT's values for every story was a sixth of
# storing it. (A bound parameter may not be named after a column it sets.)
_TOUCH = (
    _ARTICLES.update()
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(last_fetched_at=bindparam("fetched_until"))
)
_NEW_VERSION = (
    _ARTICLES.update()
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(
        last_fetched_at=bindparam("fetched_until"),
        version=bindparam("new_version"),
        content_hash=bindparam("new_hash"),
        duplicate_of=bindparam("cluster"),
        minhash=bindparam("new_minhash"),
    )
)
_ADD_VERSION = _VERSIONS.insert()


_SOURCE_IDS = "newsarchive_source_ids"
"""``session.info`` key: the source ids this session's transaction looked up or created."""


def ensure_source(session: Session, name: str) -> int:
    """The id of the named source, creating its row if this is its first crawl."""
    # Remembered for the transaction: one storing a batch of a source's stories
    # asks once, not twice per story. Only for the transaction, so a row it
    # created and then rolled back is never taken for one that exists.
    session.connection()  # begun: the transaction this cache belongs to exists
    transaction = session.get_transaction()
    cached = session.info.get(_SOURCE_IDS)
    if cached is None or cached[0] is not transaction:
        cached = session.info[_SOURCE_IDS] = (transaction, {})
    known: dict[str, int] = cached[1]
    if name not in known:
        insert_or_ignore(session, Source, {"name": name, "created_at": utcnow()}, ["name"])
        known[name] = session.execute(select(Source.id).where(Source.name == name)).scalar_one()
    return known[name]


def save_article(
    session: Session,
    fetched: FetchedArticle,
    *,
    near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> Outcome:
    """Record one fetch of a story, inside the caller's transaction.

    The row is claimed with an atomic insert-or-ignore on ``canonical_url`` first,
    so two processes storing the same story at once serialise on it instead of
    both inserting. A capture older than the latest stored version changes nothing
    but ``last_fetched_at`` (never backwards).

    A new text joins the cluster of the stories it copies, exactly (same hash) or
    nearly (estimated Jaccard ≥ ``near_duplicate_threshold``); an article others
    already copy stays in its own cluster. The cluster is then rooted at its
    representative (storage.near_duplicates): when this article is now the
    earliest-published member, the whole cluster is re-pointed to it. All of it,
    LSH bands included, happens in this transaction, serialised with writers of
    copies of the same text or bands (advisory locks on PostgreSQL, BEGIN IMMEDIATE
    on SQLite).
    """
    source_id = ensure_source(session, fetched.source)
    insert_or_ignore(
        session,
        Article,
        {
            "source_id": source_id,
            "canonical_url": fetched.canonical_url,
            "url": fetched.url,
            "version": 0,
            "first_seen_at": fetched.fetched_at,
            "last_fetched_at": fetched.fetched_at,
        },
        ["canonical_url"],
    )
    # Rows and Core statements, not ORM objects: the unit of work's flushes were
    # half of storing a story, and nothing here needs an object's identity.
    article_id, version, stored_hash, last_fetched_at = session.execute(
        _CLAIMED, {"canonical_url": fetched.canonical_url}
    ).one()
    # Captures can arrive out of order (reprocessing, imports, parallel crawls).
    fetched_until = max(last_fetched_at, fetched.fetched_at)
    if version:
        latest = session.execute(_LATEST, {"article_id": article_id}).one()
        if (
            fetched.fetched_at < latest.fetched_at
            or stored_hash == fetched.content_hash
            # Only spacing, punctuation or case moved: not a new version of the story.
            or normalised_text(latest.text) == normalised_text(fetched.text)
            # The paywall's teaser of a story stored in full: the fetch is recorded
            # (last_fetched_at), the story is not cut down to its teaser.
            or (fetched.access == PAYWALLED and is_teaser_of(fetched.text, latest.text))
        ):
            if fetched_until != last_fetched_at:
                session.execute(_TOUCH, {"article_id": article_id, "fetched_until": fetched_until})
            return Outcome.UNCHANGED
        if fetched.published_at is None and latest.published_at is not None:
            # A re-fetch that finds no date (a recrawl has no feed item to date it)
            # does not undate the story: its date is what the earlier fetch learnt.
            fetched = replace(
                fetched,
                published_at=latest.published_at,
                published_at_source=latest.published_at_source,
            )
    keys = signature_band_keys(fetched.minhash)
    lock_bands(session, [*keys, content_lock_key(fetched.content_hash)])

    exact = False
    cluster: int | None = None
    if version and session.execute(_HAS_COPIES, {"article_id": article_id}).first():
        # Its copies point at it: it stays in their cluster, whatever its new text matches.
        cluster = article_id
    else:
        # An exact copy of another story's current text is linked, not counted as new.
        cluster = session.execute(
            _EXACT_COPY_ROOT,
            {"content_hash": fetched.content_hash, "article_id": article_id},
        ).scalar_one_or_none()
        exact = cluster is not None
        if cluster is None and fetched.minhash is not None:
            near = find_near_duplicate(
                session, article_id, fetched.minhash, keys, near_duplicate_threshold
            )
            cluster = near.root_id if near else None
    if cluster is not None:
        cluster = lock_root(session, cluster)
    joined = cluster is not None and cluster != article_id

    outcome = Outcome.NEW if version == 0 else Outcome.UPDATED
    version += 1
    session.execute(
        _NEW_VERSION,
        {
            "article_id": article_id,
            "fetched_until": fetched_until,
            "new_version": version,
            "new_hash": fetched.content_hash,
            "cluster": cluster if joined else None,
            "new_minhash": fetched.minhash,
        },
    )
    session.execute(
        _ADD_VERSION,
        {
            "article_id": article_id,
            "version": version,
            "url": fetched.url,
            "title": fetched.title,
            "authors": list(fetched.authors),
            "published_at": fetched.published_at,
            "language": fetched.language,
            "text": fetched.text,
            "content_hash": fetched.content_hash,
            "extractor_version": fetched.extractor_version,
            "published_at_source": fetched.published_at_source,
            "access": fetched.access,
            "raw_html": _compressed_raw(fetched),
            "raw_encoding": fetched.raw_encoding,
            "fetched_at": fetched.fetched_at,
            "crawl_run_id": fetched.crawl_run_id,
            "warc_file": fetched.warc_file,
            "warc_offset": fetched.warc_offset,
        },
    )
    root = elect_representative(session, cluster) if cluster is not None else None
    # An exact copy's bands are its original's: indexing them again would only
    # lengthen every later look-up's candidate list. A root keeps its own, so the
    # cluster stays findable whatever becomes of the copy that carried them.
    index_article(
        session,
        article_id,
        [] if exact and root != article_id else keys,
        replace=outcome is not Outcome.NEW,  # a new article has no band rows yet
    )
    if outcome is Outcome.NEW and joined:
        return Outcome.DUPLICATE
    return outcome


def _compressed_raw(fetched: FetchedArticle) -> bytes | None:
    # A response archived in a WARC file is kept there; the zlib copy is for the rest.
    if fetched.raw_html is None or fetched.warc_file is not None:
        return None
    return zlib.compress(fetched.raw_html, 6)


PAYWALLED = "paywalled"
# Lines a teaser may add after the story's opening: the call to subscribe, a
# "log in" line. More than this and it is another text, not a teaser.
_TEASER_EXTRA_LINES = 2


def is_teaser_of(teaser: str, full: str) -> bool:
    """Whether ``teaser`` is ``full`` cut short (what a paywall serves in its place).

    Its lines, but for up to two of its own at the end (the paywall's call to
    subscribe), are lines of ``full`` in the same order, the opening usually; its
    last shared line may be cut mid-paragraph. It must be shorter than ``full``.
    Compared after normalisation, so spacing, punctuation and case do not matter.
    """
    kept = [normalised_text(line) for line in teaser.splitlines() if line.strip()]
    story = [normalised_text(line) for line in full.splitlines() if line.strip()]
    if not kept or sum(map(len, kept)) >= sum(map(len, story)):
        return False
    for extra in range(min(_TEASER_EXTRA_LINES, len(kept) - 1) + 1):
        if extra and kept[-extra] in story:
            break  # a line of the story is not the paywall's own
        *whole, last = kept[: len(kept) - extra]
        rest = iter(story)
        # ``in`` on the iterator consumes it: each line must come after the one before.
        if (
            last
            and all(line in rest for line in whole)
            and any(later.startswith(last) for later in rest)
        ):
            return True
    return False


def raw_html(version: ArticleVersion) -> bytes | None:
    """The response body of a version exactly as it was served."""
    return zlib.decompress(version.raw_html) if version.raw_html is not None else None


EXPORT_FIELDS = (
    "id",
    "source",
    "url",
    "canonical_url",
    "title",
    "authors",
    "published_at",
    "language",
    "text",
    "content_hash",
    "duplicate_of",
    "version",
    "fetched_at",
    "removed_at",
    "published_at_source",
    "access",
)


EXPORT_COLUMNS = (
    Article.id,
    Source.name.label("source"),
    ArticleVersion.url,
    Article.canonical_url,
    ArticleVersion.title,
    ArticleVersion.authors,
    ArticleVersion.published_at,
    ArticleVersion.language,
    ArticleVersion.text,
    ArticleVersion.content_hash,
    Article.duplicate_of,
    ArticleVersion.version,
    ArticleVersion.fetched_at,
    Article.removed_at,
    ArticleVersion.published_at_source,
    ArticleVersion.access,
)
"""The columns of an export record, in EXPORT_FIELDS order (joined over articles,
article_versions and sources). Columns, not entities: the compressed raw HTML must
not be loaded, and no identity map grows while a caller streams."""


def _export_query(
    source: str | None, since: datetime | None, all_versions: bool, access: str | None = None
) -> Select[Any]:
    stmt = (
        select(*EXPORT_COLUMNS)
        .join(ArticleVersion, ArticleVersion.article_id == Article.id)
        .join(Source, Source.id == Article.source_id)
    )
    if not all_versions:
        stmt = stmt.where(latest_version())
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if since is not None:
        stmt = stmt.where(ArticleVersion.fetched_at >= since)
    if access is not None:
        stmt = stmt.where(ArticleVersion.access == access)
    return stmt.order_by(Article.id, ArticleVersion.version)


def iter_articles(
    session: Session,
    *,
    source: str | None = None,
    since: datetime | None = None,
    all_versions: bool = False,
    access: str | None = None,
    batch_size: int = 500,
) -> Iterator[dict[str, Any]]:
    """Articles as export records (keys: EXPORT_FIELDS), streamed in constant memory.

    Only each article's latest version unless ``all_versions``; ``since`` keeps
    versions fetched at or after that time; ``access`` (``free``, ``paywalled``,
    ``unknown``) keeps versions with that access.
    """
    stmt = _export_query(source, since, all_versions, access).execution_options(
        yield_per=batch_size
    )
    for row in session.execute(stmt):
        record = dict(row._mapping)
        record["authors"] = list(record["authors"] or [])
        yield record
