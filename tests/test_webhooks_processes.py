"""Webhooks through real server processes: the delivery worker started with the app delivers a product update,
signed, to a real receiver; a server killed between claiming a delivery and acknowledging it loses nothing
(the restarted one delivers it again, with the same ``webhook-id``); two servers on one PostgreSQL database
never make the same attempt at the same time.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.database import POSTGRES_URL, create_admin_account, query
from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import AUTHORIZE, create_on_server
from tests.support.servers import LoopbackProcess, ServerProcess, free_port, kill_hard, running_server
from tests.support.servers import running as running_process
from tests.support.webhooks import (
    ALLOW_LOOPBACK,
    CREATE_PRODUCT,
    CREATE_SUBSCRIPTION,
    DELIVERIES,
    REDELIVER,
    UPDATE_PRODUCT,
    UPDATE_WEBHOOK_CONFIG,
    Receiver,
    payload_of,
    receiving,
    subscription_input,
)

ADMIN = ("hooks-admin", "hooks-admin-password1")
#: Query-cost throttling off: a burst of writes from one admin would otherwise empty its bucket.
UPDATE_RATE_LIMITS = "mutation { updateRateLimitConfig(input: {throttlingEnabled: false}) { userErrors { code } } }"
PASSWORD = {"currentPassword": ADMIN[1]}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@contextlib.contextmanager
def server(database_url: str, log: Path, **env: str) -> Iterator[ServerProcess]:
    with running_server({"DATABASE_URL": database_url, **env}, log) as started:
        yield started


def prepare(admin: SyncGraphQLClient, url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Loopback allowed by the store setting, an active integration holding products, its subscription to
    product updates, and a product: (subscription, product)."""
    assert admin.data(ALLOW_LOOPBACK)["updateOAuthConfig"]["userErrors"] == []
    integration = create_on_server(
        admin, ADMIN[1], name="ERP", resourceAccess="CUSTOM", resources=["Magento_Catalog::products"]
    )
    assert admin.data(AUTHORIZE, {"id": integration["id"], **PASSWORD})["authorizeIntegration"]["userErrors"] == []
    created = admin.data(CREATE_SUBSCRIPTION, {"input": {**subscription_input(integration["id"], url), **PASSWORD}})
    assert created["createWebhookSubscription"]["userErrors"] == [], created
    product = admin.data(CREATE_PRODUCT, {"input": {"sku": "p-1", "name": "P", "price": 1}})["createProduct"]["product"]
    return created["createWebhookSubscription"]["subscription"], product


def set_price(admin: SyncGraphQLClient, product: dict[str, Any], price: float) -> None:
    updated = admin.data(UPDATE_PRODUCT, {"input": {"id": product["id"], "price": price}})
    assert updated["updateProduct"]["userErrors"] == []


