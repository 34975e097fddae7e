"""A small archive for the web UI's tests, stored through the storage API like a crawl.

Chinese, Japanese and Korean stories, a story changed between two fetches (its
headline too), a wire copy (a duplicate cluster), a story taken down, a story
whose title and text carry ``<script>`` and event handlers, a crawl run, and a
WARC capture whose page has scripts and links to a "live site" (a loopback
server that counts what it is asked for).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from newsarchive.storage import FetchedArticle, save_article, write_session
from newsarchive.storage.models import Article, ArticleEvent, ArticleVersion
from newsarchive.storage.runs import RunCounters, finish_run, start_run
from newsarchive.storage.warc import WarcWriter

BASE = "http://news.test"
NOW = datetime.now(UTC).replace(microsecond=0)

TRADE_TITLE = "中美贸易谈判取得新进展"
TRADE_TEXT = "双方代表在北京举行新一轮贸易谈判，就关税问题交换了意见。\n谈判将于下月继续进行。"
JAPANESE = ("港町の朝市、五十年の歴史に幕", "最後の日には、開店前から千人を超える客が列を作った。")
KOREAN = ("항구 다리 다시 열려", "수리를 마친 다리가 월요일에 다시 열렸다.")
EDITED_TITLES = ("Visitor over the bay", "Airship over the bay")
EDITED_TEXTS = (
    "A zeppelin was seen drifting over the bay on Sunday evening.\nNobody knew whose it was.",
    "An airship was seen drifting over the bay on Sunday evening, the coastguard said.\n"
    "Nobody knew whose it was.",
)
HOSTILE_TITLE = '<script>window.__pwned = "title"; document.title = "pwned"</script>Tide alarm'
HOSTILE_TEXT = (
    "The tide alarm sounded twice. <img src=x onerror=\"window.__pwned = 'text'\">\n"
    "<script>window.__pwned = 'text script'</script> Residents stayed calm."
)
REMOVED = ("Minister resigns over harbour deal", "The minister resigned on Friday.\nHe denied it.")


def capture_html(live_site: str) -> bytes:
    """The archived page of the Chinese story: everything a hostile or ordinary page does to
    run code or reach the live site, around the story's own headline and text."""
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="gb18030">
<title>{TRADE_TITLE}</title>
<base href="{live_site}/base/">
<link rel="stylesheet" href="{live_site}/style.css">
<meta http-equiv="refresh" content="0; url={live_site}/refresh">
<style>body {{ background: url({live_site}/bg.png); }} @import url({live_site}/import.css);</style>
<script>window.__pwned = "capture script"; document.title = "pwned";</script>
<script src="{live_site}/app.js"></script>
</head><body onload="window.__pwned = 'onload'">
<h1 style="background-image: url({live_site}/h1.png)">{TRADE_TITLE}</h1>
<img src="{live_site}/photo.jpg" srcset="{live_site}/photo2.jpg 2x" alt="photo">
<img src="x" onerror="window.__pwned = 'onerror'">
<p>{TRADE_TEXT.splitlines()[0]}</p>
<p><a href="javascript:window.__pwned='link'">javascript link</a>
<a href="{live_site}/other-story">another story</a></p>
<iframe src="{live_site}/frame"></iframe>
<form action="{live_site}/subscribe"><input name="email"></form>
</body></html>""".encode("gb18030")


@dataclass(frozen=True)
class WebCorpus:
    trade: int
    trade_copy: int
    japanese: int
    korean: int
    edited: int
    hostile: int
    removed: int
    run_id: int


def _fetched(
    source: str, path: str, title: str, text: str, language: str, fetched_at: datetime, **kw: object
) -> FetchedArticle:
    return FetchedArticle(
        source=source,
        url=BASE + path,
        canonical_url=BASE + path,
        title=title,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        language=language,
        published_at=fetched_at - timedelta(hours=1),
        fetched_at=fetched_at,
        authors=["Li Wei"] if language == "zh" else [],
        **kw,  # type: ignore[arg-type]
    )


def build_web_corpus(engine: Engine, warc_dir: Path, live_site: str) -> WebCorpus:
    """Store the corpus (fetched over the last three days, so the dashboard has bars)."""
    writer = WarcWriter(warc_dir, max_size=10_000_000)
    location = writer.write_exchange(
        BASE + "/trade",
        method="GET",
        request_headers=[("User-Agent", "newsarchive-test")],
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html; charset=gb18030")],
        body=capture_html(live_site),
    )
    writer.close()
    run_id = start_run(engine, "xinhua")
    finish_run(engine, run_id, "ok", RunCounters(pages=3, new=2))
    day = timedelta(days=1)
    with write_session(engine) as session:
        save_article(
            session,
            _fetched(
                "xinhua", "/trade", TRADE_TITLE, TRADE_TEXT, "zh", NOW - 2 * day,
                warc_file=location.file, warc_offset=location.offset, raw_encoding="gb18030",
                crawl_run_id=run_id,
            ),
        )  # fmt: skip
        save_article(session, _fetched("wire", "/wire/trade", TRADE_TITLE, TRADE_TEXT, "zh", NOW))
        save_article(session, _fetched("nhk", "/asaichi", *JAPANESE, "ja", NOW - day))
        save_article(session, _fetched("yonhap", "/bridge", *KOREAN, "ko", NOW - day))
        for n, (title, text) in enumerate(zip(EDITED_TITLES, EDITED_TEXTS, strict=True)):
            save_article(
                session,
                _fetched(
                    "harbour", "/airship", title, text, "en", NOW - (2 - n) * day,
                    raw_html=f"<html><title>{title}</title><p>{text}</p></html>".encode(),
                ),
            )  # fmt: skip
        save_article(session, _fetched("harbour", "/tide", HOSTILE_TITLE, HOSTILE_TEXT, "en", NOW))
        save_article(session, _fetched("harbour", "/resigns", *REMOVED, "en", NOW - day))
        ids = dict(session.execute(select(Article.url, Article.id)).all())
        # Recorded by the crawl's extraction; FetchedArticle does not carry them yet.
        session.execute(
            update(ArticleVersion)
            .where(ArticleVersion.article_id == ids[BASE + "/trade"])
            .values(published_at_source="json-ld", access="paywalled")
        )
        # Takedown detection is the crawl's job; here its outcome is written as it records it.
        removed_id = ids[BASE + "/resigns"]
        session.execute(update(Article).where(Article.id == removed_id).values(removed_at=NOW))
        session.add(
            ArticleEvent(
                article_id=removed_id, kind="removed", at=NOW, url=BASE + "/resigns",
                http_status=410, detail="410",
            )
        )  # fmt: skip
    return WebCorpus(
        trade=ids[BASE + "/trade"],
        trade_copy=ids[BASE + "/wire/trade"],
        japanese=ids[BASE + "/asaichi"],
        korean=ids[BASE + "/bridge"],
        edited=ids[BASE + "/airship"],
        hostile=ids[BASE + "/tide"],
        removed=removed_id,
        run_id=run_id,
    )
