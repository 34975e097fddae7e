"""Per-file progress of ``newsarchive import`` (table ``import_files``), and imported sources.

A file's row says how far its import got: ``resume_offset`` is the offset of
the first record not yet fully imported. It is written only after every record
before it was stored (each article is its own committed transaction), so a
kill at any moment leaves a row that is behind, never ahead: resuming there
replays at most a few records, which storing finds unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from .engine import write_session
from .models import ImportFile, Source, utcnow
from .upsert import insert_or_ignore

RUNNING = "running"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class ImportFileState:
    """Where an import of one file stands."""

    id: int
    location: str
    status: str
    resume_offset: int
    records: int
    articles: int
    errors: int
    size: int | None = None
    finished_at: datetime | None = None


def _state(row: ImportFile) -> ImportFileState:
    return ImportFileState(
        id=row.id,
        location=row.location,
        status=row.status,
        resume_offset=row.resume_offset,
        records=row.records,
        articles=row.articles,
        errors=row.errors,
        size=row.size,
        finished_at=row.finished_at,
    )


def begin_file(engine: Engine, location: str, size: int | None) -> ImportFileState:
    """The file's row, created at offset 0 on its first import; a failed one is retried."""
    with write_session(engine) as session:
        insert_or_ignore(
            session,
            ImportFile,
            {"location": location, "size": size, "status": RUNNING, "started_at": utcnow()},
            ["location"],
        )
        row = session.execute(
            select(ImportFile).where(ImportFile.location == location).with_for_update()
        ).scalar_one()
        if row.status == FAILED:
            row.status = RUNNING
            row.finished_at = None
        if size is not None:
            row.size = size
        return _state(row)


def record_progress(
    engine: Engine,
    file_id: int,
    *,
    resume_offset: int,
    records: int,
    articles: int,
    errors: int,
) -> None:
    """Everything before ``resume_offset`` is stored: the counters are totals for the file."""
    with write_session(engine) as session:
        session.execute(
            update(ImportFile)
            .where(ImportFile.id == file_id)
            .values(resume_offset=resume_offset, records=records, articles=articles, errors=errors)
        )


def finish_file(engine: Engine, file_id: int, status: str) -> None:
    with write_session(engine) as session:
        session.execute(
            update(ImportFile)
            .where(ImportFile.id == file_id)
            .values(status=status, finished_at=utcnow())
        )


def import_files(session: Session) -> list[ImportFileState]:
    """Every file an import met, in the order first met."""
    return [_state(row) for row in session.scalars(select(ImportFile).order_by(ImportFile.id))]


def ensure_imported_source(engine: Engine, name: str) -> None:
    """The source row for an imported host no configured source covers, marked ``imported``.

    A row that exists already (a configured source, or an earlier import) is left as it is.
    """
    with write_session(engine) as session:
        insert_or_ignore(
            session, Source, {"name": name, "created_at": utcnow(), "imported": True}, ["name"]
        )
