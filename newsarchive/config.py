"""The TOML configuration: read once, validated once, then passed around as typed objects.

A bad file raises :class:`ConfigError` whose message names the file, the key and
the problem, so the CLI can print it instead of a traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_CONFIG_PATH = Path("newsarchive.toml")
CONFIG_ENV = "NEWSARCHIVE_CONFIG"
DATABASE_URL_ENV = "NEWSARCHIVE_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///newsarchive.db"

_EVERY = re.compile(r"^@every\s+(\d+)\s*(s|m|h|d)$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(Exception):
    """The configuration cannot be used; the message is meant for the user as is."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def schedule_interval_seconds(schedule: str) -> int | None:
    """Seconds between runs for an ``@every <n><s|m|h|d>`` schedule, None for a cron line."""
    match = _EVERY.match(schedule.strip())
    if not match:
        return None
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


def validate_schedule(schedule: str) -> str:
    """Accept a 5-field cron expression or ``@every <duration>``; raise ValueError otherwise."""
    if schedule.strip().startswith("@every"):
        seconds = schedule_interval_seconds(schedule)
        if not seconds:
            raise ValueError(
                f"bad @every schedule {schedule!r} (expected e.g. '@every 90s', '@every 2h')"
            )
        return schedule
    if len(schedule.split()) != 5:
        raise ValueError(
            f"cron schedule {schedule!r} must have 5 fields (minute hour day month weekday)"
        )
    try:
        CronTrigger.from_crontab(schedule, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"bad cron schedule {schedule!r}: {exc}") from None
    return schedule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL


class CrawlConfig(_Strict):
    """Crawl-wide politeness and discovery settings."""

    contact_url: HttpUrl = "https://github.com/newsarchive/newsarchive"
    depth_limit: int = Field(default=2, ge=0, le=10)


class SourceConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    start_urls: list[HttpUrl] = []
    feeds: list[HttpUrl] = []
    sitemaps: list[HttpUrl] = []
    allowed_domains: list[str] = []
    schedule: str = "0 * * * *"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", domain):
                raise ValueError(f"not a domain name: {domain!r}")
        return [d.lower() for d in value]

    @model_validator(mode="after")
    def _has_entry_point(self) -> SourceConfig:
        if not (self.start_urls or self.feeds or self.sitemaps):
            raise ValueError("a source needs at least one of start_urls, feeds or sitemaps")
        return self

    @property
    def domains(self) -> list[str]:
        """The allowed domains, or the hosts of the source's own URLs when none are given."""
        if self.allowed_domains:
            return [d.split(":")[0] for d in self.allowed_domains]
        hosts = {urlsplit(u).hostname for u in [*self.start_urls, *self.feeds, *self.sitemaps]}
        return sorted(h for h in hosts if h)


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    scrapy: dict[str, Any] = {}
    sources: list[SourceConfig] = []
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return sources

    @property
    def database_url(self) -> str:
        """The database URL; the environment overrides the file so deployments need no edit."""
        return os.environ.get(DATABASE_URL_ENV) or self.database.url

    def select_sources(self, names: list[str] | None) -> list[SourceConfig]:
        """The named sources in config order (all when ``names`` is empty)."""
        if not names:
            return list(self.sources)
        known = {s.name for s in self.sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            defined = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{self.path}: unknown source(s) {', '.join(unknown)}; defined: {defined}"
            )
        return [s for s in self.sources if s.name in names]


def _location(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Render a pydantic error location like TOML keys: ``sources[1].start_urls[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not isinstance(part, str) or part.startswith(("function-", "list[")):
            continue
        else:
            out += f".{part}" if out else part
    # Name the source too: "sources[1]" alone makes the user count tables.
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            out += f" (source {data['sources'][loc[1]]['name']!r})"
    return out or "(top level)"


def parse_config(data: dict[str, Any], path: Path | str = "<config>") -> Config:
    """Validate a parsed TOML document; raise ConfigError naming the file, key and problem."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"{path}: {_location(err['loc'], data)}: {msg}")
        raise ConfigError("\n".join(lines)) from None
    return config.model_copy(update={"path": Path(path)})


def load_config(path: Path | str | None = None, *, required: bool = True) -> Config:
    """Load the config from ``path``, ``$NEWSARCHIVE_CONFIG`` or ``./newsarchive.toml``.

    With ``required=False`` a missing default file yields an empty config (commands
    that only read the database need no sources).
    """
    explicit = path is not None or CONFIG_ENV in os.environ
    cfg_path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)
    if not cfg_path.exists():
        if required or explicit:
            raise ConfigError(f"{cfg_path}: config file not found (use --config PATH)")
        return Config(path=cfg_path)
    try:
        data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot read: {exc}") from None
    return parse_config(data, cfg_path)
