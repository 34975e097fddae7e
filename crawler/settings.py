"""Scrapy settings for newsarchive crawls: polite defaults, then the config's ``[scrapy]`` table."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from newsarchive import __version__

# The config validates [scrapy] against this module on every command that loads
# it: importing Scrapy (0.3 s) or the config here would make them all pay.
if TYPE_CHECKING:
    from scrapy.settings import BaseSettings, Settings

    from newsarchive.config import Config

PIPELINES = "newsarchive.crawler.pipelines"

# newsarchive's own settings, each declared here once with its default. They
# can be set in the config's [scrapy] table like any Scrapy setting;
# components read them with the ``setting_*`` functions below, which fall back
# on these defaults for a crawler built without them (a plain get_crawler).
NEWSARCHIVE_DEFAULTS: dict[str, object] = {
    # Extraction is the crawl's CPU cost: in other processes it runs on the
    # other cores while this one downloads and stores. 0 extracts in-process.
    "NEWSARCHIVE_EXTRACT_PROCESSES": max(0, min(4, (os.cpu_count() or 1) - 1)),
    # Learn and strip each source's template (lines recurring on its stories).
    "NEWSARCHIVE_TEMPLATE_LEARNING": True,
    # A line seen on this many distinct stories of a source is template.
    "NEWSARCHIVE_TEMPLATE_MIN_PAGES": 5,
    # Learned counts are written every this many new stories (and at the end),
    # so a killed crawl loses little and the database sees few transactions.
    "NEWSARCHIVE_TEMPLATE_FLUSH_PAGES": 200,
    # Stories written in one database transaction at most: those that arrive
    # while the previous batch is written go together (each still all or nothing).
    "NEWSARCHIVE_STORE_BATCH": 50,
    # Where responses are archived as WARC files; None archives none.
    "NEWSARCHIVE_WARC_DIR": None,
    # The cluster worker running this crawl (``newsarchive worker``): recorded on
    # the run row and put in WARC file names, so workers sharing one warc_dir
    # never write the same file. None outside a cluster.
    "NEWSARCHIVE_WORKER": None,
    # A WARC file is closed and a new one started at this size.
    "NEWSARCHIVE_WARC_MAX_SIZE": 1_000_000_000,
    # Networks a crawl may reach although private, loopback, link-local or
    # reserved (CIDR strings, from [crawl] allow_private_networks). Any other such
    # address is refused: a feed, link or redirect pointing into the host's own
    # network must not be fetched and archived (SSRF).
    "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS": [],
    # How long each database call waits for an unreachable database (retrying
    # with backoff from 0.5 s) before the crawl gives up and stops: a restart or
    # failover loses nothing, a database gone for good does not hang the crawl.
    "NEWSARCHIVE_STORE_RETRY_SECONDS": 60.0,
    # Discovery documents do not count against DEPTH_LIMIT (which bounds link
    # following); a sitemap chain is bounded here instead: robots.txt → index →
    # … → sitemap, this many documents below the configured one. Deeper is a
    # counted error, so an index that lists itself under new URLs cannot run on.
    "NEWSARCHIVE_SITEMAP_DEPTH": 5,
    # The crawl process's C heap (crawler/memory.py, glibc only): blocks this large
    # or larger are mapped on their own and unmapped when freed, and its threads
    # share this many heaps; 0 keeps glibc's default. Both keep memory flat in a
    # long crawl, where the defaults left freed holes in every thread's heap.
    "NEWSARCHIVE_MALLOC_MMAP_THRESHOLD": 128 * 1024,
    "NEWSARCHIVE_MALLOC_ARENA_MAX": 2,
}

DEFAULTS: dict[str, object] = {
    "BOT_NAME": "newsarchive",
    "ROBOTSTXT_OBEY": True,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    # Scrapy starts this many asyncio tasks for every response's callback output,
    # whatever it yields (a page yields one item): at Scrapy's 100 they cost the
    # reactor thread about a seventh of its time. Requests a sitemap yields are
    # only queued, so a few workers keep up with them.
    "CONCURRENT_ITEMS": 4,
    # Requests waiting for their download, serialised: a sitemap's 50,000 URLs are
    # all scheduled at once, and as objects they made memory grow with it.
    "SCHEDULER_MEMORY_QUEUE": "newsarchive.crawler.queues.CompactLifoMemoryQueue",
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 5 * 1024 * 1024,
    "DOWNLOAD_TIMEOUT": 30,
    "RETRY_TIMES": 3,
    "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
    "RETRY_BACKOFF_BASE": 1.0,
    "RETRY_BACKOFF_MAX": 60.0,
    "REDIRECT_MAX_TIMES": 10,
    # News sites set tracking cookies; stories never need them.
    "COOKIES_ENABLED": False,
    # No listening ports: a crawl must not open a control surface on the host.
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": 30.0,
    # The crawl summary replaces Scrapy's stats dump; LOG_LEVEL=DEBUG brings it back.
    "STATS_DUMP": False,
    "LOG_VERSIONS": [],
    # Refuses answers outside the public internet: the address it returns is the
    # one connected to, so a changing DNS answer cannot slip past the check.
    "TWISTED_DNS_RESOLVER": "newsarchive.crawler.addresses.PrivateNetworkResolver",
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "newsarchive.crawler.middlewares.BackoffRetryMiddleware": 550,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "newsarchive.crawler.middlewares.SharedRobotsTxtMiddleware": 100,
        # Between retry (550) and redirect (600): every hop of a redirect chain
        # gets its own URL's validators, and a 304 is never retried.
        "newsarchive.crawler.conditional.ConditionalFetchMiddleware": 580,
        # Below retry and redirect: only final 2xx responses, already decompressed.
        "newsarchive.crawler.warc.WarcArchiveMiddleware": 540,
        # Above redirect (600): each answer as the site gave it, a redirect before it is followed.
        "newsarchive.crawler.takedowns.TakedownMiddleware": 650,
        # Above retry (550): a refused address is reported before retry sees its
        # DNS failure. Every redirect hop comes back through process_request.
        "newsarchive.crawler.addresses.PrivateNetworkMiddleware": 560,
        # Scrapy's, but a dropped off-site request is a counted WARNING, not DEBUG.
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        "newsarchive.crawler.offsite.ReportingOffsiteMiddleware": 50,
    },
    "SPIDER_MIDDLEWARES": {
        "newsarchive.crawler.recrawl.RecrawlMiddleware": 800,
    },
    "EXTENSIONS": {
        "newsarchive.crawler.coverage.FieldCoverage": 500,
        "newsarchive.crawler.memory.MallocTuning": 0,
    },
    "ITEM_PIPELINES": {
        f"{PIPELINES}.clean.CleanPipeline": 100,
        f"{PIPELINES}.dedupe.DedupePipeline": 200,
        f"{PIPELINES}.store.StorePipeline": 300,
    },
}


def setting_int(settings: BaseSettings, name: str) -> int:
    """A newsarchive setting as a whole number: the crawl's value, else its default."""
    return settings.getint(name, cast(int, NEWSARCHIVE_DEFAULTS[name]))


