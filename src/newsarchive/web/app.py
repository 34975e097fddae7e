"""The web UI's application: FastAPI, read-only archive, pages, API, static CSS, token check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from newsarchive import __version__
from newsarchive.config import Config
from newsarchive.storage import Archive

from . import api, pages
from .database import open_read_only
from .security import LOOPBACK_NAMES, TokenMiddleware, host_header_name

_PACKAGE = files("newsarchive.web")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _templates() -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(str(_PACKAGE / "templates")),
        # Every .html template escapes what it prints: archived titles and texts are text.
        autoescape=select_autoescape(["html"], default_for_string=True),
    )
    environment.filters["when"] = _when
    environment.globals["version"] = __version__
    return Jinja2Templates(env=environment)


def create_app(config: Config, engine: Engine | None = None) -> FastAPI:
    """The web UI over the archive ``config`` names, opened read-only (or over ``engine``).

    With ``[serve] token`` set every request must carry it (see :mod:`.security`).
    """
    own_engine = engine is None
    engine = engine if engine is not None else open_read_only(config.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_engine:
            engine.dispose()

    app = FastAPI(
        title="newsarchive",
        version=__version__,
        description="Read-only access to a newsarchive archive: articles (export field "
        "names), versions, duplicates, takedowns, sources and runs.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not here
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.archive = Archive(engine, config.warc_dir)
    app.state.templates = _templates()
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(_PACKAGE / "static")), name="static")

    @app.exception_handler(HTTPException)
    async def _errors(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        return app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
        )

    if config.serve.token:
        app.add_middleware(TokenMiddleware, token=config.serve.token)
    else:
        # Without a token only loopback may connect, and only under a loopback name: a
        # web page whose host name is re-pointed at 127.0.0.1 (DNS rebinding) must not
        # read the archive through its visitor's browser.
        app.add_middleware(
            TrustedHostMiddleware,
            allowed_hosts=[*LOOPBACK_NAMES, host_header_name(config.serve.host)],
        )
    return app
