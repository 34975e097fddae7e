"""WARC files and WACZ packages built for the import tests, with warcio (test helper).

Each story page is written here, in the encoding its record declares (or
does not), so the tests know exactly which bytes ``raw`` must return.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

WORDS = (
    "harbour council ferry bridge market school river station library museum festival budget "
    "engineer teacher fisherman mayor nurse driver farmer baker student pilot judge captain "
    "rebuilt opened delayed approved rejected praised funded closed extended repaired moved "
    "winter spring summer autumn morning evening weekend holiday election storm flood drought "
    "north south east west old new small large quiet busy narrow wide historic modern local"
).split()


def story_text(n: int) -> list[str]:
    """Three paragraphs of story text, different for each ``n`` (no near-duplicates)."""
    rng = random.Random(n)
    return [" ".join(rng.choice(WORDS) for _ in range(30)).capitalize() + "." for _ in range(3)]


def story_html(
    n: int, *, title: str | None = None, charset: str | None = "utf-8", lead: str = ""
) -> str:
    """A news story page that extraction keeps: headline, date, byline, paragraphs."""
    title = title or f"Story {n}: the harbour decides"
    paragraphs = ([lead] if lead else []) + story_text(n)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title>"
        '<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="2024-03-{1 + n % 27:02d}T08:00:00Z">'
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
        f"<p class='byline'>By Ana Ruiz</p>{body}</article></body></html>"
    )


@dataclass
class Capture:
    url: str
    body: bytes
    content_type: str | None = "text/html; charset=utf-8"
    date: datetime = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
    kind: str = "response"
    status: str = "200 OK"


def payload_digest(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def write_warc(
    path: Path, captures: list[Capture], *, gzipped: bool = True, version: str = "1.1"
) -> list[int]:
    """Write ``captures`` (a warcinfo record first); returns each capture's record offset."""
    offsets = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzipped, warc_version=version)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for capture in captures:
            offsets.append(out.tell())
            headers = [("Content-Length", str(len(capture.body)))]
            if capture.content_type:
                headers.insert(0, ("Content-Type", capture.content_type))
            stamp = capture.date.strftime("%Y-%m-%dT%H:%M:%SZ")
            http = StatusAndHeaders(capture.status, headers, protocol="HTTP/1.1")
            if capture.kind == "revisit":
                record = writer.create_revisit_record(
                    capture.url,
                    digest=payload_digest(capture.body),
                    refers_to_uri=capture.url,
                    refers_to_date=stamp,
                    http_headers=http,
                )
                record.rec_headers.replace_header("WARC-Date", stamp)
            else:
                record = writer.create_warc_record(
                    capture.url,
                    "response",
                    payload=io.BytesIO(capture.body),
                    length=len(capture.body),
                    warc_headers_dict={"WARC-Date": stamp},
                    http_headers=http,
                )
            writer.write_record(record)
    return offsets


def write_wacz(path: Path, warcs: dict[str, bytes]) -> None:
    """A WACZ package by hand: ``archive/NAME`` per WARC, ``datapackage.json``, ``indexes/``."""
    resources = []
    with zipfile.ZipFile(path, "w") as package:
        for name, data in warcs.items():
            # Stored, as WACZ asks: the WARC's own gzip members stay seekable.
            package.writestr(zipfile.ZipInfo(f"archive/{name}"), data, zipfile.ZIP_STORED)
            resources.append(
                {
                    "name": name,
                    "path": f"archive/{name}",
                    "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
                    "bytes": len(data),
                }
            )
        package.writestr("indexes/index.cdx", "")
        package.writestr(
            "datapackage.json",
            json.dumps(
                {"profile": "data-package", "wacz_version": "1.1.1", "resources": resources}
            ),
        )
