"""WARC files and WACZ packages built for the import tests, with warcio (test helper).

Each story page is written here, in the encoding its record declares (or
does not), so the tests know exactly which bytes ``raw`` must return.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PARAGRAPHS = [
    "The harbour authority confirmed on {day} that the {thing} will be rebuilt before winter, "
    "after engineers found cracks in the old structure during a routine inspection last month.",
    "Residents of the {place} district said the works had been expected for years, and several "
    "shop owners told reporters they welcomed the decision despite the noise it would bring.",
    "The council will publish the timetable for the {thing} next week; funding comes from the "
    "regional budget and a grant that was approved by a large majority in the spring session.",
]


def story_html(
    n: int, *, title: str | None = None, charset: str = "utf-8", meta: bool = True
) -> str:
    """A news story page that extraction keeps: headline, date, three paragraphs."""
    words = {"day": f"Monday {n}", "thing": f"pier number {n}", "place": f"Quay {n}"}
    title = title or f"Pier {n} to be rebuilt before winter"
    body = "".join(f"<p>{p.format(**words)}</p>" for p in PARAGRAPHS)
    head = f'<meta charset="{charset}">' if meta else ""
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
    import base64

    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def write_warc(path: Path, captures: list[Capture], *, gzipped: bool = True) -> list[int]:
    """Write ``captures`` (a warcinfo record first); returns each capture's record offset."""
    offsets = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzipped, warc_version="1.1")
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


def gunzip_members(data: bytes) -> bytes:
    return gzip.decompress(data)
