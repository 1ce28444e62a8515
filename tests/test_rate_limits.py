"""Query cost, ``maxQueryCost`` and leaky-bucket throttling, through HTTP.

The costs asserted here are the worked examples of ``docs/connect-third-party-app.md`` ("Query cost").
Time is driven (``auth.clock``), so a bucket's recovery is tested without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry

from auth.clock import clock
from auth.rules import public
from models.integration import Integration as IntegrationRow
from schema import build_schema
from schema.access import AccessQuery
from settings import Settings
from tests.support.graphql import GraphQLClient, asgi_client
from tests.support.oauth import make_integration, signed_gql
from tests.support.principals import IntegrationCaller, serving

PRODUCTS_WITH_CATEGORIES = "{ products(first: 20) { edges { node { sku name price categories { name } } } } }"
UPDATE = (
    "mutation($i: UpdateRateLimitConfigInput!) { updateRateLimitConfig(input: $i) { rateLimits { "
    "throttlingEnabled maxQueryCost integrationBucketSize integrationRestoreRate guestBucketSize guestRestoreRate "
    "usesSystemValue } userErrors { field code } } }"
)
RATE_LIMIT = "{ rateLimit { cost limit remaining resetAt restoreRate } }"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


@pytest.fixture(autouse=True)
def _time_stands_still() -> None:
    """Buckets refill with time: stopped, the points each test sees are exact however slow the machine is
    (``clock.advance`` moves it on; the clock is reset after every test)."""
    clock.freeze()


async def configure(admin: GraphQLClient, **values: Any) -> dict[str, Any]:
    payload = (await admin.data(UPDATE, {"i": values}))["updateRateLimitConfig"]
    assert payload["userErrors"] == [], payload
    return payload["rateLimits"]


def cost_of(body: dict[str, Any]) -> dict[str, Any]:
    return body["extensions"]["cost"]


@pytest.mark.parametrize(
    ("document", "variables", "cost"),
    [
        ("{ __typename }", None, 0),
        ("{ viewer { name kind } }", None, 1),
        (PRODUCTS_WITH_CATEGORIES, None, 42),
        ("{ products(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor node { sku } } } }", None, 12),
        ("{ products { edges { node { sku } } } }", None, 22),
        ("query($n: Int!) { products(first: $n) { edges { node { sku } } } }", {"n": 7}, 9),
        ("query($n: Int! = 5) { products(first: $n) { edges { node { sku } } } }", None, 7),
        (
            "query { ...Page } fragment Page on Query { products(first: 3) { edges { node { ...Item } } } } "
            "fragment Item on Product { sku categories { name } }",
            None,
            8,
        ),
        (
            "mutation { setGuestAccess(allow: false) { webApiSecurity { allowAnonymousGuestAccess } "
            "userErrors { message } } }",
            None,
            12,
        ),
    ],
)
async def test_documented_costs(admin: GraphQLClient, document: str, variables: Any, cost: int) -> None:
    body = await admin.query(document, variables)
    assert "errors" not in body, body
    assert cost_of(body) == {
        "requestedQueryCost": cost,
        "actualQueryCost": cost,
        "throttleStatus": {
            "maximumAvailable": 2000,
            "currentlyAvailable": pytest.approx(2000 - cost, abs=2),
            "restoreRate": 100,
        },
    }


async def test_the_same_document_costs_what_its_variables_ask_for(admin: GraphQLClient) -> None:
    document = "query($n: Int!) { products(first: $n) { edges { node { sku } } } }"
    costs = [cost_of(await admin.query(document, {"n": n}))["requestedQueryCost"] for n in (1, 50, 3, 1000)]
    assert costs == [3, 52, 5, 102]  # a page above MAX_PAGE_SIZE counts as the largest (and is refused itself)


# A nested connection: the store's schema has none, so a tiny one shows the rule (the docs' "shelves" example).
@strawberry.type
class Part:
    name: str


@strawberry.type
class PartEdge:
    node: Part
    cursor: str


@strawberry.type
class PartConnection:
    edges: list[PartEdge]
    total_count: int


@strawberry.type
class Label:
    text: str


@strawberry.type
class Shelf:
    name: str
    label: Label

    @strawberry.field
    def parts(self, first: int = 10) -> PartConnection:
        edges = [PartEdge(node=Part(name=f"part {n}"), cursor=str(n)) for n in range(first)]
        return PartConnection(edges=edges, total_count=first)


@strawberry.type
class ShelfEdge:
    node: Shelf
    cursor: str


@strawberry.type
class ShelfConnection:
    edges: list[ShelfEdge]


@strawberry.type
class ShelfQuery:
    @strawberry.field(extensions=[public()])
    def shelves(self, first: int = 20) -> ShelfConnection | None:
        shelf = Shelf(name="top", label=Label(text="A"))
        return ShelfConnection(edges=[ShelfEdge(node=shelf, cursor=str(n)) for n in range(first)])


@pytest.fixture
async def shelves_app(settings: Settings) -> AsyncIterator[Any]:
    schema = build_schema(settings, query_parts=(AccessQuery, ShelfQuery), mutation_parts=())
    async with serving(settings, schema=schema) as application:
        yield application


@pytest.mark.once
@pytest.mark.parametrize(
    ("document", "cost"),
    [
        (
            "{ shelves(first: 10) { edges { node { name label { text } "
            "parts(first: 5) { edges { node { name } } } } } } }",
            92,
        ),
        ("{ shelves(first: 2) { edges { node { parts { totalCount } } } } }", 8),  # 2 x (1 + 10 x 0 + 2) + 2
        (
            "query($s: Int!, $p: Int!) { shelves(first: $s) { edges { node { "
            "parts(first: $p) { edges { node { name } } } } } } }",
            0,
        ),
    ],
)
async def test_nested_connections_multiply(shelves_app: Any, document: str, cost: int) -> None:
    async with asgi_client(shelves_app) as http:
        caller = GraphQLClient(http)
        variables = {"s": 4, "p": 3} if "$s" in document else None
        body = await caller.query(document, variables)
    assert "errors" not in body, body
    expected = cost or 4 * (3 * 1 + 2 + 1) + 2  # 4 shelves x (1 + 3 parts x 1 + 2) + 2 = 26
    assert cost_of(body)["requestedQueryCost"] == expected


async def test_a_costlier_document_than_max_query_cost_never_runs(admin: GraphQLClient) -> None:
    await configure(admin, maxQueryCost=100)
    document = "{ products(first: 60) { edges { node { sku categories { name } } } } }"
    body = await admin.query(document)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 122, "maxCost": 100}
    assert cost_of(body)["requestedQueryCost"] == 122
    assert cost_of(body)["actualQueryCost"] == 0
    before = cost_of(body)["throttleStatus"]["currentlyAvailable"]
    again = await admin.query(document)
    assert cost_of(again)["throttleStatus"]["currentlyAvailable"] >= before  # nothing taken
    response = await admin.post(document, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 400
    assert "data" not in response.json()
    # Not below 100, so that an admin can always send updateRateLimitConfig (12 points) to raise it again.
    body = await admin.data(UPDATE, {"i": {"maxQueryCost": 99}})
    assert body["updateRateLimitConfig"]["userErrors"] == [{"field": ["input", "maxQueryCost"], "code": "OUT_OF_RANGE"}]


async def test_an_integration_is_throttled_with_429_and_recovers_after_the_restore_time(
    admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    await configure(admin, integrationBucketSize=100, integrationRestoreRate=10)
    caller = integration("Magento_Catalog::products")
    document = "{ products(first: 40) { edges { node { sku } } } }"  # 42 points
    first = await caller.query(document)
    assert cost_of(first)["throttleStatus"]["currentlyAvailable"] == 58
    await caller.data(document)
    response = await caller.post(document)
    assert response.status_code == 429
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "THROTTLED"
    available = cost_of(body)["throttleStatus"]["currentlyAvailable"]
    assert available == 16
    assert cost_of(body)["actualQueryCost"] == 0
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    wait = int(response.headers["retry-after"])
    assert wait == math.ceil((42 - available) / 10) == 3
    clock.advance(wait)
    assert "errors" not in await caller.query(document)


async def test_each_caller_has_its_own_bucket(
    admin: GraphQLClient, guest: GraphQLClient, integration: IntegrationCaller, app: Any
) -> None:
    await configure(admin, guestBucketSize=3, guestRestoreRate=1)
    viewer = "{ viewer { kind } }"  # 1 point
    for _ in range(3):
        assert "errors" not in await guest.query(viewer)
    assert guest.error_codes(await guest.query(viewer, expect_status=429)) == ["THROTTLED"]
    assert "errors" not in await admin.query(viewer)
    assert "errors" not in await integration("Magento_Catalog::products").query(viewer)
    async with asgi_client(app, client=("203.0.113.9", 40000)) as http:  # another guest address
        assert "errors" not in await GraphQLClient(http).query(viewer)
        # X-Forwarded-For from a peer that is no trusted proxy does not pick another bucket
        other = GraphQLClient(http)
        for _ in range(2):
            await other.query(viewer, headers={"X-Forwarded-For": "198.51.100.1"})
        body = await other.query(viewer, headers={"X-Forwarded-For": "198.51.100.2"}, expect_status=429)
        assert other.error_codes(body) == ["THROTTLED"]


async def test_rate_limit_reports_the_callers_own_bucket(admin: GraphQLClient, guest: GraphQLClient) -> None:
    limit = (await admin.data(RATE_LIMIT))["rateLimit"]
    assert {k: limit[k] for k in ("cost", "limit", "restoreRate")} == {"cost": 1, "limit": 2000, "restoreRate": 100}
    assert limit["remaining"] == 1999
    guest_limit = (await guest.data(RATE_LIMIT))["rateLimit"]
    assert guest_limit["limit"] == 400
    assert guest_limit["remaining"] == 389  # the admin signed in from this address: a mutation, 10 points
    assert guest_limit["resetAt"] > limit["resetAt"][:19]  # 1 point at 20/s: a moment from now


async def test_throttling_off_takes_nothing_but_max_query_cost_still_applies(
    admin: GraphQLClient, guest: GraphQLClient
) -> None:
    settings = await configure(admin, throttlingEnabled=False, guestBucketSize=2)
    assert settings["throttlingEnabled"] is False
    for _ in range(5):
        body = await guest.query("{ viewer { kind } }")
        assert "errors" not in body
        assert cost_of(body)["throttleStatus"] == {"maximumAvailable": 2, "currentlyAvailable": 2, "restoreRate": 20}
    await configure(admin, maxQueryCost=100)
    assert guest.error_codes(await guest.query("{ products(first: 99) { edges { node { sku } } } }")) == [
        "MAX_COST_EXCEEDED"
    ]


@pytest.mark.once
async def test_rate_limit_settings_are_checked_and_can_use_their_system_value(admin: GraphQLClient) -> None:
    body = await admin.data(UPDATE, {"i": {"maxQueryCost": 0, "guestRestoreRate": 1_000_000}})
    errors = body["updateRateLimitConfig"]["userErrors"]
    assert errors == [
        {"field": ["input", "maxQueryCost"], "code": "OUT_OF_RANGE"},
        {"field": ["input", "guestRestoreRate"], "code": "OUT_OF_RANGE"},
    ]
    changed = await configure(admin, guestBucketSize=50)
    assert changed["guestBucketSize"] == 50
    assert "guestBucketSize" not in changed["usesSystemValue"]
    reset = await configure(admin, useSystemValue=["guestBucketSize"])
    assert reset["guestBucketSize"] == 400
    assert "guestBucketSize" in reset["usesSystemValue"]


async def test_an_integrations_own_limit_applies_to_its_signed_requests(
    admin: GraphQLClient, guest: GraphQLClient
) -> None:
    creds = await make_integration(resources=("Magento_Catalog::products",))
    document = "{ products(first: 8) { edges { node { sku } } } }"  # 10 points
    body = await signed_gql(guest, creds, document)
    assert cost_of(body)["throttleStatus"]["maximumAvailable"] == 1000
    await IntegrationRow.filter(id=creds.integration_id).update(rate_limit_bucket_size=15, rate_limit_restore_rate=1)
    body = await signed_gql(guest, creds, document)
    assert cost_of(body)["throttleStatus"] == {"maximumAvailable": 15, "currentlyAvailable": 5, "restoreRate": 1}
    body = await signed_gql(guest, creds, document, status=429)
    assert guest.error_codes(body) == ["THROTTLED"]


async def test_an_integrations_own_limit_applies_to_its_oauth2_bearer_requests(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    """The bearer lookup reads the integration's own bucket with the token; a change applies to the next request."""
    from tests.support.integrations import db_id
    from tests.support.oauth2 import access_token, active_client

    creds = await active_client(admin, resourceAccess="ALL", rateLimitBucketSize=25)
    caller = guest.with_token(await access_token(client, creds))
    document = "{ products(first: 8) { edges { node { sku } } } }"  # 10 points
    body = await caller.query(document)
    assert cost_of(body)["throttleStatus"] == {"maximumAvailable": 25, "currentlyAvailable": 15, "restoreRate": 50}
    await IntegrationRow.filter(id=db_id(creds)).update(rate_limit_bucket_size=12, rate_limit_restore_rate=1)
    body = await caller.query(document)
    assert cost_of(body)["throttleStatus"] == {"maximumAvailable": 12, "currentlyAvailable": 2, "restoreRate": 1}
    assert guest.error_codes(await caller.query(document, expect_status=429)) == ["THROTTLED"]


