"""export --format warc|wacz: a standalone package that warcio reads and import takes back."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from warcio.archiveiterator import ArchiveIterator
from warcio.cli import main as warcio_main

from newsarchive.config import Config, parse_config
from newsarchive.crawler.imports.run import import_archives
from newsarchive.storage import create_archive_engine, read_session
from newsarchive.storage.models import Article, ArticleVersion, latest_version
from newsarchive.storage.warc_export import Selection, export_captures
from tests.cli_process import run_cli
from tests.imports.conftest import Corpus, archive_config
from tests.imports.test_cli import write_config


def _stories(engine: Engine) -> set[tuple[str, str, str]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(Article.url, ArticleVersion.text, ArticleVersion.fetched_at).join(
                ArticleVersion, latest_version()
            )
        ).all()
    return {(url, text, when.isoformat()) for url, text, when in rows}


@pytest.fixture(scope="module")
def archive(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    folder = tmp_path_factory.mktemp("exported")
    config = parse_config(archive_config(folder), folder / "newsarchive.toml")
    import_archives(config, [str(corpus.mixed), str(corpus.plain), str(corpus.wacz)])
    yield config


def _reimported(package: Path, folder: Path) -> set[tuple[str, str, str]]:
    folder.mkdir()
    config = parse_config(archive_config(folder), folder / "newsarchive.toml")
    summary = import_archives(config, [str(package)])
    assert summary.total("errors") == 0
    engine = create_archive_engine(config.database_url)
    try:
        return _stories(engine)
    finally:
        engine.dispose()


def test_warc_export_round_trip(
    archive: Config, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "selection.warc.gz"
    engine = create_archive_engine(archive.database_url)
    with read_session(engine) as session:
        report = export_captures(session, out, "warc", Selection(), archive.warc_dir)
    original = _stories(engine)
    engine.dispose()
    assert (report.records, report.missing) == (len(corpus.bodies), 0)
    with open(out, "rb") as f:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(f)
        ]
        f.seek(0)
        payloads = {
            r.rec_headers.get_header("WARC-Target-URI"): r.content_stream().read()
            for r in ArchiveIterator(f, check_digests=True)
            if r.rec_type == "response"
        }
    assert records[0][0] == "warcinfo"
    with pytest.raises(SystemExit) as checked:
        warcio_main(["check", str(out)])  # every record's digests, as warcio checks them
    warcio_main(["index", str(out)])
    assert checked.value.code == 0
    index = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert [entry["warc-type"] for entry in index] == ["warcinfo", *["response"] * len(payloads)]
    assert payloads == corpus.bodies  # the records as captured, digests still valid
    assert _reimported(out, tmp_path / "again") == original


def test_wacz_export_with_a_query_is_a_valid_package(
    archive: Config, corpus: Corpus, tmp_path: Path
) -> None:
    out = tmp_path / "cafe.wacz"
    config = write_config(tmp_path)
    config.write_text(
        config.read_text().replace("archive.db", archive.database_url.removeprefix("sqlite:///"))
    )
    result = run_cli(
        "export", "--format", "wacz", "--query", "café", "--output", str(out), config=config
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        names = set(package.namelist())
        assert {"archive/data.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl"} <= names
        datapackage = json.loads(package.read("datapackage.json"))
        for resource in datapackage["resources"]:
            data = package.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        index = package.read("indexes/index.cdxj").decode().splitlines()
        warc = package.read("archive/data.warc.gz")
    assert len(index) == 1 and index[0].startswith("org,example,news)/2024/story-2 ")
    entry = json.loads(index[0].split(" ", 2)[2])
    record = warc[int(entry["offset"]) : int(entry["offset"]) + int(entry["length"])]
    assert (
        b"".join(r.content_stream().read() for r in ArchiveIterator(io.BytesIO(record)))
        == (corpus.bodies[entry["url"]])
    )
    stories = _reimported(out, tmp_path / "again")
    assert {url for url, _, _ in stories} == {entry["url"]}
