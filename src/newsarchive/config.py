"""The TOML configuration: read once, validated once, then passed around as typed objects.

A bad file raises :class:`ConfigError` whose message names the file, the key and
the problem, so the CLI can print it instead of a traceback.
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .scheduler.cron import crontab_trigger
from .similarity import DEFAULT_NEAR_DUPLICATE_THRESHOLD

DEFAULT_CONFIG_PATH = Path("newsarchive.toml")
CONFIG_ENV = "NEWSARCHIVE_CONFIG"
DATABASE_URL_ENV = "NEWSARCHIVE_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///newsarchive.db"

_EVERY = re.compile(r"^@every\s+(\d+)\s*(s|m|h|d)$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")


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
        crontab_trigger(schedule, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"bad cron schedule {schedule!r}: {exc}") from None
    return schedule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL


# sqlite:///PATH (any driver) with a relative PATH; not :memory:, a file: URI or sqlite://.
_RELATIVE_SQLITE = re.compile(r"^(sqlite(?:\+\w+)?:///)(?!/|:memory:|file:|\?|$)(.*)$")


def _sqlite_url_against(url: str, base: Path) -> str:
    """``url`` with a relative SQLite file path made absolute against ``base``."""
    match = _RELATIVE_SQLITE.match(url)
    if not match:
        return url
    path, _, query = match.group(2).partition("?")
    absolute = os.path.abspath(base / path)
    return f"{match.group(1)}{absolute}" + (f"?{query}" if query else "")


class CrawlConfig(_Strict):
    """Crawl-wide politeness and discovery settings."""

    contact_url: HttpUrl = "https://github.com/newsarchive/newsarchive"
    depth_limit: int = Field(default=2, ge=0, le=10)
    allow_private_networks: list[str] = []
    """Private, loopback or link-local networks (CIDR) a crawl may reach; others are refused."""

    @field_validator("allow_private_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        networks = []
        for network in value:
            try:
                networks.append(str(ipaddress.ip_network(network)))
            except ValueError as exc:
                raise ValueError(f"not a network in CIDR notation (10.0.0.0/8): {exc}") from None
        return networks


def parse_duration(value: str) -> int:
    """Seconds in a duration such as ``"90s"``, ``"30m"``, ``"24h"``, ``"7d"``, ``"2w"``."""
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"bad duration {value!r} (expected e.g. '30m', '24h', '7d')")
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


def _seconds(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"duration {value} must not be negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r} (seconds, or e.g. '90s', '15m', '2h')")
    return parse_duration(value)


Seconds = Annotated[int, BeforeValidator(_seconds)]
"""A duration in seconds, written as a number or a ``"90s"``/``"15m"``/``"2h"`` string."""


class RecrawlRule(_Strict):
    """Re-fetch a known article ``every`` so often while it is ``younger_than`` this."""

    younger_than: str
    every: str

    @field_validator("younger_than", "every")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def max_age_seconds(self) -> int:
        return parse_duration(self.younger_than)

    @property
    def interval_seconds(self) -> int:
        return parse_duration(self.every)


# Developing stories change in their first day; after a week a story is history.
DEFAULT_RECRAWL = (
    RecrawlRule(younger_than="24h", every="1h"),
    RecrawlRule(younger_than="7d", every="12h"),
)


class DedupeConfig(_Strict):
    # The stored LSH bands find pairs at Jaccard 0.7 with probability 0.92 (0.998
    # at 0.8); a lower threshold would silently miss most of its pairs.
    near_duplicate_threshold: float = Field(
        default=DEFAULT_NEAR_DUPLICATE_THRESHOLD, ge=0.7, le=1.0
    )
    """Estimated Jaccard similarity at or above which two articles are linked."""


class SourceConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    start_urls: list[HttpUrl] = []
    feeds: list[HttpUrl] = []
    sitemaps: list[HttpUrl] = []
    allowed_domains: list[str] = []
    schedule: str = "0 * * * *"
    timezone: str = "UTC"
    """The zone a cron schedule is read in (an IANA name such as ``Europe/Berlin``)."""
    jitter: Seconds = 0
    """Up to this many seconds of random delay per run, so sources on one schedule spread out."""
    recrawl: list[RecrawlRule] | None = None
    """This source's re-fetch policy; None means the global ``[[recrawl]]`` rules."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like 'UTC' or 'Europe/Berlin')"
            ) from None
        return value

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


