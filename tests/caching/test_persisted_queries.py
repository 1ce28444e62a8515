"""Automatic persisted queries (Apollo's protocol): a hash alone runs a registered document; an unknown hash is
``PERSISTED_QUERY_NOT_FOUND`` until the client sends the document with it; a hash must match its document."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.principals import serving

pytestmark = pytest.mark.usefixtures("store")

PRODUCTS = "query Top($n: Int!) { products(first: $n) { edges { node { sku name } } } }"


def persisted(document: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": hashlib.sha256(document.encode()).hexdigest()}}


async def test_unknown_hash_then_register_then_hash_alone(guest: GraphQLClient) -> None:
    ask = persisted(PRODUCTS)
    unknown = await guest.get(None, {"n": 2}, extensions=ask)
    assert unknown.status_code == 200
    assert unknown.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    assert unknown.headers["cache-control"] == "private, no-cache, must-revalidate"

    registered = await guest.get(PRODUCTS, {"n": 2}, extensions=ask)
    assert registered.status_code == 200 and len(registered.json()["data"]["products"]["edges"]) == 2

    by_hash = await guest.get(None, {"n": 3}, extensions=ask)
    assert by_hash.status_code == 200, by_hash.text
    assert len(by_hash.json()["data"]["products"]["edges"]) == 3
    assert by_hash.headers["cache-control"].startswith("public")
    # The same answer whether the document or its hash was sent: one cache entry, one ETag.
    with_document = await guest.get(PRODUCTS, {"n": 3}, extensions=ask)
    assert with_document.content == by_hash.content and with_document.headers["etag"] == by_hash.headers["etag"]


async def test_persisted_queries_work_over_post_too(guest: GraphQLClient) -> None:
    ask = persisted(PRODUCTS)
    body = {"variables": {"n": 1}, "extensions": ask}
    unknown = await guest.http.post("/graphql", json=body)
    assert guest.error_codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    registered = await guest.http.post("/graphql", json={**body, "query": PRODUCTS})
    assert registered.json()["data"]["products"]["edges"]
    by_hash = await guest.http.post("/graphql", json=body)
    assert by_hash.json()["data"] == registered.json()["data"]


async def test_a_hash_that_does_not_match_its_document_is_refused(guest: GraphQLClient) -> None:
    other = persisted("{ storeConfig { locale } }")
    response = await guest.get(PRODUCTS, {"n": 1}, extensions=other)
    assert response.status_code == 400
    assert guest.error_codes(response.json()) == ["BAD_REQUEST"]
    # ... and registers nothing under that hash.
    assert guest.error_codes((await guest.get(None, extensions=other)).json()) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    "extension",
    [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "short"}, {"version": 1}],
    ids=["version", "hash-length", "no-hash"],
)
async def test_a_malformed_persisted_query_is_a_bad_request(guest: GraphQLClient, extension: dict[str, Any]) -> None:
    response = await guest.get(None, extensions={"persistedQuery": extension})
    assert response.status_code == 400 and guest.error_codes(response.json()) == ["BAD_REQUEST"]


async def test_a_document_that_fails_to_parse_or_validate_is_not_registered(guest: GraphQLClient) -> None:
    for broken in ("{ products(", "{ noSuchField }"):
        ask = persisted(broken)
        failed = await guest.get(broken, extensions=ask)
        assert failed.json()["errors"], failed.text
        assert guest.error_codes((await guest.get(None, extensions=ask)).json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_registered_documents_are_bounded(guest: GraphQLClient, caching: Any) -> None:
    documents = caching.persisted.documents
    limit = documents.max_entries
    for n in range(limit + 5):
        document = f"query Q{n} {{ storeConfig {{ locale }} }}"
        assert (await guest.get(document, extensions=persisted(document))).status_code == 200
    assert len(documents) == limit
    oldest = "query Q0 { storeConfig { locale } }"
    assert guest.error_codes((await guest.get(None, extensions=persisted(oldest))).json()) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, persisted_queries=20)


async def test_turned_off_persisted_queries_say_so(settings: Settings) -> None:
    from tests.support.graphql import asgi_client

    async with serving(dataclasses.replace(settings, persisted_queries=0)) as app, asgi_client(app) as http:
        client = GraphQLClient(http)
        response = await client.get(None, extensions=persisted(PRODUCTS))
        assert response.status_code == 200
        assert client.error_codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
