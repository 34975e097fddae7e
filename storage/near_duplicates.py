"""Near-duplicate links through LSH bands persisted in ``article_bands``.

An article's MinHash signature is cut into bands (see ``newsarchive.similarity``);
each band's key is a row here, in the same transaction as the article, so every
process writing the database sees every other's articles and a crash never
leaves an article half-indexed. A look-up reads only the rows of the new
article's own band keys through the primary key, so its cost depends on how many
articles resemble it, not on how many are stored.

A cluster (exact and near copies alike) is a root, ``duplicate_of`` NULL, and
members pointing straight at it: never chains. The root is the cluster's
representative, the member a reader wants to find: the earliest published (by its
latest version; members without a date after dated ones), then the earliest seen,
then the lowest id. A fetch of a better member re-points the whole cluster in
the writer's transaction (:func:`elect_representative`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from newsarchive.similarity import band_keys, estimated_jaccard

from .models import Article, ArticleBand, ArticleVersion, Source, latest_version

# Articles sharing the most bands are checked first; past this many the rest
# are copies of copies, whose cluster root is already among the first.
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class NearDuplicate:
    """The cluster an article belongs to: its root (representative) and the similarity."""

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


def content_lock_key(content_hash: str) -> int:
    """An advisory lock key for a text hash: serialises writers of exact copies that have
    no signature (too short) and so no band keys to lock."""
    return int.from_bytes(hashlib.sha256(content_hash.encode()).digest()[:8], "big", signed=True)


def representative_order(
    article: type[Article] | AliasedClass[Article] = Article,
    version: type[ArticleVersion] | AliasedClass[ArticleVersion] = ArticleVersion,
) -> list[ColumnElement[Any]]:
    """ORDER BY terms that put a cluster's representative first (see the module docstring);
    ``version`` must be joined as ``article``'s latest."""
    return [
        version.published_at.is_(None),
        version.published_at.asc(),
        article.first_seen_at.asc(),
        article.id.asc(),
    ]


def best_ranked(session: Session, among: ColumnElement[bool]) -> int | None:
    """The id of the article that should represent the articles matching ``among``."""
    return session.execute(
        select(Article.id)
        .join(ArticleVersion, latest_version())
        .where(among)
        .order_by(*representative_order())
        .limit(1)
    ).scalar_one_or_none()


# Links are never chains, so a root found through a copy is at most one hop away;
# more hops than this means the data is corrupt, not that the walk is long.
MAX_ROOT_HOPS = 8


def lock_root(session: Session, article_id: int) -> int:
    """The root of ``article_id``'s cluster, its row locked until this transaction ends.

    On PostgreSQL a concurrent writer re-pointing the cluster holds that row; waiting
    for it and re-reading means a new member never links to a root that just
    became a copy. (SQLite writers are serialised already.)
    """
    current = article_id
    for _ in range(MAX_ROOT_HOPS):
        parent = session.execute(
            select(Article.duplicate_of).where(Article.id == current).with_for_update()
        ).scalar_one()
        if parent is None:
            return current
        current = parent
    raise RuntimeError(f"duplicate_of of article {article_id} loops or chains too deep")


def elect_representative(session: Session, root_id: int) -> int:
    """Make the best-ranked member of ``root_id``'s cluster its root; returns that member's id.

    Every other member (the old root included) is pointed straight at it, so the
    cluster is left with one root and no chain. Call with the root
    locked (:func:`lock_root`) and the members' latest versions flushed.
    """
    members = or_(Article.id == root_id, Article.duplicate_of == root_id)
    best = best_ranked(session, members)
    if best is None or best == root_id:
        return root_id
    session.execute(update(Article).where(members, Article.id != best).values(duplicate_of=best))
    session.execute(update(Article).where(Article.id == best).values(duplicate_of=None))
    return best


_BANDS = ArticleBand.__table__
_DROP_BANDS = _BANDS.delete().where(_BANDS.c.article_id == bindparam("article_id"))
_ADD_BANDS = _BANDS.insert()
# Built once, with parameters (``keys`` expands to the list): building the
# statement for every story cost more than running it.
_shared = (
    select(ArticleBand.article_id, func.count().label("bands"))
    .where(
        ArticleBand.band_key.in_(bindparam("keys", expanding=True)),
        ArticleBand.article_id != bindparam("article_id"),
    )
    .group_by(ArticleBand.article_id)
    .order_by(func.count().desc(), ArticleBand.article_id)
    .limit(MAX_CANDIDATES)
    .subquery()
)
_CANDIDATES = select(Article.id, Article.duplicate_of, Article.minhash).join(
    _shared, _shared.c.article_id == Article.id
)


def find_near_duplicate(
    session: Session, article_id: int, signature: bytes, keys: list[int], threshold: float
) -> NearDuplicate | None:
    """The best-ranked cluster root (see :func:`representative_order`) among stored articles
    whose estimated Jaccard similarity to ``signature`` is at least ``threshold``; None
    when there is none.

    Articles in ``article_id``'s own cluster are ignored, so a story never links to
    itself or to its own copies.
    """
    candidates = session.execute(_CANDIDATES, {"keys": list(keys), "article_id": article_id}).all()
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
    root_id = best_ranked(session, Article.id.in_(list(roots)))
    if root_id is None:
        return None
    return NearDuplicate(root_id, roots[root_id])


def index_article(
    session: Session, article_id: int, keys: list[int], *, replace: bool = True
) -> None:
    """Make ``keys`` the article's band rows, replacing those of an earlier version unless
    ``replace`` is False (the article has none)."""
    # The table's statements, built once: the mapped class's take the ORM's bulk path.
    if replace:
        session.execute(_DROP_BANDS, {"article_id": article_id})
    if keys:
        session.execute(_ADD_BANDS, [{"band_key": k, "article_id": article_id} for k in set(keys)])


def signature_band_keys(signature: bytes | None) -> list[int]:
    return band_keys(signature) if signature is not None else []


@dataclass(frozen=True)
class ClusterMember:
    """An article in a duplicate cluster, as ``newsarchive duplicates`` lists it."""

    cluster: int
    """The id of the cluster's root: its representative (earliest-published) article."""
    id: int
    similarity: float | None
    """Estimated Jaccard similarity to the root (1.0 for the root itself); None when
    either text was too short to sign."""
    exact: bool
    """True when the text is identical to the root's."""
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
        .join(latest, latest_version(Article, latest))
    )
    if root_ids is None:
        has_copies = select(Article.duplicate_of).where(Article.duplicate_of.is_not(None))
        stmt = stmt.where(cluster.in_(has_copies))
    else:
        stmt = stmt.where(cluster.in_(root_ids))
    # The root first, then the copies in the order they would succeed it.
    ranking = representative_order(Article, latest)
    return stmt.order_by(cluster, Article.duplicate_of.is_not(None), *ranking)


def iter_clusters(session: Session, article_id: int | None = None) -> Iterator[ClusterMember]:
    """Every duplicate cluster (its root, the representative, first; then its copies, best
    ranked first), or only ``article_id``'s.

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
