"""Activity counted by real server processes on one database: counts from two processes add up exactly, a clean
shutdown writes what was left, tracking can be switched off, and trimming a grant never undoes a concurrent edit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import threading
import time
from typing import Any

import httpx
import pytest

from auth.activity_flush import today
from auth.admin_tokens import create_admin
from auth.grants import GrantSpec
from models import IntegrationActivity, IntegrationGrant
from resolvers.integrations.service import global_id
from settings import Settings
from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import UPDATE, YOUR_PASSWORD
from tests.support.oauth import Creds, make_integration, sign
from tests.support.principals import ADMIN_PASSWORD
from tests.test_integration_activity import ACTIVITY, TRIM, by_resource, granted, record

ENCRYPTION_KEY = "activity-test-key-material"
PUBLIC_URL = "http://store.test/graphql"
PRODUCTS = "{ products(first: 1) { totalCount } }"
WITH_CUSTOMERS = "{ products(first: 1) { totalCount } customers(first: 1) { totalCount } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, encryption_key=ENCRYPTION_KEY)


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "STORE_BASE_URL": "http://store.test/",
        **extra,
    }


async def send_signed(creds: Creds, base_urls: list[str], documents: list[str]) -> list[httpx.Response]:
    """Each document signed afresh (its own nonce) and sent to the servers in turn, all at once."""
    async with httpx.AsyncClient(timeout=60) as http:

        def one(n: int, document: str) -> Any:
            headers = {**sign(creds.client(), PUBLIC_URL), "Host": "store.test", "Content-Type": "application/json"}
            url = f"{base_urls[n % len(base_urls)]}/graphql"
            return http.post(url, content=json.dumps({"query": document}), headers=headers)

        return list(await asyncio.gather(*(one(n, d) for n, d in enumerate(documents))))


def wait_for(read: Any, expected: Any, timeout: float = 60.0) -> Any:
    """Read until the value is ``expected`` (a flush comes every second here), else fail with the last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


async def stored_counts(integration_id: int) -> dict[str, tuple[int, int]]:
    rows = await IntegrationActivity.filter(integration_id=integration_id).values_list("resource", "calls", "denied")
    found: dict[str, tuple[int, int]] = {}
    for resource, calls, denied in rows:
        before = found.get(resource, (0, 0))
        found[resource] = (before[0] + calls, before[1] + denied)
    return found


async def test_counts_from_two_processes_add_up_exactly(app: Any, database_url: str, server_factory: Any) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    creds = await make_integration("Busy", resources=granted("Magento_Catalog::catalog"))
    env = server_env(database_url, ACTIVITY_FLUSH_SECONDS="1")
    servers = [server_factory(env), server_factory(env)]
    urls = [s.base_url for s in servers]
    documents = [WITH_CUSTOMERS if n % 3 == 0 else PRODUCTS for n in range(90)]
    responses = await send_signed(creds, urls, documents)
    assert [r.status_code for r in responses] == [200] * 90, [r.text for r in responses if r.status_code != 200]

    admin = SyncGraphQLClient(urls[0]).sign_in("admin", ADMIN_PASSWORD)
    variables = {"id": global_id(creds.integration_id), "days": 1}

    def totals() -> tuple[int, int]:
        activity = admin.data(ACTIVITY, variables)["integration"]["activity"]
        return activity["calls"], activity["denied"]

    # Both processes flush every second: the 60 allowed and 30 denied requests, each counted once.
    assert await asyncio.to_thread(wait_for, totals, (60, 30)) == (60, 30)
    activity = admin.data(ACTIVITY, variables)["integration"]["activity"]
    assert by_resource(activity) == {"Magento_Catalog::products": (90, 0), "Magento_Customer::manage": (0, 30)}
    assert activity["daily"][0]["calls"] == 60
    assert activity["lastUsedFrom"] == "127.0.0.1"

    # Stopping the servers flushes what is left: nothing, and nothing twice.
    for server in servers:
        server.stop()
    assert await stored_counts(creds.integration_id) == {
        "": (60, 30),
        "Magento_Catalog::products": (90, 0),
        "Magento_Customer::manage": (0, 30),
    }


async def test_a_clean_shutdown_writes_what_was_counted_since_the_last_flush(
    app: Any, database_url: str, server_factory: Any
) -> None:
    creds = await make_integration("Brief", resources=granted("Magento_Catalog::products"))
    # The interval never comes: only the shutdown's flush writes.
    servers = [server_factory(server_env(database_url, ACTIVITY_FLUSH_SECONDS="3600")) for _ in range(2)]
    responses = await send_signed(creds, [s.base_url for s in servers], [PRODUCTS] * 40)
    assert {r.status_code for r in responses} == {200}
    assert await stored_counts(creds.integration_id) == {}
    for server in servers:
        server.stop()
    assert await stored_counts(creds.integration_id) == {"": (40, 0), "Magento_Catalog::products": (40, 0)}


async def test_with_activity_tracking_off_nothing_is_counted(app: Any, database_url: str, server_factory: Any) -> None:
    creds = await make_integration("Quiet", resources=granted("Magento_Catalog::products"))
    server = server_factory(server_env(database_url, ACTIVITY_TRACKING="0", ACTIVITY_FLUSH_SECONDS="1"))
    responses = await send_signed(creds, [server.base_url], [PRODUCTS] * 10)
    assert {r.status_code for r in responses} == {200}
    server.stop()
    assert await stored_counts(creds.integration_id) == {}


async def test_trimming_never_undoes_a_concurrent_edit_of_the_grant(
    app: Any, database_url: str, server_factory: Any
) -> None:
    """Trim (from one process) and an edit that narrows the grant to an unused branch (from another), at once:
    the grant ends as the edit left it. Trimming the grant it read before the edit would bring back Products."""
    await create_admin("admin", ADMIN_PASSWORD)
    creds = await make_integration("Raced", resources=granted("Magento_Catalog::catalog_inventory"))
    await record(creds.integration_id, "Magento_Catalog::products", today(), 5)
    env = server_env(database_url)
    first, second = server_factory(env), server_factory(env)
    admin = SyncGraphQLClient(first.base_url).sign_in("admin", ADMIN_PASSWORD)
    elsewhere = admin.at(second.base_url)
    integration_id = global_id(creds.integration_id)
    categories_only = set(GrantSpec.custom(["Magento_Catalog::categories"]).held)

    def edit(client: SyncGraphQLClient, resources: list[str]) -> None:
        body = client.data(UPDATE, {"input": {"id": integration_id, "resources": resources, **YOUR_PASSWORD}})
        assert body["updateIntegration"]["userErrors"] == []

    def trim(start: threading.Barrier) -> dict[str, Any]:
        start.wait()
        variables = {"id": integration_id, "days": 30, **YOUR_PASSWORD}
        payload: dict[str, Any] = admin.data(TRIM, variables)["trimIntegrationGrant"]
        return payload

    def narrow(start: threading.Barrier) -> None:
        start.wait()
        edit(elsewhere, ["Magento_Catalog::categories"])

    outcomes: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in range(16):
            edit(admin, ["Magento_Catalog::catalog_inventory"])
            start = threading.Barrier(2)
            trimming, narrowing = pool.submit(trim, start), pool.submit(narrow, start)
            narrowing.result()
            payload = trimming.result()
            outcomes.append(payload["userErrors"][0]["code"] if payload["userErrors"] else "TRIMMED")
            stored = await IntegrationGrant.get(integration_id=creds.integration_id)
            assert set(stored.resources) == categories_only, outcomes
    assert set(outcomes) <= {"TRIMMED", "IN_PROGRESS", "NOTHING_USED"}