INTEGRATION_FIELDS = "integration { rateLimitBucketSize rateLimitRestoreRate } userErrors { field code }"


async def test_admins_set_and_clear_an_integrations_own_limit(admin: GraphQLClient) -> None:
    from tests.support.principals import ADMIN_PASSWORD

    created = (
        await admin.data(
            f"mutation($i: CreateIntegrationInput!) {{ createIntegration(input: $i) {{ {INTEGRATION_FIELDS} "
            "integration { id } } }",
            {"i": {"name": "Limited", "rateLimitBucketSize": 300, "currentPassword": ADMIN_PASSWORD}},
        )
    )["createIntegration"]
    assert created["userErrors"] == []
    assert created["integration"]["rateLimitBucketSize"] == 300
    assert created["integration"]["rateLimitRestoreRate"] is None
    update = f"mutation($i: UpdateIntegrationInput!) {{ updateIntegration(input: $i) {{ {INTEGRATION_FIELDS} }} }}"
    ident = created["integration"]["id"]
    bad = (
        await admin.data(
            update,
            {
                "i": {
                    "id": ident,
                    "rateLimitRestoreRate": -1,
                    "rateLimitBucketSize": 10**9,
                    "currentPassword": ADMIN_PASSWORD,
                }
            },
        )
    )["updateIntegration"]
    assert {tuple(e["field"]): e["code"] for e in bad["userErrors"]} == {
        ("input", "rate_limit_bucket_size"): "OUT_OF_RANGE",
        ("input", "rate_limit_restore_rate"): "OUT_OF_RANGE",
    } or {tuple(e["field"]) for e in bad["userErrors"]} == {
        ("input", "rateLimitBucketSize"),
        ("input", "rateLimitRestoreRate"),
    }
    cleared = (
        await admin.data(
            update,
            {
                "i": {
                    "id": ident,
                    "rateLimitBucketSize": 0,
                    "rateLimitRestoreRate": 25,
                    "currentPassword": ADMIN_PASSWORD,
                }
            },
        )
    )["updateIntegration"]
    assert cleared == {
        "integration": {"rateLimitBucketSize": None, "rateLimitRestoreRate": 25},
        "userErrors": [],
    }
