"""``newsarchive extract``: the pipeline's extraction on saved pages."""

from __future__ import annotations

import argparse
import gzip
import logging
import zlib
from pathlib import Path

from newsarchive.exit_codes import ExitCode

from .arguments import add_format
from .context import CommandContext

logger = logging.getLogger("newsarchive")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Extract article text and metadata from saved pages (raw bytes in any "
        "encoding; .gz accepted) exactly as a crawl would: one result per file."
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--url", help="the URL the page came from (helps metadata and links)")
    add_format(parser, "jsonl", "text")
    parser.add_argument(
        "--source", help="strip the template the archive learned for this source's pages"
    )


class PageTooLarge(Exception):
    """A page (once decompressed) larger than a crawl would have accepted."""


def _read_page(path: Path, limit: int) -> bytes:
    """The page's bytes, decompressed if gzipped; PageTooLarge past ``limit`` (0: no limit).

    Streamed, so a small .gz that inflates to gigabytes stops at the limit
    instead of filling memory.
    """
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
        data = stream.read(limit + 1) if limit > 0 else stream.read()
    if limit > 0 and len(data) > limit:
        raise PageTooLarge(
            f"{path}: larger than {limit} bytes{' once decompressed' if gzipped else ''} "
            "(DOWNLOAD_MAXSIZE, the crawl's limit): not extracted"
        )
    return data


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.crawler.extraction import extract_article
    from newsarchive.crawler.settings import DEFAULTS

    from .output.articles import print_extraction

    template = None
    if args.source:
        from newsarchive.storage.templates import load_template

        template = load_template(ctx.engine(), args.source)
    # A page the crawl would have refused for its size is refused here too.
    limit = DEFAULTS["DOWNLOAD_MAXSIZE"]
    assert isinstance(limit, int)
    failed = 0
    for path in args.files:
        try:
            result = extract_article(_read_page(path, limit), args.url, template=template)
        except PageTooLarge as exc:
            logger.error("%s", exc)
            failed += 1
            continue
        except (OSError, EOFError, zlib.error) as exc:
            logger.error("%s: cannot read: %s", path, exc)
            failed += 1
            continue
        print_extraction(str(path), result, args.format)
    return ExitCode.FAILED if failed else ExitCode.OK
