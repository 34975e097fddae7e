"""The archives the import tests read: built once per test process with warcio."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.imports.warcs import Capture, story_html, write_wacz, write_warc

NEWS = "http://news.example.org"
OTHER = "http://www.other.test"
DAY = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
REVISIT_DAY = datetime(2024, 3, 9, 6, 30, tzinfo=UTC)


@dataclass
class Corpus:
    folder: Path
    mixed: Path
    """gzip: UTF-8, windows-1252 (header), Shift_JIS (meta only), a PNG, a 404, a revisit,
    and a truncated last record."""
    plain: Path
    """identity, WARC/1.0: two stories around a record whose header is mangled."""
    wacz: Path
    """a WACZ holding one gzip WARC with two stories."""
    bodies: dict[str, bytes] = field(default_factory=dict)
    """URL → the exact payload of every story that must be stored."""
    dates: dict[str, datetime] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)
    """URL → its response record's offset in its file."""

    @property
    def stories(self) -> set[str]:
        return set(self.bodies)


def _story(n: int, host: str = NEWS, **kwargs: object) -> Capture:
    return Capture(f"{host}/2024/story-{n}", story_html(n).encode(), **kwargs)  # type: ignore[arg-type]


def build_corpus(folder: Path) -> Corpus:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(folder, folder / "mixed.warc.gz", folder / "plain.warc", folder / "pack.wacz")
    accented = story_html(
        2, title="Café owners rejoice", lead="Déjà vu at the café: «naïve» prices."
    )
    japanese = story_html(
        3, title="港町の朝市", charset="shift_jis", lead="港町の朝市は五十年の歴史に幕を下ろした。"
    )
    mixed = [
        _story(1, date=DAY),
        Capture(
            f"{NEWS}/2024/story-2",
            accented.encode("cp1252"),
            "text/html; charset=windows-1252",
            date=DAY.replace(hour=13),
        ),
        Capture(f"{OTHER}/story-3", japanese.encode("shift_jis"), "text/html", date=DAY),
        Capture(f"{NEWS}/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
        Capture(f"{NEWS}/gone", story_html(90).encode(), status="404 Not Found"),
        _story(1, date=REVISIT_DAY, kind="revisit"),
        _story(4, date=DAY),
    ]
    offsets = write_warc(corpus.mixed, mixed)
    data = corpus.mixed.read_bytes()
    corpus.mixed.write_bytes(data[: offsets[-1] + (len(data) - offsets[-1]) // 2])
    plain = [_story(5), _story(50), _story(6)]
    plain_offsets = write_warc(corpus.plain, plain, gzipped=False, version="1.0")
    data = bytearray(corpus.plain.read_bytes())
    data[plain_offsets[1] : plain_offsets[1] + 8] = b"WARX/1.0"
    corpus.plain.write_bytes(bytes(data))
    packed = [_story(7), _story(8)]
    packed_warc = folder / "packed.warc.gz"
    packed_offsets = write_warc(packed_warc, packed)
    write_wacz(corpus.wacz, {"packed.warc.gz": packed_warc.read_bytes()})
    for capture, offset in [
        *zip(mixed[:3], offsets[:3], strict=True),
        (plain[0], plain_offsets[0]),
        (plain[2], plain_offsets[2]),
        *zip(packed, packed_offsets, strict=True),
    ]:
        corpus.bodies[capture.url] = capture.body
        corpus.dates[capture.url] = capture.date
        corpus.offsets[capture.url] = offset
    return corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("warcs"))


def archive_config(folder: Path, url: str | None = None) -> dict[str, object]:
    """A config whose one source covers news.example.org (other hosts are not covered)."""
    return {
        "database": {"url": url or f"sqlite:///{folder / 'archive.db'}"},
        "archive": {"warc_dir": str(folder / "warc")},
        "sources": [
            {
                "name": "harbour",
                "feeds": [f"{NEWS}/feed.xml"],
                "allowed_domains": ["example.org"],
            }
        ],
    }
