"""The ``workers`` table: each worker's row, refreshed while it runs, read by ``status``."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from newsarchive.storage.engine import read_session, write_session
from newsarchive.storage.models import Worker, utcnow

logger = logging.getLogger(__name__)

# `status` lists the workers seen within this.
RECENT = timedelta(hours=1)


@dataclass(frozen=True)
class WorkerRecord:
    name: str
    hostname: str
    pid: int
    queue: str
    started_at: datetime
    last_seen_at: datetime


def record_heartbeat(
    engine: Engine, name: str, queue: str, *, started_at: datetime | None = None
) -> None:
    """Insert or refresh ``name``'s row; ``started_at`` given when the worker (re)starts."""
    now = utcnow()
    values = {
        "name": name,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "queue": queue,
        "started_at": started_at or now,
        "last_seen_at": now,
    }
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Worker).values(**values)
    refreshed = {k: v for k, v in values.items() if k != "name"}
    if started_at is None:  # a beat, not a (re)start: the row keeps when the worker started
        del refreshed["started_at"]
    stmt = stmt.on_conflict_do_update(index_elements=[Worker.name], set_=refreshed)
    with write_session(engine) as session:
        session.execute(stmt)


def recent_workers(engine: Engine, now: datetime | None = None) -> list[WorkerRecord]:
    """Workers seen in the last hour, most recently seen first."""
    since = (now or utcnow()) - RECENT
    stmt = select(Worker).where(Worker.last_seen_at >= since).order_by(Worker.last_seen_at.desc())
    with read_session(engine) as session:
        return [
            WorkerRecord(
                name=w.name,
                hostname=w.hostname,
                pid=w.pid,
                queue=w.queue,
                started_at=w.started_at,
                last_seen_at=w.last_seen_at,
            )
            for w in session.scalars(stmt)
        ]


class Heartbeat:
    """A thread refreshing the worker's row every ``interval`` seconds until stopped."""

    def __init__(self, engine: Engine, name: str, queue: str, interval: float) -> None:
        self.engine = engine
        self.name = name
        self.queue = queue
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> None:
        record_heartbeat(self.engine, self.name, self.queue, started_at=utcnow())
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                record_heartbeat(self.engine, self.name, self.queue)
            except SQLAlchemyError as exc:
                # A database restart must not stop the worker; the next beat retries.
                logger.warning("worker %s: heartbeat not recorded: %s", self.name, exc)

    def stop(self) -> None:
        self._stop.set()
