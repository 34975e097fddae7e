"""Importing from HTTP URLs: a dropped connection resumes with a Range request."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from newsarchive.config import parse_config
from newsarchive.crawler.imports.run import import_archives
from newsarchive.storage import create_archive_engine, read_session
from newsarchive.storage.models import Article
from newsarchive.storage.raw import raw_response
from tests.imports.conftest import Corpus, archive_config
from tests.imports.range_server import range_server


def test_urls_stream_and_resume_a_dropped_connection_with_range(
    corpus: Corpus, tmp_path: Path
) -> None:
    warc = corpus.mixed.read_bytes()
    files = {"/cc/mixed.warc.gz": warc, "/cc/pack.wacz": corpus.wacz.read_bytes()}
    half = len(warc) // 2
    with range_server(files, {"/cc/mixed.warc.gz": half}) as server:
        config = parse_config(archive_config(tmp_path), tmp_path / "newsarchive.toml")
        urls = [f"{server.url}/cc/mixed.warc.gz", f"{server.url}/cc/pack.wacz"]
        summary = import_archives(config, urls)

        requests = [
            rng
            for method, path, rng in server.log
            if (method, path) == ("GET", "/cc/mixed.warc.gz")
        ]
        # One plain GET cut off halfway, then the rest asked for from where it stopped.
        assert requests[0] is None
        assert f"bytes={half}-" in requests[1:]
        assert [f.new for f in summary.files] == [3, 2]
        assert summary.files[0].errors == 1  # the truncated last record, as from disk

        engine = create_archive_engine(config.database_url)
        with read_session(engine) as session:
            articles = session.scalars(select(Article)).all()
            imported = {a.url for a in articles}
            assert imported == {
                u for u in corpus.stories if "story-5" not in u and "story-6" not in u
            }
            server.log.clear()
            for article in articles:
                # raw reads each record at its offset in the original URL, by Range.
                body = raw_response(session, article.id, config.warc_dir)
                assert body == corpus.bodies[article.url]
            reads = [(method, rng) for method, path, rng in server.log if "mixed" in path]
            assert reads and all(rng is not None for _, rng in reads)
        engine.dispose()
