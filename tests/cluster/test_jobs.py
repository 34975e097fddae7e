"""Putting jobs on the queue and counting them, against the real RabbitMQ (no worker runs)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive.config import Config, parse_config
from tests.cluster.harness import BROKER_URL, private_queue, require_rabbitmq


def cluster_config(tmp_path: Path, broker_url: str, queue: str) -> Config:
    data = {
        "database": {"url": "postgresql+psycopg://archive@db.example/news"},
        "cluster": {"broker_url": broker_url, "queue": queue},
        "sources": [{"name": "harbour", "feeds": ["https://example.com/rss.xml"]}],
    }
    return parse_config(data, tmp_path / "newsarchive.toml")


@pytest.fixture
def queue() -> Iterator[str]:
    require_rabbitmq()
    with private_queue() as name:
        yield name


def waiting_messages(queue: str) -> list[tuple[str, list[object]]]:
    """The jobs in ``queue`` as (task name, args), taken off it."""
    from kombu import Connection

    jobs = []
    with Connection(BROKER_URL, connect_timeout=3) as conn:
        simple = conn.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(timeout=0.5)
            except simple.Empty:
                break
            args, _kwargs, _embed = message.decode()
            jobs.append((message.headers["task"], args))
            message.ack()
        simple.close()
    return jobs


def test_jobs_wait_in_the_queue_until_a_worker_takes_them(tmp_path: Path, queue: str) -> None:
    from newsarchive.scheduler.cluster import enqueue_crawl, enqueue_import, queue_depth

    config = cluster_config(tmp_path, BROKER_URL, queue)
    assert queue_depth(config) == 0  # not even declared yet
    crawl_id = enqueue_crawl(config, "harbour")
    import_id = enqueue_import(config, "/data/wire-2024.warc.gz", ["--source", "wire"])
    assert len({crawl_id, import_id}) == 2 and len(crawl_id) == 36
    assert queue_depth(config) == 2
    assert waiting_messages(queue) == [
        ("newsarchive.crawl", ["harbour"]),
        ("newsarchive.import", ["/data/wire-2024.warc.gz", ["--source", "wire"]]),
    ]


def test_crawl_enqueue_queues_the_named_sources_and_prints_their_job_ids(
    tmp_path: Path, queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsarchive.cli.main import main

    config = tmp_path / "newsarchive.toml"
    config.write_text(
        '[database]\nurl = "postgresql+psycopg://archive@db.example/news"\n\n'
        f'[cluster]\nbroker_url = "{BROKER_URL}"\nqueue = "{queue}"\n\n'
        '[[sources]]\nname = "harbour"\nfeeds = ["https://example.com/rss.xml"]\n\n'
        '[[sources]]\nname = "wire"\nfeeds = ["https://wire.example/rss.xml"]\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "crawl", "--enqueue", "--source", "wire"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    name, job_id = line.split("\t")
    assert name == "wire" and len(job_id) == 36
    assert main(["--config", str(config), "crawl", "--enqueue", "--format", "json"]) == 0
    assert [job["source"] for job in json.loads(capsys.readouterr().out)] == ["harbour", "wire"]
    assert [args for _task, args in waiting_messages(queue)] == [["wire"], ["harbour"], ["wire"]]


def test_an_unreachable_broker_is_reported_not_raised(tmp_path: Path) -> None:
    from newsarchive.scheduler.cluster import BrokerUnavailable, enqueue_crawl, queue_depth

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    config = cluster_config(tmp_path, f"amqp://guest:s3cret@127.0.0.1:{port}//", "q")
    assert queue_depth(config) is None
    with pytest.raises(BrokerUnavailable) as error:
        enqueue_crawl(config, "harbour")
    assert f"127.0.0.1:{port}" in str(error.value) and "s3cret" not in str(error.value)
