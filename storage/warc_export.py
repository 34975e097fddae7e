"""Exporting the captures behind a selection of articles as a WARC file or a WACZ package.

Each selected version's response record is copied from where the archive keeps
it (a crawl's WARC file, or the original file an import points at) with its
headers and digests as they were; a version kept only in the database's zlib
column gets a ``response`` record written from it. The result is a standalone
``.warc.gz`` (one gzip member per record, a ``warcinfo`` first), or a WACZ 1.1.1
package around it (``archive/data.warc.gz``, a CDXJ index, ``pages/pages.jsonl``
and ``datapackage.json`` with each file's SHA-256) that replay tools open.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsarchive import __version__

from .models import Article, ArticleVersion, Source, latest_version
from .raw import record_location
from .search import search_articles
from .warc_sources import open_location

logger = logging.getLogger(__name__)

WACZ_VERSION = "1.1.1"
WARC_NAME = "data.warc.gz"
SEARCH_LIMIT = 10_000_000


@dataclass(frozen=True)
class Selection:
    """Which articles' captures to export (latest versions unless ``all_versions``)."""

    source: str | None = None
    since: datetime | None = None
    """Versions fetched at or after this time."""
    until: datetime | None = None
    """Versions fetched before this time."""
    query: str | None = None
    """Only articles a full-text search for this finds (copies included)."""
    all_versions: bool = False


@dataclass(frozen=True)
class ExportReport:
    records: int
    """Response records written."""
    missing: int
    """Selected versions whose response could not be read (logged): not in the export."""


@dataclass(frozen=True)
class _Written:
    url: str
    date: datetime
    title: str | None
    offset: int
    length: int
    status: str
    mime: str | None
    digest: str | None


def _versions(session: Session, selection: Selection) -> Iterator[ArticleVersion]:
    stmt = (
        select(ArticleVersion.id)
        .join(Article, Article.id == ArticleVersion.article_id)
        .join(Source, Source.id == Article.source_id)
        .order_by(Article.id, ArticleVersion.version)
    )
    if not selection.all_versions:
        stmt = stmt.where(latest_version())
    if selection.source is not None:
        stmt = stmt.where(Source.name == selection.source)
    if selection.since is not None:
        stmt = stmt.where(ArticleVersion.fetched_at >= selection.since)
    if selection.until is not None:
        stmt = stmt.where(ArticleVersion.fetched_at < selection.until)
    if selection.query is not None:
        hits = search_articles(
            session, selection.query, limit=SEARCH_LIMIT, include_duplicates=True
        )
        stmt = stmt.where(Article.id.in_([hit.article_id for hit in hits]))
    for version_id in list(session.scalars(stmt)):
        version = session.get(ArticleVersion, version_id)
        assert version is not None
        yield version
        session.expunge_all()  # flat memory over a large selection


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _copy_record(writer: WARCWriter, stream: IO[bytes], offset: int) -> dict[str, Any]:
    stream.seek(offset)
    record = next(iter(ArchiveIterator(stream)), None)
    if record is None or record.rec_type != "response":
        raise LookupError(f"no response record at offset {offset}")
    info = {
        "url": record.rec_headers.get_header("WARC-Target-URI"),
        "status": record.http_headers.get_statuscode() if record.http_headers else "200",
        "mime": record.http_headers.get_header("Content-Type") if record.http_headers else None,
        "digest": record.rec_headers.get_header("WARC-Payload-Digest"),
    }
    writer.write_record(record)  # headers, HTTP head and block as they were
    return info