class DaemonConfig(_Strict):
    """How ``newsarchive daemon`` runs crawls: parallelism, limits, shutdown, failure backoff."""

    max_parallel_crawls: int = Field(default=2, ge=1, le=64)
    crawl_time_limit: Seconds = Field(default=3600, ge=1)
    """A crawl still running after this is stopped and recorded as ``timeout``."""
    shutdown_grace: Seconds = Field(default=30, ge=0)
    """On SIGTERM, how long running crawls get to finish before they are killed."""
    failure_backoff_after: int = Field(default=3, ge=1)
    """After this many failed runs in a row a source is crawled less often (and reported)."""
    failure_backoff_max: Seconds = Field(default=86400, ge=1)
    """The longest a failing source's runs are spaced out to."""
    log_format: Literal["text", "json"] = "text"


_SIZE = re.compile(r"^(\d+)\s*(B|KB|MB|GB|TB)?$", re.I)
_SIZE_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}


def _bytes(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value).strip())
    if not match:
        raise ValueError(f"bad size {value!r} (expected bytes or e.g. '500MB', '1GB')")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "B").upper()]


class ArchiveConfig(_Strict):
    """Where raw responses are kept as WARC files."""

    warc_dir: Path = Path("warc")
    """Relative paths are resolved against the config file's folder."""
    max_warc_size: Annotated[int, BeforeValidator(_bytes), Field(ge=1_000_000)] = 1_000_000_000
    """A WARC file is closed and a new one started once it reaches this size."""


def _listen_address(value: str) -> str:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:9410, got {value!r}")
    return value


def split_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets) as the host and the port number."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


ListenAddress = Annotated[str, AfterValidator(_listen_address)]


class MetricsConfig(_Strict):
    """Prometheus ``/metrics`` of the daemon and workers, and the source health thresholds."""

    listen: ListenAddress | None = None
    """``HOST:PORT`` to serve ``/metrics`` on (e.g. ``127.0.0.1:9410``); None serves none."""
    silent_after_intervals: float = Field(default=4.0, gt=1)
    """A source is silent after this many of its usual intervals between new stories."""
    coverage_drop_ratio: float = Field(default=0.5, gt=0, lt=1)
    """A field's coverage dropped when the last run has less than this share of its baseline."""
    blocked_share: float = Field(default=0.25, gt=0, le=1)
    """A source is blocked when this share of its last run's responses were 403/429 (and
    well above its usual share)."""

    @property
    def host(self) -> str:
        assert self.listen is not None
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        assert self.listen is not None
        return split_listen(self.listen)[1]


class ServeConfig(_Strict):
    """``newsarchive serve``: where the web UI listens and the token it may require."""

    listen: ListenAddress = "127.0.0.1:8080"
    """HOST:PORT; a host other than loopback is refused unless ``token`` is set."""
    token: str | None = Field(default=None, min_length=16)
    """When set, every request must carry it (header or ``?token=``)."""

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss")
_QUEUE_NAME = r"^[A-Za-z0-9_.:-]{1,200}$"


def _broker_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in _BROKER_SCHEMES or not parts.hostname:
        schemes = ", ".join(f"{s}://" for s in _BROKER_SCHEMES)
        # Never echo the URL: it may carry the broker's password.
        raise ValueError(f"not a broker URL (expected {schemes} with a host)")
    try:
        parts.port  # noqa: B018 (a bad port only raises when read)
    except ValueError as exc:
        raise ValueError(f"bad broker URL: {exc}") from None
    return value