def setting_float(settings: BaseSettings, name: str) -> float:
    return settings.getfloat(name, cast(float, NEWSARCHIVE_DEFAULTS[name]))


def setting_bool(settings: BaseSettings, name: str) -> bool:
    return settings.getbool(name, cast(bool, NEWSARCHIVE_DEFAULTS[name]))


def setting_list(settings: BaseSettings, name: str) -> list[Any]:
    return settings.getlist(name, list(cast(list[Any], NEWSARCHIVE_DEFAULTS[name])))


UNUSED_EXTENSIONS = frozenset(
    {"scrapy.extensions.remote_control.RemoteControl", "scrapy.extensions.telnet.TelnetConsole"}
)


def crawl_settings(config: Config) -> Settings:
    """Settings for a crawl under ``config``; keys in its ``[scrapy]`` table win."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setdict(DEFAULTS, priority="project")
    settings.setdict(NEWSARCHIVE_DEFAULTS, priority="project")
    settings.set(
        "USER_AGENT",
        f"newsarchive/{__version__} (+{config.crawl.contact_url})",
        priority="project",
    )
    settings.set("DEPTH_LIMIT", config.crawl.depth_limit, priority="project")
    settings.set("NEWSARCHIVE_WARC_DIR", str(config.warc_dir), priority="project")
    settings.set("NEWSARCHIVE_WARC_MAX_SIZE", config.archive.max_warc_size, priority="project")
    settings.set(
        "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS",
        list(config.crawl.allow_private_networks),
        priority="project",
    )
    # Scrapy imports each listed extension before asking whether it is enabled:
    # the remote control (switched off above) cost every crawl's start 0.1 CPU-s
    # of aiohttp imports. Left out of the list, it is never imported.
    base = settings.getdict("EXTENSIONS_BASE")
    settings.set(
        "EXTENSIONS_BASE",
        {path: order for path, order in base.items() if path not in UNUSED_EXTENSIONS},
        priority="project",
    )
    settings.setdict(config.scrapy, priority="cmdline")
    return settings


def scrapy_defaults() -> dict[str, object]:
    """Scrapy's own settings and their defaults (``scrapy.settings.default_settings``).

    Importing that module runs Scrapy's package ``__init__`` (Twisted, the HTTP
    stack): most of the time a command like ``newsarchive runs`` would take. So
    unless Scrapy is loaded already, the module's source is read instead: each
    top-level assignment is a setting, its value the literal it is assigned, or
    None (any type accepted) where it is computed, except that an f-string is a string.
    """
    loaded = sys.modules.get("scrapy.settings.default_settings")
    if loaded is not None:
        return {name: getattr(loaded, name) for name in dir(loaded) if name.isupper()}
    scrapy = importlib.util.find_spec("scrapy")
    assert scrapy is not None and scrapy.origin is not None, "Scrapy is not installed"
    source = Path(scrapy.origin).with_name("settings") / "default_settings.py"
    defaults: dict[str, object] = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper():
                if isinstance(node.value, ast.JoinedStr):  # USER_AGENT = f"Scrapy/{...}"
                    defaults[target.id] = ""
                    continue
                try:
                    defaults[target.id] = ast.literal_eval(node.value)  # type: ignore[arg-type]
                except (ValueError, TypeError, SyntaxError):
                    defaults[target.id] = None
    return defaults
