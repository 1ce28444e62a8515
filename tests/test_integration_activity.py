"""Per-integration activity: calls counted per resource from the access decision, denials per missing resource,
what the admin reads (`Integration.activity`), unused resources and trimming a grant to the used ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from typing import Any

import pytest

from auth import acl
from auth.activity_flush import purge, today, upsert
from auth.grants import GrantSpec
from models import IntegrationActivity, IntegrationGrant
from models.integration import SETUP_CONFIG
from resolvers.integrations.service import global_id
from resolvers.integrations.trim import LEAVES, granted_leaves, trimmed_grant, unused_leaves
from settings import Settings
from tests.support.audit import one_event, stored_events
from tests.support.graphql import GraphQLClient
from tests.support.integrations import YOUR_PASSWORD
from tests.support.oauth import Creds, make_integration, signed_gql
from tests.support.statements import sql_statements


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The background flush never comes between a test's calls and its own flush."""
    return dataclasses.replace(settings, activity_flush_seconds=3600)


PRODUCTS = "Magento_Catalog::products"
CATEGORIES = "Magento_Catalog::categories"
CUSTOMERS = "Magento_Customer::manage"
ORDERS = "Magento_Sales::actions_view"

ACTIVITY = """query($id: ID!, $days: Int!) { integration(id: $id) { activity {
  lastUsedAt lastUsedFrom calls denied
  byResource { resource calls denied lastUsedAt }
  daily(days: $days) { date calls denied }
} } }"""
UNUSED = "query($id: ID!, $days: Int!) { integration(id: $id) { unusedResources(days: $days) } }"
TRIM = """mutation($id: ID!, $days: Int!, $currentPassword: String) {
  trimIntegrationGrant(id: $id, days: $days, currentPassword: $currentPassword) {
    integration { id resourceAccess resources partialResources selectedResources }
    removedResources
    userErrors { field message code }
  }
}"""
GRID = "query($n: Int!) { integrations(first: $n) { edges { node { name activity { lastUsedAt } } } } }"


def granted(*selected: str) -> tuple[str, ...]:
    """A Custom grant of ``selected`` as the database stores it (expanded)."""
    return tuple(sorted(GrantSpec.custom(selected).held))


async def flush(app: Any) -> int:
    return int(await app.state.activity.flush())


async def call(guest: GraphQLClient, creds: Creds, query: str) -> dict[str, Any]:
    """A signed request from the integration (the in-process client's address is 127.0.0.1)."""
    return await signed_gql(guest, creds, query)


async def activity_of(admin: GraphQLClient, creds: Creds, days: int = 30) -> dict[str, Any]:
    body = await admin.data(ACTIVITY, {"id": global_id(creds.integration_id), "days": days})
    return body["integration"]["activity"]


