"""Run the web UI under uvicorn, after checking where it may listen."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

from newsarchive.config import Config, ServeConfig

from .database import SchemaMismatch
from .security import ListenRefused, check_listen

logger = logging.getLogger(__name__)


class ServeError(Exception):
    """The UI cannot start: a refused address, a bad --listen, an unready database."""


def serve(
    config: Config, *, listen: str | None = None, check_database: Callable[[], None] | None = None
) -> None:
    """Serve ``config``'s archive until SIGTERM/SIGINT (uvicorn's graceful shutdown).

    The address is judged first, then ``check_database`` (the CLI's, which reports a
    missing or unreachable database in its own way), then the schema.
    """
    from pydantic import ValidationError

    settings = config.serve
    if listen is not None:
        try:
            settings = ServeConfig(listen=listen, token=settings.token)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise ServeError(f"--listen: {problem}") from None
    try:
        check_listen(settings.host, settings.token)
    except ListenRefused as exc:
        raise ServeError(str(exc)) from None
    if check_database is not None:
        check_database()
    import uvicorn

    from .app import create_app

    try:
        app = create_app(config.model_copy(update={"serve": settings}))
    except (SchemaMismatch, ValueError) as exc:
        raise ServeError(str(exc)) from None
    logger.warning("serving the archive read-only on http://%s/", settings.listen)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the
    # handler it found; a no-op one makes a requested stop exit 0, like the daemon.
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        signal.signal(signal.SIGTERM, previous)
