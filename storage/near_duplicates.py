"""Near-duplicate links through LSH bands persisted in ``article_bands``.

An article's MinHash signature is cut into bands (see ``newsarchive.similarity``);
each band's key is a row here, in the same transaction as the article, so every
process writing the database sees every other's articles and a crash never
leaves an article half-indexed. A look-up reads only the rows of the new
article's own band keys through the primary key, so its cost depends on how many
articles resemble it, not on how many are stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, text
from sqlalchemy.orm import Session, aliased

from newsarchive.similarity import band_keys, estimated_jaccard

from .models import Article, ArticleBand, ArticleVersion, Source

# Articles sharing the most bands are checked first; past this many the rest
# are copies of copies, whose cluster root is already among the first.
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class NearDuplicate:
    """The cluster an article belongs to: its root (earliest-seen member) and the similarity."""

    root_id: int
    similarity: float


def lock_bands(session: Session, keys: list[int]) -> None:
    """Serialise writers of articles that share a band key, until this transaction ends.

    On PostgreSQL two transactions storing copies of one story at once would
    each miss the other's uncommitted rows and both become originals. Advisory
    locks on the band keys, taken in sorted order (no deadlocks), make the second
    wait and then see the first. SQLite needs nothing: BEGIN IMMEDIATE already
    serialises writers.
    """
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS BIGINT[])) AS k"),
        {"keys": sorted(set(keys))},
    )


def find_near_duplicate(
    session: Session, article_id: int, signature: bytes, keys: list[int], threshold: float
) -> NearDuplicate | None:
    """The earliest-seen cluster root among stored articles whose estimated Jaccard
    similarity to ``signature`` is at least ``threshold``; None when there is none.

    Articles in ``article_id``'s own cluster are ignored, so a story never links to
    itself or to its own copies.
    """
    shared = (
        select(ArticleBand.article_id, func.count().label("bands"))
        .where(ArticleBand.band_key.in_(keys), ArticleBand.article_id != article_id)
        .group_by(ArticleBand.article_id)
        .order_by(func.count().desc(), ArticleBand.article_id)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    candidates = session.execute(
        select(Article.id, Article.duplicate_of, Article.minhash).join(
            shared, shared.c.article_id == Article.id
        )
    ).all()
    # Best similarity per cluster root; a copy vouches for its root.
    roots: dict[int, float] = {}
    for cand_id, duplicate_of, minhash in candidates:
        if minhash is None:
            continue
        root = duplicate_of or cand_id
        if root == article_id:
            continue
        similarity = estimated_jaccard(signature, minhash)
        if similarity >= threshold and similarity > roots.get(root, -1.0):
            roots[root] = similarity
    if not roots:
        return None
    first_seen = session.execute(
        select(Article.id, Article.first_seen_at).where(Article.id.in_(roots))
    ).all()
    root_id = min(first_seen, key=lambda row: (row.first_seen_at, row.id)).id
    return NearDuplicate(root_id, roots[root_id])


def index_article(session: Session, article_id: int, keys: list[int]) -> None:
    """Make ``keys`` the article's band rows (replacing those of an earlier version)."""
    session.execute(delete(ArticleBand).where(ArticleBand.article_id == article_id))
    if keys:
        session.execute(
            insert(ArticleBand), [{"band_key": k, "article_id": article_id} for k in set(keys)]
        )


def signature_band_keys(signature: bytes | None) -> list[int]:
    return band_keys(signature) if signature is not None else []


@dataclass(frozen=True)
class ClusterMember:
    """An article in a duplicate cluster, as ``newsarchive duplicates`` lists it."""

    cluster: int
    """The id of the cluster's original (earliest-seen) article."""
    id: int
    similarity: float | None
    """Estimated Jaccard similarity to the original (1.0 for the original itself); None when
    either text was too short to sign."""
    exact: bool
    """True when the text is identical to the original's."""
    source: str
    url: str
    title: str | None
    first_seen_at: datetime


def _members_query(root_ids: list[int] | None) -> Select[Any]:
    latest = aliased(ArticleVersion)
    cluster = func.coalesce(Article.duplicate_of, Article.id)
    stmt = (
        select(
            cluster.label("cluster"),
            Article.id,
            Article.minhash,
            Article.content_hash,
            Source.name,
            Article.url,
            latest.title,
            Article.first_seen_at,
        )
        .join(Source, Source.id == Article.source_id)
        .join(latest, (latest.article_id == Article.id) & (latest.version == Article.version))
    )
    if root_ids is None:
        has_copies = select(Article.duplicate_of).where(Article.duplicate_of.is_not(None))
        stmt = stmt.where(cluster.in_(has_copies))
    else:
        stmt = stmt.where(cluster.in_(root_ids))
    return stmt.order_by(cluster, Article.duplicate_of.is_not(None), Article.id)


def iter_clusters(session: Session, article_id: int | None = None) -> Iterator[ClusterMember]:
    """Every duplicate cluster (original first, then its copies), or only ``article_id``'s.

    Yields nothing for an article that is in no cluster; raises LookupError for an
    unknown id.
    """
    roots: list[int] | None = None
    if article_id is not None:
        row = session.execute(
            select(Article.id, Article.duplicate_of).where(Article.id == article_id)
        ).one_or_none()
        if row is None:
            raise LookupError(f"no article with id {article_id}")
        roots = [row.duplicate_of or row.id]
        copies = select(Article.id).where(Article.duplicate_of == roots[0]).limit(1)
        if row.duplicate_of is None and session.execute(copies).first() is None:
            return
    root_sig: tuple[int, bytes | None, str | None] | None = None
    rows = session.execute(_members_query(roots).execution_options(yield_per=500))
    for row in rows:
        if root_sig is None or root_sig[0] != row.cluster:
            root_sig = (row.cluster, row.minhash, row.content_hash)
        exact = row.content_hash == root_sig[2]
        if exact:
            similarity: float | None = 1.0
        elif row.minhash is not None and root_sig[1] is not None:
            similarity = estimated_jaccard(row.minhash, root_sig[1])
        else:
            similarity = None
        yield ClusterMember(
            cluster=row.cluster,
            id=row.id,
            similarity=similarity,
            exact=exact,
            source=row.name,
            url=row.url,
            title=row.title,
            first_seen_at=row.first_seen_at,
        )