def by_resource(activity: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {r["resource"]: (r["calls"], r["denied"]) for r in activity["byResource"]}


async def record(integration_id: int, resource: str, day: dt.date, calls: int, denied: int = 0) -> None:
    """Counts as a flush writes them, for days in the past."""
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    await upsert([(integration_id, resource, day, calls, denied, at, "192.0.2.7")])


# ------------------------------------------------------------------------------------------ counting


async def test_calls_are_counted_per_resource_and_denials_per_missing_resource(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    creds = await make_integration("Counted", resources=granted("Magento_Catalog::catalog_inventory", ORDERS))
    for _ in range(3):
        assert "errors" not in await call(guest, creds, "{ products(first: 1) { edges { node { sku } } } }")
    # One request needing two resources counts once for each, and once as a request.
    await call(guest, creds, "{ products(first: 1) { totalCount } categories(first: 1) { totalCount } }")
    # Customers are not granted: the field is denied, the products in the same request are not.
    body = await call(guest, creds, "{ customers(first: 1) { totalCount } products(first: 1) { totalCount } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    await call(guest, creds, "{ viewer { kind } }")  # needs no resource: a request all the same
    assert await flush(app) == 4  # requests, products, categories, customers: one row each for today

    activity = await activity_of(admin, creds)
    assert by_resource(activity) == {PRODUCTS: (5, 0), CATEGORIES: (1, 0), CUSTOMERS: (0, 1)}
    assert (activity["calls"], activity["denied"]) == (5, 1)
    assert activity["lastUsedFrom"] == "127.0.0.1"
    last = dt.datetime.fromisoformat(activity["lastUsedAt"])
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - last < dt.timedelta(minutes=5)
    days = activity["daily"]
    assert len(days) == 30 and days[-1] == {"date": today().isoformat(), "calls": 5, "denied": 1}
    assert all(d["calls"] == d["denied"] == 0 for d in days[:-1])
    assert [dt.date.fromisoformat(d["date"]) for d in days] == [today() - dt.timedelta(days=29 - n) for n in range(30)]

    # Later flushes add to the stored counts.
    await call(guest, creds, "{ products(first: 1) { totalCount } }")
    assert await flush(app) == 2
    assert by_resource(await activity_of(admin, creds))[PRODUCTS] == (6, 0)
    assert await flush(app) == 0  # nothing new: nothing written


async def test_each_missing_resource_of_a_denied_request_is_counted(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    creds = await make_integration("Denied", resources=granted("Magento_Cms::page"))
    body = await call(
        guest, creds, "{ customers(first: 1) { totalCount } orders(first: 1) { totalCount } cmsPages { totalCount } }"
    )
    assert sorted(e["extensions"]["code"] for e in body["errors"]) == ["FORBIDDEN", "FORBIDDEN"]
    # An admin-only field names no missing resource: its own resource counts as denied.
    await call(guest, creds, "{ integrations(first: 1) { totalCount } }")
    await flush(app)
    activity = await activity_of(admin, creds)
    assert by_resource(activity) == {
        CUSTOMERS: (0, 1),
        ORDERS: (0, 1),
        "Magento_Cms::page": (1, 0),
        "Magento_Integration::integrations": (0, 1),
    }
    assert (activity["calls"], activity["denied"]) == (0, 2)


async def test_only_integrations_are_counted(
    app: Any, admin: GraphQLClient, guest: GraphQLClient, integration: Any
) -> None:
    await admin.data("{ products(first: 1) { totalCount } }")
    await guest.query("{ products(first: 1) { totalCount } }")
    assert await flush(app) == 0
    # The test integrations of ``integration(...)`` have no row: what they did is dropped at the flush, and the
    # counts of real integrations in the same flush are written.
    creds = await make_integration("Real", resources=granted(PRODUCTS))
    await integration(PRODUCTS).data("{ products(first: 1) { totalCount } }")
    await call(guest, creds, "{ products(first: 1) { totalCount } }")
    assert await flush(app) == 2
    assert await IntegrationActivity.filter(integration_id=creds.integration_id).count() == 2
    assert await IntegrationActivity.all().count() == 2


async def test_counts_of_an_integration_deleted_before_the_flush_are_dropped(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    kept = await make_integration("Kept", resources=granted(PRODUCTS))
    gone = await make_integration("Gone", resources=granted(PRODUCTS))
    await call(guest, kept, "{ products(first: 1) { totalCount } }")
    await call(guest, gone, "{ products(first: 1) { totalCount } }")
    body = await admin.query(
        "mutation($id: ID!, $currentPassword: String) { deleteIntegration(id: $id, currentPassword: $currentPassword) "
        "{ deletedId } }",
        {"id": global_id(gone.integration_id), **YOUR_PASSWORD},
    )
    assert body["data"]["deleteIntegration"]["deletedId"]
    assert await flush(app) == 2
    assert set(await IntegrationActivity.all().values_list("integration_id", flat=True)) == {kept.integration_id}


# ------------------------------------------------------------------------------------------ reading


async def test_the_grid_reads_last_use_in_one_statement_per_page(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    made = [await make_integration(f"Grid {n}", resources=granted(PRODUCTS)) for n in range(6)]
    for creds in made[::2]:
        await call(guest, creds, "{ products(first: 1) { totalCount } }")
    await flush(app)

    async def statements(size: int) -> int:
        with sql_statements() as sent:
            body = await admin.data(GRID, {"n": size})
        selects = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
        nodes = [e["node"] for e in body["integrations"]["edges"]]
        assert len(nodes) == size
        assert sum(n["activity"]["lastUsedAt"] is not None for n in nodes) == (size + 1) // 2
        return sum("integration_activity" in s for s in selects)

    assert await statements(2) == await statements(6) == 1


async def test_last_use_outlives_the_retention_period_and_old_days_are_deleted(app: Any, admin: GraphQLClient) -> None:
    creds = await make_integration("Old", resources=granted(PRODUCTS))
    long_ago = today() - dt.timedelta(days=400)
    await record(creds.integration_id, "", long_ago, 2)
    await record(creds.integration_id, PRODUCTS, long_ago, 2)
    await record(creds.integration_id, "", today() - dt.timedelta(days=89), 1)  # the first day kept
    await record(creds.integration_id, "", today() - dt.timedelta(days=200), 3)
    assert await purge(90) == 3  # the rows of days -400 and -200: the latest requests row is day -89
    activity = await activity_of(admin, creds, days=90)
    assert activity["calls"] == 1
    assert activity["lastUsedAt"].startswith((today() - dt.timedelta(days=89)).isoformat())
    assert activity["daily"][0] == {"date": (today() - dt.timedelta(days=89)).isoformat(), "calls": 1, "denied": 0}

    # An integration last used long ago keeps that one row (and its last use).
    other = await make_integration("Dormant", resources=granted(PRODUCTS))
    await record(other.integration_id, "", long_ago, 5)
    await record(other.integration_id, PRODUCTS, long_ago, 5)
    await purge(90)
    rows = await IntegrationActivity.filter(integration_id=other.integration_id).values_list("resource", "day")
    assert rows == [("", long_ago)]
    activity = await activity_of(admin, other)
    assert activity["lastUsedAt"].startswith(long_ago.isoformat())
    assert (activity["calls"], activity["byResource"]) == (0, [])


async def test_days_outside_the_kept_period_are_bad_user_input(app: Any, admin: GraphQLClient) -> None:
    creds = await make_integration("Period", resources=granted(PRODUCTS))
    for days in (0, 91):
        body = await admin.query(ACTIVITY, {"id": global_id(creds.integration_id), "days": days})
        assert admin.error_codes_by_path(body) == {"integration.activity.daily": "BAD_USER_INPUT"}
        body = await admin.query(UNUSED, {"id": global_id(creds.integration_id), "days": days})
        assert admin.error_codes_by_path(body) == {"integration.unusedResources": "BAD_USER_INPUT"}


async def test_integrations_cannot_read_activity(integration: Any) -> None:
    creds_id = global_id(1)
    body = await integration("Magento_Integration::integrations").query(
        "query($id: ID!) { integration(id: $id) { activity { calls } } }", {"id": creds_id}
    )
    assert body["data"]["integration"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


# ------------------------------------------------------------------------------------------ unused and trimming

#: Catalog (products used, categories not), Sales (nothing used) and Customers > All Customers (used).
BRANCHES = ("Magento_Catalog::catalog", "Magento_Sales::sales", CUSTOMERS)


async def used_and_unused(app: Any, guest: GraphQLClient) -> Creds:
    creds = await make_integration("Branches", resources=granted(*BRANCHES))
    await call(guest, creds, "{ products(first: 1) { totalCount } }")
    await call(guest, creds, "{ customers(first: 1) { totalCount } }")
    await flush(app)
    # An allowed call 60 days ago, and calls of a resource the grant no longer holds.
    await record(creds.integration_id, "Magento_Catalog::edit_category_design", today() - dt.timedelta(days=60), 1)
    await record(creds.integration_id, "Magento_Cms::page", today(), 4)
    return creds


async def test_unused_resources_are_the_granted_leaves_without_an_allowed_call(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    creds = await used_and_unused(app, guest)
    unused = (await admin.data(UNUSED, {"id": global_id(creds.integration_id), "days": 30}))["integration"]
    sales_leaves = [leaf for leaf in LEAVES if "Magento_Sales::sales" in acl.TREE.ancestors(leaf)]
    # Products covers its own leaf below it (Edit Product Design); a used leaf is used; Sales is all unused.
    assert unused["unusedResources"] == [*sales_leaves, "Magento_Catalog::edit_category_design"]
    assert "Magento_Customer::manage" in LEAVES
    longer = (await admin.data(UNUSED, {"id": global_id(creds.integration_id), "days": 90}))["integration"]
    assert longer["unusedResources"] == sales_leaves  # the design call of 60 days ago counts now


async def test_trim_narrows_to_the_used_branches_and_never_adds_a_resource(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    creds = await used_and_unused(app, guest)
    before = set(granted(*BRANCHES))
    body = await admin.data(TRIM, {"id": global_id(creds.integration_id), "days": 30, **YOUR_PASSWORD})
    payload = body["trimIntegrationGrant"]
    assert payload["userErrors"] == []
    integration = payload["integration"]
    assert integration["resourceAccess"] == "CUSTOM"
    assert integration["selectedResources"] == [PRODUCTS, CUSTOMERS]
    assert set(integration["resources"]) == {PRODUCTS, "Magento_Catalog::edit_product_design", CUSTOMERS}
    assert set(integration["resources"]) <= before  # Cms pages were called but are not granted: not added
    assert set(integration["partialResources"]) == {
        "Magento_Backend::admin",
        "Magento_Catalog::catalog",
        "Magento_Catalog::catalog_inventory",
        "Magento_Customer::customer",
    }
    assert set(payload["removedResources"]) == before - set(integration["resources"])
    event = await one_event("integration.grant_trimmed")  # in the audit trail, by the admin, with what went
    assert (event["actor_type"], event["target_id"]) == ("ADMIN", str(creds.integration_id))
    assert event["details"]["removed"] == sorted(payload["removedResources"])
    assert event["details"]["days"] == 30

    # The narrower grant is the one enforced from the next request.
    assert "errors" not in await call(guest, creds, "{ products(first: 1) { totalCount } }")
    body = await call(guest, creds, "{ categories(first: 1) { totalCount } }")
    assert body["errors"][0]["extensions"]["missingResources"] == [CATEGORIES]

    # Trimming again removes nothing and writes nothing.
    stored = await IntegrationGrant.get(integration_id=creds.integration_id)
    again = (await admin.data(TRIM, {"id": global_id(creds.integration_id), "days": 30, **YOUR_PASSWORD}))[
        "trimIntegrationGrant"
    ]
    assert (again["userErrors"], again["removedResources"]) == ([], [])
    assert len(await stored_events("integration.grant_trimmed")) == 1
    assert (await IntegrationGrant.get(integration_id=creds.integration_id)).updated_at == stored.updated_at


async def test_an_all_grant_becomes_custom_of_the_used_resources(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    creds = await make_integration("Everything", resources=(), all_resources=True)
    await call(guest, creds, "{ orders(first: 1) { totalCount } }")
    await flush(app)
    unused = (await admin.data(UNUSED, {"id": global_id(creds.integration_id), "days": 90}))["integration"]
    assert unused["unusedResources"] == [leaf for leaf in LEAVES if leaf != ORDERS]
    payload = (await admin.data(TRIM, {"id": global_id(creds.integration_id), "days": 90, **YOUR_PASSWORD}))[
        "trimIntegrationGrant"
    ]
    assert payload["userErrors"] == []
    assert payload["removedResources"] == [acl.ALL]
    assert payload["integration"]["resourceAccess"] == "CUSTOM"
    assert payload["integration"]["resources"] == [ORDERS]


async def test_trim_refusals(app: Any, admin: GraphQLClient, guest: GraphQLClient) -> None:
    creds = await used_and_unused(app, guest)
    variables = {"id": global_id(creds.integration_id), "days": 30}

    async def refused(**extra: Any) -> list[tuple[tuple[str, ...] | None, str]]:
        payload = (await admin.data(TRIM, {**variables, **extra}))["trimIntegrationGrant"]
        return admin.user_errors(payload)

    assert await refused() == [(("currentPassword",), "REQUIRED")]
    assert await refused(currentPassword="not it") == [(("currentPassword",), "INVALID_PASSWORD")]
    assert await refused(days=91, **YOUR_PASSWORD) == [(("days",), "OUT_OF_RANGE")]
    assert await refused(id=global_id(9999), **YOUR_PASSWORD) == [(("id",), "NOT_FOUND")]
    idle = await make_integration("Idle", resources=granted(*BRANCHES))
    assert await refused(id=global_id(idle.integration_id), **YOUR_PASSWORD) == [(("days",), "NOTHING_USED")]
    assert set((await IntegrationGrant.get(integration_id=idle.integration_id)).resources) == set(granted(*BRANCHES))
    from models import Integration

    await Integration.filter(id=creds.integration_id).update(setup_type=SETUP_CONFIG)
    assert await refused(**YOUR_PASSWORD) == [(("id",), "READ_ONLY")]
    stored = await IntegrationGrant.get(integration_id=creds.integration_id)
    assert set(stored.resources) == set(granted(*BRANCHES))


def test_trimming_never_adds_a_resource_whatever_was_used() -> None:
    """The pure narrowing, over random grants and random used sets (resources not granted among them)."""
    every = sorted(r for r in acl.TREE._nodes)
    chance = random.Random(15)
    for _ in range(500):
        spec = GrantSpec.custom(chance.sample(every, chance.randint(1, 6)))
        used = frozenset(chance.sample(every, chance.randint(0, 8)))
        trimmed = trimmed_grant(False, spec.held, used)
        assert trimmed.held <= spec.held
        assert not trimmed.held & trimmed.partial
        assert all(set(acl.TREE.ancestors(r)) <= trimmed.held | trimmed.partial for r in trimmed.held)
        # What was unused goes; every leaf that stays was used (or lies under a used resource).
        kept_leaves = set(granted_leaves(False, trimmed.held))
        assert kept_leaves == set(granted_leaves(False, spec.held)) - set(unused_leaves(False, spec.held, used))
    for used in itertools.islice(itertools.combinations(every, 2), 0, None, 97):
        trimmed = trimmed_grant(True, frozenset({acl.ALL}), frozenset(used))
        assert acl.ALL not in trimmed.held and not trimmed.all_resources


async def test_the_retention_setting_bounds_the_periods(app: Any, admin: GraphQLClient) -> None:
    update = """mutation($days: Int!) { updateOAuthConfig(input: {activityRetentionDays: $days}) {
      oauth { activityRetentionDays } userErrors { field code } } }"""
    refused = (await admin.data(update, {"days": 89}))["updateOAuthConfig"]
    assert admin.user_errors(refused) == [(("input", "activityRetentionDays"), "OUT_OF_RANGE")]
    saved = (await admin.data(update, {"days": 120}))["updateOAuthConfig"]
    assert saved["oauth"] == {"activityRetentionDays": 120}
    creds = await make_integration("Longer", resources=granted(PRODUCTS))
    await record(creds.integration_id, "", today() - dt.timedelta(days=119), 2)
    await record(creds.integration_id, "", today() - dt.timedelta(days=120), 5)
    activity = await activity_of(admin, creds, days=120)
    assert (activity["calls"], activity["daily"][0]["calls"], len(activity["daily"])) == (2, 2, 120)
    body = await admin.query(ACTIVITY, {"id": global_id(creds.integration_id), "days": 121})
    assert admin.error_codes_by_path(body) == {"integration.activity.daily": "BAD_USER_INPUT"}


async def test_the_client_address_is_the_one_a_trusted_proxy_names(
    app: Any, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    """The in-process client is 127.0.0.1, a trusted proxy by default: its X-Forwarded-For names the client (and
    an address longer than the column is cut, not a failed flush)."""
    creds = await make_integration("Proxied", resources=granted(PRODUCTS))
    query = "{ products(first: 1) { totalCount } }"
    await signed_gql(guest, creds, query, headers={"X-Forwarded-For": "203.0.113.9"})
    await flush(app)
    assert (await activity_of(admin, creds))["lastUsedFrom"] == "203.0.113.9"
    await signed_gql(guest, creds, query, headers={"X-Forwarded-For": "x" * 100})
    assert await flush(app) == 2
    assert (await activity_of(admin, creds))["lastUsedFrom"] == "x" * 64