class ClusterConfig(_Strict):
    """Crawls run as Celery jobs on workers (``newsarchive worker``), on many machines."""

    broker_url: Annotated[str, AfterValidator(_broker_url)]
    """RabbitMQ (``amqp://``) or Redis (``redis://``)."""
    queue: str = Field(default="newsarchive", pattern=_QUEUE_NAME)
    heartbeat_interval: Seconds = Field(default=30, ge=1, le=3600)
    """How often a worker refreshes its row in ``workers``."""


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    cluster: ClusterConfig | None = None
    crawl: CrawlConfig = CrawlConfig()
    daemon: DaemonConfig = DaemonConfig()
    archive: ArchiveConfig = ArchiveConfig()
    metrics: MetricsConfig = MetricsConfig()
    serve: ServeConfig = ServeConfig()
    scrapy: dict[str, Any] = {}
    dedupe: DedupeConfig = DedupeConfig()
    recrawl: list[RecrawlRule] = list(DEFAULT_RECRAWL)
    sources: list[SourceConfig] = []
    path: Path | None = Field(default=None, exclude=True)

    @property
    def warc_dir(self) -> Path:
        """The WARC folder: ``[archive] warc_dir``, relative to the config file's folder."""
        base = self.path.parent if self.path is not None else Path()
        return base / self.archive.warc_dir

    def recrawl_rules(self, source: SourceConfig) -> list[RecrawlRule]:
        """The re-fetch policy for ``source``: its own rules, else the global ones."""
        return list(source.recrawl if source.recrawl is not None else self.recrawl)

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
        """The database URL; the environment overrides the file so deployments need no edit.

        A relative SQLite path in the file is relative to the file's folder, like
        ``warc_dir``: the archive is the same from whatever folder a command runs.
        One from the environment stays relative to the current folder.
        """
        from_env = os.environ.get(DATABASE_URL_ENV)
        if from_env:
            return from_env
        base = self.path.parent if self.path is not None else Path()
        return _sqlite_url_against(self.database.url, base)

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
    _check_scrapy_settings(config.scrapy, path)
    config = config.model_copy(update={"path": Path(path)})
    _check_cluster_database(config)
    return config


def _check_cluster_database(config: Config) -> None:
    # Workers on other machines cannot share a SQLite file, and its file locks
    # do not reach across hosts: a cluster needs PostgreSQL.
    if config.cluster is None or not config.database_url.startswith("sqlite"):
        return
    key = DATABASE_URL_ENV if os.environ.get(DATABASE_URL_ENV) else "database.url"
    raise ConfigError(
        f"{config.path}: {key}: a [cluster] needs PostgreSQL; SQLite cannot be shared by "
        "workers on several machines"
    )


def _check_scrapy_settings(scrapy: dict[str, Any], path: Path | str) -> None:
    """Refuse ``[scrapy]`` keys that no component reads: Scrapy ignores a misspelt setting."""
    if not scrapy:
        return
    # Imported here: the config model is imported by every command, few configs
    # have a [scrapy] table.
    from newsarchive.crawler.settings import DEFAULTS, NEWSARCHIVE_DEFAULTS, scrapy_defaults

    defaults = scrapy_defaults() | NEWSARCHIVE_DEFAULTS | DEFAULTS
    lines = []
    for key, value in scrapy.items():
        if key in defaults:
            expected = _scrapy_type_problem(value, defaults[key])
            if expected:
                lines.append(f"{path}: [scrapy] {key}: expected {expected}, got {value!r}")
            continue
        close = difflib.get_close_matches(key.upper(), sorted(defaults), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        lines.append(f"{path}: [scrapy] {key}: not a Scrapy setting{hint}")
    if lines:
        raise ConfigError("\n".join(lines))


def _scrapy_type_problem(value: object, default: object) -> str | None:
    """What ``value`` should have been, if Scrapy's ``get<type>`` of the setting would raise
    on it (deep in the crawl, as a Twisted traceback); the setting's default gives the type.

    Strings are judged as Scrapy converts them (``"2"`` is a number, ``"a,b"`` a list);
    a None default says nothing about the type, so anything goes.
    """
    if default is None:
        return None
    if isinstance(default, bool):  # before int: a bool is an int
        # Settings.getbool: bool(int(value)), or one of these strings.
        if isinstance(value, bool | int | float) or value in ("True", "true", "False", "false"):
            return None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                int(value)
                return None
        return "true or false"
    if isinstance(default, int | float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                float(value)
                return None
        return "a number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "a string"
    if isinstance(default, list | tuple):
        return None if isinstance(value, list | str) else "a list"  # getlist splits "a,b"
    if isinstance(default, dict):
        if isinstance(value, dict):
            return None
        if isinstance(value, str):  # getdict parses a JSON object
            with contextlib.suppress(ValueError):
                if isinstance(json.loads(value), dict):
                    return None
        return "a table"
    return None


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
