"""The ``[cluster]`` section: refused at start, naming the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive.config import DATABASE_URL_ENV, ConfigError, load_config
from tests.cli_process import run_cli

PG = "postgresql+psycopg://archive@db.example/news"


def write(tmp_path: Path, database_url: str, cluster: str, name: str = "newsarchive") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[cluster]\n{cluster}\n\n'
        '[[sources]]\nname = "harbour"\nfeeds = ["https://example.com/rss.xml"]\n',
        encoding="utf-8",
    )
    return path


def test_a_cluster_on_postgresql_loads_with_the_default_queue(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, PG, 'broker_url = "redis://127.0.0.1:6379/0"'))
    assert config.cluster is not None
    assert config.cluster.queue == "newsarchive"
    assert config.cluster.broker_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("cluster", "key", "problem"),
    [
        ('broker_url = "http://guest:s3cret@broker.example/"', "cluster.broker_url", "broker URL"),
        ('broker_url = "amqp://guest:s3cret@broker.example:99999//"', "cluster.broker_url", "Port"),
        ('broker_url = "amqp://h//"\nqueue = "a queue"', "cluster.queue", "pattern"),
        ('broker_url = "amqp://h//"\nbrokers = 2', "cluster.brokers", "unknown key"),
        ('queue = "q"', "cluster.broker_url", "required"),
    ],
)
def test_a_bad_cluster_section_is_refused(
    tmp_path: Path, cluster: str, key: str, problem: str
) -> None:
    path = write(tmp_path, PG, cluster)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: {key}: ") and problem in message
    assert "s3cret" not in message  # a broker URL's password is never echoed


def test_sqlite_with_a_cluster_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "sqlite:///news.db", 'broker_url = "amqp://127.0.0.1//"')
    with pytest.raises(
        ConfigError, match=rf"^{path}: database.url: a \[cluster\] needs PostgreSQL"
    ):
        load_config(path)
    # The environment's URL is the one used, so it is the one blamed.
    good = write(tmp_path, PG, 'broker_url = "amqp://127.0.0.1//"', name="postgres")
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:///elsewhere.db")
    with pytest.raises(ConfigError, match=rf"^{good}: {DATABASE_URL_ENV}: a \[cluster\]"):
        load_config(good)
    monkeypatch.delenv(DATABASE_URL_ENV)

    refused = run_cli("worker", config=path)
    assert refused.returncode == 2
    assert f"{path}: database.url: a [cluster] needs PostgreSQL" in refused.stderr


def test_a_cluster_without_celery_installed_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from newsarchive.scheduler.cluster import require_cluster_extra

    path = write(tmp_path, PG, 'broker_url = "amqp://127.0.0.1//"')
    config = load_config(path)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "celery" else find_spec(name)
    )
    with pytest.raises(ConfigError, match=rf"^{path}: cluster: Celery is not installed"):
        require_cluster_extra(config)
