"""``/api``: every endpoint answers what ``/api/openapi.json`` promises, on both databases,
with the export's field names, working pages, filters and CJK search."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from newsarchive.storage import EXPORT_FIELDS
from newsarchive.web import create_app
from tests.web.conftest import LOOPBACK, WebArchive
from tests.web.corpus import EDITED_TEXTS, JAPANESE, KOREAN, TRADE_TITLE


@pytest.fixture(scope="module")
def client(web_archive: WebArchive) -> Iterator[TestClient]:
    with TestClient(create_app(web_archive.config), base_url=LOOPBACK) as client:
        yield client


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; $refs point into the document.
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    resolved = {"$ref": "urn:openapi#" + schema["$ref"][1:]} if "$ref" in schema else schema
    return Draft202012Validator(resolved, registry=registry)


def _response_schema(document: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    responses = document["paths"][path]["get"]["responses"]
    entry = responses.get(str(status))
    assert entry is not None, f"GET {path} answered {status}, which the document does not list"
    return entry["content"]["application/json"]["schema"]


def test_every_endpoint_answers_as_its_openapi_document_says(
    client: TestClient, openapi: dict[str, Any], web_archive: WebArchive
) -> None:
    c = web_archive.corpus
    # One real request per documented path (ids from the archive), and one for each 404.
    calls = {
        "/api/articles": ["/api/articles?limit=3", "/api/articles?source=xinhua&language=zh"],
        "/api/articles/{article_id}": [f"/api/articles/{c.trade}", "/api/articles/999999"],
        "/api/articles/{article_id}/versions": [f"/api/articles/{c.edited}/versions"],
        "/api/articles/{article_id}/versions/{version}/diff": [
            f"/api/articles/{c.edited}/versions/2/diff",
            f"/api/articles/{c.edited}/versions/1/diff",
        ],
        "/api/articles/{article_id}/duplicates": [f"/api/articles/{c.trade}/duplicates"],
        "/api/articles/{article_id}/events": [f"/api/articles/{c.removed}/events"],
        "/api/search": ["/api/search?q=谈判&duplicates=true", "/api/search?q=%22%22"],
        "/api/sources": ["/api/sources"],
        "/api/runs": ["/api/runs?limit=1"],
        "/api/stats": ["/api/stats"],
    }
    documented = {p for p in openapi["paths"] if p.startswith("/api/")}
    assert documented == set(calls), "a documented endpoint is untested, or one is undocumented"
    statuses = set()
    for path, urls in calls.items():
        for url in urls:
            response = client.get(url)
            statuses.add(response.status_code)
            schema = _response_schema(openapi, path, response.status_code)
            errors = list(_validator(openapi, schema).iter_errors(response.json()))
            assert not errors, f"{url}: {errors[0].message} at {list(errors[0].absolute_path)}"
    assert statuses == {200, 400, 404}


def test_articles_carry_the_export_field_names_and_pages_cover_the_archive(
    client: TestClient,
) -> None:
    seen: list[int] = []
    url: str | None = "/api/articles?limit=3"
    while url:
        page = client.get(url).json()
        for item in page["items"]:
            assert set(EXPORT_FIELDS) <= set(item)
            seen.append(item["id"])
        url = page["next"]
    total = client.get("/api/stats").json()["articles"]
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)


def test_chinese_search_finds_the_story_and_its_copy_only_on_request(
    client: TestClient, web_archive: WebArchive
) -> None:
    c = web_archive.corpus
    plain = client.get("/api/search", params={"q": "谈判"}).json()["items"]
    assert [h["id"] for h in plain] == [c.trade]
    assert plain[0]["title"] == TRADE_TITLE
    assert "[谈判]" in plain[0]["snippet"]
    everything = client.get("/api/search", params={"q": "谈判", "duplicates": "true"}).json()
    assert {h["id"] for h in everything["items"]} == {c.trade, c.trade_copy}
    cluster = client.get(f"/api/articles/{c.trade_copy}/duplicates").json()["items"]
    assert [(m["id"], m["exact"]) for m in cluster] == [(c.trade, True), (c.trade_copy, True)]


def test_japanese_and_korean_search_find_their_stories(
    client: TestClient, web_archive: WebArchive
) -> None:
    c = web_archive.corpus
    for word, article, title in (("朝市", c.japanese, JAPANESE[0]), ("다리", c.korean, KOREAN[0])):
        hits = client.get("/api/search", params={"q": word}).json()["items"]
        assert [(h["id"], h["title"]) for h in hits] == [(article, title)], word


def test_search_filters_by_takedown_and_pages_with_offset(
    client: TestClient, web_archive: WebArchive
) -> None:
    c = web_archive.corpus
    only = client.get("/api/search", params={"q": "minister", "removed": "true"}).json()
    assert [(h["id"], h["removed_at"] is not None) for h in only["items"]] == [(c.removed, True)]
    hidden = client.get("/api/search", params={"q": "minister", "removed": "false"}).json()
    assert hidden["items"] == []
    events = client.get(f"/api/articles/{c.removed}/events").json()["items"]
    assert [(e["kind"], e["http_status"]) for e in events] == [("removed", 410)]
    paywalled = client.get("/api/search", params={"q": "谈判", "access": "paywalled"}).json()
    assert [h["id"] for h in paywalled["items"]] == [c.trade]
    assert client.get("/api/search", params={"q": "谈判", "access": "free"}).json()["items"] == []
    article = client.get(f"/api/articles/{c.trade}").json()
    assert (article["access"], article["published_at_source"]) == ("paywalled", "json-ld")
    listed = client.get("/api/articles", params={"access": "paywalled"}).json()["items"]
    assert [a["id"] for a in listed] == [c.trade]
    first = client.get("/api/search", params={"q": "the", "limit": 1}).json()
    second = client.get(first["next"]).json()
    assert first["items"][0]["id"] != second["items"][0]["id"]


def test_versions_and_diff_show_what_changed(client: TestClient, web_archive: WebArchive) -> None:
    c = web_archive.corpus
    versions = client.get(f"/api/articles/{c.edited}/versions").json()["items"]
    assert [v["text"] for v in versions] == list(EDITED_TEXTS)
    diff = client.get(f"/api/articles/{c.edited}/versions/2/diff").json()
    assert diff["previous_version"] == 1
    assert [p["paragraph"] for p in diff["paragraphs"]] == [1]
    assert "[-A zeppelin-]{+An airship+}" in diff["paragraphs"][0]["text"]