def _new_record(writer: WARCWriter, version: ArticleVersion) -> dict[str, Any]:
    assert version.raw_html is not None
    body = zlib.decompress(version.raw_html)
    mime = "text/html" + (f"; charset={version.raw_encoding}" if version.raw_encoding else "")
    http = StatusAndHeaders(
        "200 OK",
        [("Content-Type", mime), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )
    record = writer.create_warc_record(
        version.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        warc_headers_dict={"WARC-Date": _stamp(version.fetched_at)},
        http_headers=http,
    )
    writer.write_record(record)
    return {
        "url": version.url,
        "status": "200",
        "mime": mime,
        "digest": record.rec_headers.get_header("WARC-Payload-Digest"),
    }


def write_warc(
    session: Session, out: IO[bytes], selection: Selection, warc_dir: Path | None
) -> tuple[ExportReport, list[_Written]]:
    """The selected versions' response records as one ``.warc.gz`` stream on ``out``."""
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    info = {"software": f"newsarchive/{__version__}", "format": "WARC File Format 1.1"}
    writer.write_record(writer.create_warcinfo_record(WARC_NAME, info))
    written: list[_Written] = []
    missing = 0
    for version in _versions(session, selection):
        offset = out.tell()
        try:
            if version.warc_file is not None and version.warc_offset is not None:
                location = record_location(session, version.warc_file, warc_dir)
                if location is None:
                    raise LookupError(f"{version.warc_file}: no WARC folder configured")
                with open_location(location) as stream:
                    fields = _copy_record(writer, stream, version.warc_offset)
            elif version.raw_html is not None:
                fields = _new_record(writer, version)
            else:
                raise LookupError("no response kept")
        except (LookupError, OSError) as exc:
            out.seek(offset)
            out.truncate()
            missing += 1
            logger.warning(
                "article %d version %d not exported: %s", version.article_id, version.version, exc
            )
            continue
        written.append(
            _Written(
                url=fields["url"] or version.url,
                date=version.fetched_at,
                title=version.title,
                offset=offset,
                length=out.tell() - offset,
                status=str(fields["status"]),
                mime=fields["mime"],
                digest=fields["digest"],
            )
        )
    return ExportReport(records=len(written), missing=missing), written


def surt(url: str) -> str:
    """The SURT form CDXJ indexes sort by: ``org,example,news)/path?query``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    reversed_host = ",".join(reversed(host.split(".")))
    if parts.port and parts.port not in (80, 443):
        reversed_host += f":{parts.port}"
    path = (parts.path or "/").lower()
    return f"{reversed_host}){path}" + (f"?{parts.query.lower()}" if parts.query else "")


def _cdxj(written: list[_Written]) -> bytes:
    lines = []
    for w in written:
        fields = {
            "url": w.url,
            "mime": (w.mime or "").split(";")[0].strip() or "unk",
            "status": w.status,
            "digest": w.digest,
            "length": str(w.length),
            "offset": str(w.offset),
            "filename": WARC_NAME,
        }
        stamp = w.date.astimezone(UTC).strftime("%Y%m%d%H%M%S")
        lines.append(f"{surt(w.url)} {stamp} {json.dumps(fields)}")
    return "".join(line + "\n" for line in sorted(lines)).encode()


def _pages(written: list[_Written]) -> bytes:
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}]
    lines += [{"url": w.url, "ts": _stamp(w.date), "title": w.title} for w in written]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_captures(
    session: Session, output: Path, fmt: str, selection: Selection, warc_dir: Path | None
) -> ExportReport:
    """Write the selection's captures to ``output`` as ``warc`` or ``wacz``.

    Written beside ``output`` and renamed into place, so a failed or killed export
    never leaves a torn package under the name asked for.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".export-") as work:
        warc = Path(work) / WARC_NAME
        with open(warc, "w+b") as out:
            report, written = write_warc(session, out, selection, warc_dir)
        if fmt == "warc":
            os.replace(warc, output)
            return report
        package = Path(work) / "package.wacz"
        files = {"indexes/index.cdxj": _cdxj(written), "pages/pages.jsonl": _pages(written)}
        resources = [
            {
                "name": WARC_NAME,
                "path": f"archive/{WARC_NAME}",
                "hash": f"sha256:{_sha256_file(warc)}",
                "bytes": warc.stat().st_size,
            }
        ]
        for path, data in files.items():
            resources.append(
                {
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "hash": f"sha256:{hashlib.sha256(data).hexdigest()}",
                    "bytes": len(data),
                }
            )
        datapackage = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "software": f"newsarchive/{__version__}",
            "created": _stamp(datetime.now(UTC)),
            "resources": resources,
        }
        with zipfile.ZipFile(package, "w") as wacz:
            # Stored, not deflated: replay tools seek to a record's offset inside the WARC.
            wacz.write(warc, f"archive/{WARC_NAME}", compress_type=zipfile.ZIP_STORED)
            for path, data in files.items():
                wacz.writestr(path, data, compress_type=zipfile.ZIP_DEFLATED)
            wacz.writestr("datapackage.json", json.dumps(datapackage, indent=2))
        os.replace(package, output)
        return report
