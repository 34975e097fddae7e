"""A small archive with known search answers, in English, Chinese and Japanese (test helper).

Stored through ``storage.save_article`` like a crawl would, so the search index
is filled by the same triggers as in production.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Engine

from newsarchive.storage import FetchedArticle, save_article, write_session

BASE = "http://corpus.test"


def _day(day: int) -> datetime:
    return datetime(2024, 6, day, 9, 0, tzinfo=UTC)


# (key, source, path, language, published day, title, text)
STORIES = [
    ("bridge", "harbour", "/bridge", "en", 3,
     "Swing bridge over Kestrel Harbour reopens",
     "The swing bridge reopened on Monday after eight months of repairs.\n"
     "Harbour traffic can pass again when the bridge turns."),
    ("mackerel", "harbour", "/mackerel", "en", 4,
     "Fish market traders warn of rising prices",
     "At the Tuesday auction a box of mackerel sold for 38 pounds.\n"
     "Traders blame smaller catches."),
    ("seawall", "harbour", "/seawall", "en", 5,
     "Council approves seawall plan for the Esplanade",
     "Work starts in September; the old bridge near the pier stays open.\n"
     "The plan was approved by nine votes to two."),
    ("trade_talks", "xinhua", "/trade", "zh", 6,
     "中美贸易谈判取得新进展",
     "双方代表在北京举行新一轮贸易谈判，就关税问题交换了意见。\n谈判将于下月继续进行。"),
    ("metro", "xinhua", "/metro", "zh", 7,
     "滨海新城地铁三号线今日开通",
     "首班列车于早上六点整从海港站驶出，车厢内坐满了前来体验的市民。"),
    ("fishermen", "xinhua", "/fishermen", "zh", 8,
     "海湾渔民合作社推出线上直销平台",
     "合作社与物流公司经过多次谈判，终于签下冷链运输合同。"),
    ("morning_market", "nhk", "/asaichi", "ja", 9,
     "港町の朝市、五十年の歴史に幕",
     "最後の日には、開店前から千人を超える客が岸壁に列を作った。朝市は名物だった。"),
]  # fmt: skip

# A wire copy of the mackerel story: an exact duplicate, hidden from search by default.
COPY = ("mackerel_copy", "wire", "/wire/mackerel")
# A story whose first version said "zeppelin" and whose latest says "airship".
EDITED = ("edited", "harbour", "/airship", "en", 10, "Visitor over the bay")
EDITED_TEXTS = (
    "A zeppelin was seen drifting over the bay on Sunday evening.",
    "An airship was seen drifting over the bay on Sunday evening, the coastguard said.",
)


def fetched(
    source: str,
    path: str,
    text: str,
    *,
    title: str | None = None,
    language: str | None = None,
    published_day: int | None = None,
    fetched_at: datetime | None = None,
) -> FetchedArticle:
    return FetchedArticle(
        source=source,
        url=BASE + path,
        canonical_url=BASE + path,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        title=title,
        language=language,
        published_at=_day(published_day) if published_day else None,
        raw_html=f"<html><title>{title}</title><p>{text}</p></html>".encode(),
        fetched_at=fetched_at or _day(published_day or 1),
    )


def build_corpus(engine: Engine) -> dict[str, int]:
    """Store the corpus; returns story key → article id."""
    from sqlalchemy import select

    from newsarchive.storage.models import Article

    with write_session(engine) as session:
        for _key, source, path, language, day, title, text in STORIES:
            save_article(
                session,
                fetched(source, path, text, title=title, language=language, published_day=day),
            )
        mackerel = STORIES[1]
        save_article(
            session,
            fetched(
                COPY[1], COPY[2], mackerel[6], title=mackerel[5], language="en", published_day=4
            ),
        )
        _key, source, path, language, day, title = EDITED
        for n, text in enumerate(EDITED_TEXTS):
            save_article(
                session,
                fetched(
                    source,
                    path,
                    text,
                    title=title,
                    language=language,
                    published_day=day,
                    fetched_at=_day(day + n),
                ),
            )
        ids = dict(session.execute(select(Article.url, Article.id)).all())
    keys = {k: ids[BASE + p] for k, _, p, *_ in STORIES}
    keys[COPY[0]] = ids[BASE + COPY[2]]
    keys[EDITED[0]] = ids[BASE + EDITED[2]]
    return keys
