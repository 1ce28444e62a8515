"""The ``INTROSPECTION`` setting: who may read the schema (``schema.introspection``), enforced before anything
runs, with ``__typename`` always allowed and GraphiQL still working for admins under ``admins``."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from graphql import get_introspection_query

from auth.resources import Resource
from settings import Introspection, Settings
from tests.support.graphql import PATH, GraphQLClient
from tests.support.principals import IntegrationCaller

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Query") { name } }'
BEHIND_FRAGMENTS = (
    "query { ...Root ... on Query { viewer { kind } } } fragment Root on Query { ... on Query { s: __schema { "
    "queryType { name } } } }"
)

#: Who may introspect under each setting.
ALLOWED = {
    Introspection.ALL: {"guest", "integration", "admin"},
    Introspection.AUTHENTICATED: {"integration", "admin"},
    Introspection.ADMINS: {"admin"},
    Introspection.OFF: set(),
}


@pytest.fixture(params=list(Introspection), ids=lambda value: value.value)
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The test database's settings, under each value of ``INTROSPECTION``."""
    return dataclasses.replace(settings, introspection=request.param)


@pytest.fixture
def callers(guest: GraphQLClient, integration: IntegrationCaller, admin: GraphQLClient) -> dict[str, GraphQLClient]:
    return {"guest": guest, "integration": integration(Resource.PRODUCTS), "admin": admin}


async def test_who_may_read_the_schema(settings: Settings, callers: dict[str, GraphQLClient]) -> None:
    allowed = ALLOWED[settings.introspection]
    for who, caller in callers.items():
        for document in (SCHEMA, TYPE, BEHIND_FRAGMENTS):
            body = await caller.query(document)
            if who in allowed:
                assert "errors" not in body, (who, document, body)
                assert body["data"]
            else:
                assert body["data"] is None, (who, document)
                assert caller.error_codes(body) == ["INTROSPECTION_DISABLED"], (who, document)
                assert "introspection" in body["errors"][0]["message"]
                response = await caller.post(document, headers={"accept": "application/graphql-response+json"})
                assert response.status_code == 400
                assert "data" not in response.json()
        assert (await caller.data("{ __typename viewer { __typename kind } }"))["__typename"] == "Query"


async def test_refusal_is_decided_per_caller_not_cached_per_document(
    settings: Settings, callers: dict[str, GraphQLClient]
) -> None:
    allowed = ALLOWED[settings.introspection]
    for _ in range(2):  # the same document, alternating callers: each gets its own answer
        for who, caller in callers.items():
            body = await caller.query(SCHEMA)
            assert ("errors" not in body) is (who in allowed), (who, body)


async def test_only_the_operation_that_runs_counts(settings: Settings, guest: GraphQLClient) -> None:
    document = f"query Plain {{ viewer {{ kind }} }} query Schema {SCHEMA}"
    response = await guest.http.post(PATH, json={"query": document, "operationName": "Plain"})
    assert response.json()["data"] == {"viewer": {"kind": "GUEST"}}
    assert "errors" not in response.json()
    response = await guest.http.post(PATH, json={"query": document, "operationName": "Schema"})
    assert ("errors" in response.json()) is ("guest" not in ALLOWED[settings.introspection])


@pytest.mark.parametrize("settings", [Introspection.ADMINS], indirect=True, ids=["admins"])
async def test_graphiql_works_for_admins_when_only_admins_may_introspect(
    client: httpx.AsyncClient, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    page = await client.get(PATH, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    schema = await admin.data(get_introspection_query())
    assert schema["__schema"]["queryType"]["name"] == "Query"
    assert len(schema["__schema"]["types"]) > 20
    assert guest.error_codes(await guest.query(get_introspection_query())) == ["INTROSPECTION_DISABLED"]


async def test_validation_errors_suggest_names_only_to_callers_who_may_introspect(
    settings: Settings, callers: dict[str, GraphQLClient]
) -> None:
    for who, caller in callers.items():
        body = await caller.query("{ viewr { kind } }")
        message = body["errors"][0]["message"]
        assert message.startswith("Cannot query field 'viewr' on type 'Query'."), message
        assert ("Did you mean 'viewer'?" in message) is (who in ALLOWED[settings.introspection]), (who, message)
        assert caller.error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