def rows(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    return query(database_url, sql, *params)


def test_a_product_update_through_a_server_arrives_signed(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    create_admin_account(database_url, *ADMIN)
    with server(database_url, tmp_path / "server.log") as running:
        admin = SyncGraphQLClient(running.base_url).sign_in(*ADMIN)
        subscription, product = prepare(admin, receiver.url)
        set_price(admin, product, 42.5)
        [request] = receiver.wait_for(1)
        payload = payload_of(request, subscription["secret"])  # verified by standardwebhooks
        assert payload["data"] == {"event": {"product": {"sku": "p-1", "price": 42.5}}}
        assert "Traceback" not in running.output()
    [row] = rows(database_url, "SELECT status, attempts, message_id FROM webhook_delivery")
    assert (row["status"], row["attempts"], row["message_id"]) == ("DELIVERED", 1, request.webhook_id)


def test_a_server_killed_between_claim_and_acknowledgement_loses_nothing(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    create_admin_account(database_url, *ADMIN)
    first = ServerProcess({"DATABASE_URL": database_url, "SERVER_LOG": str(tmp_path / "first.log")})
    try:
        first.wait_ready()
        admin = SyncGraphQLClient(first.base_url).sign_in(*ADMIN)
        # A short timeout keeps the claim's lease short (timeout + 10 s).
        assert admin.data(UPDATE_WEBHOOK_CONFIG, {"input": {"deliveryTimeout": 2}})["updateWebhookConfig"]
        subscription, product = prepare(admin, receiver.url)
        receiver.hang.set()  # the request arrives, the answer never comes
        set_price(admin, product, 7)
        [held] = receiver.wait_for(1)
        kill_hard(first)  # claimed and sent, never acknowledged
    finally:
        first.stop()
    receiver.hang.clear()
    [row] = rows(database_url, "SELECT status, attempts FROM webhook_delivery")
    assert (row["status"], row["attempts"]) == ("PENDING", 1)
    assert rows(database_url, "SELECT id FROM webhook_delivery_attempt") == []

    with server(database_url, tmp_path / "second.log") as second:
        requests = receiver.wait_for(2, timeout=60)  # once the first claim's lease has run out
        again = requests[1]
        assert again.webhook_id == held.webhook_id  # a duplicate the receiver can recognise
        assert payload_of(again, subscription["secret"])["data"]["event"]["product"]["price"] == 7
        deadline = time.monotonic() + 30
        while rows(database_url, "SELECT status FROM webhook_delivery")[0]["status"] != "DELIVERED":
            assert time.monotonic() < deadline, second.output()
            time.sleep(0.1)
    [row] = rows(database_url, "SELECT status, attempts FROM webhook_delivery")
    assert (row["status"], row["attempts"]) == ("DELIVERED", 2)
    attempts = rows(database_url, "SELECT number, succeeded FROM webhook_delivery_attempt")
    assert [(a["number"], bool(a["succeeded"])) for a in attempts] == [(2, True)]  # attempt 1 was cut short


@pytest.mark.skipif(not POSTGRES_URL, reason="two servers on one database need DATABASE_URL pointing at PostgreSQL")
def test_two_servers_never_make_the_same_attempt_at_once(database_url: str, tmp_path: Path, receiver: Receiver) -> None:
    create_admin_account(database_url, *ADMIN)
    receiver.delay = 0.05  # slow enough for both servers' workers to be delivering at the same time
    with (
        server(database_url, tmp_path / "a.log") as a,
        server(database_url, tmp_path / "b.log") as b,
    ):
        admin_a = SyncGraphQLClient(a.base_url).sign_in(*ADMIN)
        admin_b = admin_a.at(b.base_url)
        subscription, product = prepare(admin_a, receiver.url)
        count = 60
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda n: set_price(admin_a if n % 2 else admin_b, product, n), range(count)))
        receiver.wait_for(count, timeout=120)
        time.sleep(2)  # a second delivery of any of them would have arrived by now
        for running in (a, b):
            assert "Traceback" not in running.output(), running.output()
    ids = receiver.ids()
    assert len(ids) == count and set(ids.values()) == {1}
    assert receiver.overlaps == []
    assert all(payload_of(r, subscription["secret"]) for r in receiver.requests)
    states = rows(database_url, "SELECT status, attempts, COUNT(*) AS n FROM webhook_delivery GROUP BY 1, 2")
    assert [(s["status"], s["attempts"], s["n"]) for s in states] == [("DELIVERED", 1, count)]
    attempts = rows(
        database_url, "SELECT COUNT(*) AS n, COUNT(DISTINCT delivery_id) AS d FROM webhook_delivery_attempt"
    )
    assert attempts[0]["n"] == attempts[0]["d"] == count


def test_a_burst_of_product_updates_is_delivered_in_full(database_url: str, tmp_path: Path, receiver: Receiver) -> None:
    """The load test in small (``bench/webhooks.py`` makes 1,000): every event arrives, counted by ``webhook-id``."""
    create_admin_account(database_url, *ADMIN)
    count = 200
    with server(database_url, tmp_path / "server.log") as running:
        admin = SyncGraphQLClient(running.base_url).sign_in(*ADMIN)
        subscription, product = prepare(admin, receiver.url)
        assert admin.data(UPDATE_RATE_LIMITS)["updateRateLimitConfig"]["userErrors"] == []
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: set_price(admin, product, n), range(count)))
        requests = receiver.wait_for(count, timeout=120)
        time.sleep(1)  # a duplicate would have arrived by now
    ids = receiver.ids()
    assert len(ids) == count and sum(ids.values()) == count  # none lost, none twice
    prices = sorted(payload_of(r, subscription["secret"])["data"]["event"]["product"]["price"] for r in requests)
    assert prices == list(range(count))
    lags = sorted(r.at - r.sent_at for r in requests)
    print(f"\n{count} deliveries, lag p50 {lags[count // 2] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")


@pytest.mark.once
def test_the_example_receiver_verifies_and_keeps_each_event_once(database_url: str, tmp_path: Path) -> None:
    create_admin_account(database_url, *ADMIN)
    port = free_port()
    state = tmp_path / "events.json"
    with server(database_url, tmp_path / "server.log") as running:
        admin = SyncGraphQLClient(running.base_url).sign_in(*ADMIN)
        subscription, product = prepare(admin, f"http://127.0.0.1:{port}/webhooks")
        app = LoopbackProcess(
            [sys.executable, "examples/webhook_receiver.py", "serve", "--port", str(port)],
            {"WEBHOOK_SECRET": subscription["secret"], "WEBHOOK_STATE": str(state)},
            port,
            tmp_path / "receiver.log",
        )
        with running_process(app):
            set_price(admin, product, 3)
            events = wait_until(lambda: httpx.get(f"{app.base_url}/").json(), timeout=30)
            [event] = events
            assert event["payload"]["data"] == {"event": {"product": {"sku": "p-1", "price": 3.0}}}
            # The same delivery again (a redelivery): acknowledged, not kept twice.
            [delivery] = admin.data(DELIVERIES, {"id": subscription["id"]})["webhookDeliveries"]["edges"]
            assert admin.data(REDELIVER, {"id": delivery["node"]["id"]})["redeliverWebhook"]["userErrors"] == []
            wait_until(lambda: delivered_twice(database_url), timeout=30)
            assert len(httpx.get(f"{app.base_url}/").json()) == 1
            # A body that does not verify is refused.
            forged = httpx.post(
                f"{app.base_url}/webhooks",
                content=b'{"type":"product.updated"}',
                headers={
                    "webhook-id": "msg_x",
                    "webhook-timestamp": str(int(time.time())),
                    "webhook-signature": "v1,AAAA",
                },
            )
            assert forged.status_code == 400
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def delivered_twice(database_url: str) -> bool:
    [row] = rows(database_url, "SELECT status, attempts FROM webhook_delivery")
    return row["status"] == "DELIVERED" and row["attempts"] == 2


def wait_until(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found
