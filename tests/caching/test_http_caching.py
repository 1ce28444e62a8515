"""HTTP caching of GraphQL GET answers: ``public`` only for what every guest would get alike, strong ETags and
``304 Not Modified``, ``Vary``, and the store settings for ``max-age`` and ``stale-while-revalidate``."""

from __future__ import annotations

import httpx
import pytest

from auth.resources import Resource
from tests.support.graphql import GraphQLClient
from tests.support.principals import IntegrationCaller, set_guest_access

pytestmark = pytest.mark.usefixtures("store")

PRODUCTS = "{ products(first: 5) { edges { node { sku name price categories { name } } } } }"
PRIVATE = "private, no-store"


def is_public(response: httpx.Response) -> bool:
    return response.headers["cache-control"].startswith("public")


def vary(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers["vary"].split(",")}


async def test_a_guest_answer_is_public_with_a_strong_etag_and_cache_tags(guest: GraphQLClient) -> None:
    response = await guest.get(PRODUCTS)
    assert response.status_code == 200 and response.json()["data"]["products"]["edges"]
    assert response.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=60"
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert {"authorization", "accept"} <= vary(response)
    tags = set(response.headers["xkey"].split())
    assert tags == {Resource.PRODUCTS, Resource.CATEGORIES, "graphql"}


async def test_the_same_answer_has_the_same_etag_and_if_none_match_gets_304(guest: GraphQLClient) -> None:
    first = await guest.get(PRODUCTS)
    again = await guest.get(PRODUCTS)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    etag = first.headers["etag"]
    for if_none_match in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        unchanged = await guest.get(PRODUCTS, headers={"If-None-Match": if_none_match})
        assert unchanged.status_code == 304, if_none_match
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert is_public(unchanged) and {"authorization", "accept"} <= vary(unchanged)
    changed = await guest.get(PRODUCTS, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


async def test_each_media_type_has_its_own_etag(guest: GraphQLClient) -> None:
    plain = await guest.get(PRODUCTS, headers={"Accept": "application/json"})
    graphql = await guest.get(PRODUCTS, headers={"Accept": "application/graphql-response+json"})
    assert plain.content == graphql.content
    assert plain.headers["content-type"] == "application/json"
    assert graphql.headers["content-type"].startswith("application/graphql-response+json")
    assert plain.headers["etag"] != graphql.headers["etag"]
    crossed = await guest.get(
        PRODUCTS, headers={"Accept": "application/graphql-response+json", "If-None-Match": plain.headers["etag"]}
    )
    assert crossed.status_code == 200


async def test_the_etag_changes_when_the_data_does(guest: GraphQLClient, admin: GraphQLClient) -> None:
    before = await guest.get(PRODUCTS)
    sku = before.json()["data"]["products"]["edges"][0]["node"]["sku"]
    product = await admin.data("query($s: String!) { product(sku: $s) { id } }", {"s": sku})
    await admin.data(
        'mutation($id: Int!) { updateProduct(input: {id: $id, name: "Renamed"}) { userErrors { code } } }',
        {"id": product["product"]["id"]},
    )
    after = await guest.get(PRODUCTS, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["data"]["products"]["edges"][0]["node"]["name"] == "Renamed"
    assert after.headers["etag"] != before.headers["etag"]


UPDATE_CACHING = """mutation($input: UpdateCachingConfigInput!) {
  updateCachingConfig(input: $input) { caching { publicMaxAge staleWhileRevalidate } userErrors { field code } }
}"""


async def test_max_age_and_stale_while_revalidate_are_store_settings(
    guest: GraphQLClient, admin: GraphQLClient
) -> None:
    payload = (await admin.data(UPDATE_CACHING, {"input": {"publicMaxAge": 300, "staleWhileRevalidate": 0}}))[
        "updateCachingConfig"
    ]
    assert payload == {"caching": {"publicMaxAge": 300, "staleWhileRevalidate": 0}, "userErrors": []}
    assert (await guest.get(PRODUCTS)).headers["cache-control"] == "public, max-age=300, stale-while-revalidate=0"
    refused = (await admin.data(UPDATE_CACHING, {"input": {"publicMaxAge": -1}}))["updateCachingConfig"]
    assert admin.user_errors(refused) == [(("input", "publicMaxAge"), "OUT_OF_RANGE")]
    back = await admin.data(UPDATE_CACHING, {"input": {"useSystemValue": ["publicMaxAge", "staleWhileRevalidate"]}})
    assert back["updateCachingConfig"]["caching"] == {"publicMaxAge": 60, "staleWhileRevalidate": 60}


@pytest.mark.parametrize(
    "personal",
    ["viewer { kind name }", "rateLimit { remaining }"],
    ids=["viewer", "rateLimit"],
)
async def test_personal_data_makes_the_answer_private(guest: GraphQLClient, personal: str) -> None:
    response = await guest.get("{ products(first: 1) { edges { node { sku } } } " + personal + " }")
    assert response.status_code == 200 and not response.json().get("errors"), response.text
    assert response.headers["cache-control"] == PRIVATE
    assert "etag" not in response.headers and "xkey" not in response.headers


async def test_a_field_guests_may_not_use_makes_the_answer_private(admin: GraphQLClient) -> None:
    response = await admin.get("{ customers(first: 1) { edges { node { email } } } }")
    assert response.status_code == 200 and response.json()["data"]["customers"]["edges"]
    assert response.headers["cache-control"] == PRIVATE and "etag" not in response.headers


async def test_introspection_is_never_public(guest: GraphQLClient) -> None:
    response = await guest.get("{ __schema { queryType { name } } }")
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    assert response.headers["cache-control"] == PRIVATE


async def test_a_caller_holding_the_catalog_gets_a_private_answer(admin: GraphQLClient) -> None:
    response = await admin.get(PRODUCTS)
    assert response.status_code == 200 and response.json()["data"]["products"]["edges"]
    assert response.headers["cache-control"] == PRIVATE and "etag" not in response.headers


async def test_a_caller_without_guest_eligible_resources_gets_the_guests_public_answer(
    guest: GraphQLClient, integration: IntegrationCaller
) -> None:
    as_guest = await guest.get(PRODUCTS)
    outsider = await integration(Resource.CUSTOMERS).get(PRODUCTS)
    assert outsider.content == as_guest.content
    assert is_public(outsider) and outsider.headers["etag"] == as_guest.headers["etag"]


async def test_errors_are_private(guest: GraphQLClient, admin: GraphQLClient) -> None:
    too_many = await guest.get("{ products(first: 1000) { edges { node { sku } } } }")
    assert guest.error_codes(too_many.json()) == ["BAD_USER_INPUT"]
    assert too_many.headers["cache-control"] == PRIVATE
    await set_guest_access(admin, False)
    refused = await guest.get(PRODUCTS)
    assert guest.error_codes(refused.json()) == ["UNAUTHENTICATED"]
    assert refused.headers["cache-control"] == PRIVATE and "etag" not in refused.headers
    parse_error = await guest.get("{ products(")
    assert parse_error.headers["cache-control"] == PRIVATE


async def test_a_cacheable_answer_carries_no_callers_bucket(guest: GraphQLClient) -> None:
    cached = (await guest.get(PRODUCTS)).json()
    assert "extensions" not in cached
    posted = await guest.query(PRODUCTS)
    assert posted["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] >= 0
    assert posted["data"] == cached["data"]


async def test_post_answers_are_never_stored(guest: GraphQLClient) -> None:
    response = await guest.post(PRODUCTS)
    assert "no-store" in response.headers["cache-control"] and "etag" not in response.headers
