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


def _read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def run(args: argparse.Namespace, ctx: CommandContext) -> ExitCode:
    from newsarchive.crawler.extraction import extract_article

    from .output.articles import print_extraction

    template = None
    if args.source:
        from newsarchive.storage.templates import load_template

        template = load_template(ctx.engine(), args.source)
    failed = 0
    for path in args.files:
        try:
            result = extract_article(_read_page(path), args.url, template=template)
        except (OSError, EOFError, zlib.error) as exc:
            logger.error("%s: cannot read: %s", path, exc)
            failed += 1
            continue
        print_extraction(str(path), result, args.format)
    return ExitCode.FAILED if failed else ExitCode.OK
