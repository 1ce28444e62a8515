"""Webhooks in one process: subscriptions through GraphQL, events written with their writes, deliveries made by
the delivery worker (driven here one round at a time) to a real receiver on loopback and verified with the
``standardwebhooks`` package; the retry schedule on the store's driven clock.

Real server processes (the worker started with the app, SIGKILL, two servers on one database) are in
``test_webhooks_processes.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

import pytest

from auth.clock import clock
from models import WebhookDelivery, WebhookSubscription
from resolvers import catalog
from resolvers.webhooks import outbox, schedule
from resolvers.webhooks.events import WebhookEventType
from resolvers.webhooks.subscriptions import parse_global_id
from resolvers.webhooks.worker import DeliveryWorker
from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.integrations import UPDATE, YOUR_PASSWORD, authorize, create
from tests.support.principals import ADMIN_PASSWORD
from tests.support.webhooks import (
    ALLOW_LOOPBACK,
    CREATE_PRODUCT,
    CREATE_SUBSCRIPTION,
    DELETE_SUBSCRIPTION,
    DELIVERIES,
    REDELIVER,
    ROTATE_SECRET,
    SEND_TEST,
    SUBSCRIPTIONS,
    UPDATE_PRODUCT,
    UPDATE_SUBSCRIPTION,
    UPDATE_WEBHOOK_CONFIG,
    Receiver,
    payload_of,
    receiving,
    subscription_input,
    user_errors,
)

PRODUCTS = "Magento_Catalog::products"
CATEGORIES = "Magento_Catalog::categories"
CMS_PAGES = "Magento_Cms::page"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Deliveries may reach the receiver on loopback (as ``ALLOW_PRIVATE_CALLBACKS=1`` does)."""
    return dataclasses.replace(settings, allow_private_callbacks=True)


@pytest.fixture
def worker(app: Any, settings: Settings) -> DeliveryWorker:
    """The app's delivery worker, driven by the test (``deliver_due``) instead of running in the background."""
    return DeliveryWorker(settings, app.state.schema.webhooks)


@pytest.fixture
def receiver() -> Any:
    with receiving() as running:
        yield running


async def active_integration(admin: GraphQLClient, *resources: str, name: str = "ERP") -> dict[str, Any]:
    """An active (manual) integration holding ``resources``."""
    integration = await create(admin, name=name, resourceAccess="CUSTOM", resources=list(resources))
    await authorize(admin, integration["id"])
    return integration


async def subscribe(admin: GraphQLClient, integration: dict[str, Any], url: str, **fields: Any) -> dict[str, Any]:
    body = await admin.data(CREATE_SUBSCRIPTION, {"input": subscription_input(integration["id"], url, **fields)})
    payload = body["createWebhookSubscription"]
    assert payload["userErrors"] == [], payload
    return payload["subscription"]


async def new_product(admin: GraphQLClient, sku: str = "sku-1", price: float = 10.0) -> dict[str, Any]:
    body = await admin.data(CREATE_PRODUCT, {"input": {"sku": sku, "name": sku, "price": price}})
    assert body["createProduct"]["userErrors"] == []
    return body["createProduct"]["product"]


async def set_price(admin: GraphQLClient, product: dict[str, Any], price: float) -> None:
    body = await admin.data(UPDATE_PRODUCT, {"input": {"id": product["id"], "price": price}})
    assert body["updateProduct"]["userErrors"] == []


async def for_days(admin: GraphQLClient) -> GraphQLClient:
    """The admin signed in again with a 30-day token, for tests that move the clock on by days."""
    changed = await admin.data(
        "mutation { updateOAuthConfig(input: {adminTokenLifetime: 720}) { oauth { adminTokenLifetime } } }"
    )
    assert changed["updateOAuthConfig"]["oauth"]["adminTokenLifetime"] == 720
    return await admin.sign_in("admin", ADMIN_PASSWORD)


async def deliveries(admin: GraphQLClient, subscription: dict[str, Any], **variables: Any) -> list[dict[str, Any]]:
    body = await admin.data(DELIVERIES, {"id": subscription["id"], **variables})
    return [edge["node"] for edge in body["webhookDeliveries"]["edges"]]


# ------------------------------------------------------------------------------------------ delivered


async def test_a_product_update_arrives_signed_with_exactly_the_selected_fields(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    integration = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, integration, receiver.url)
    assert subscription["secret"].startswith("whsec_") and subscription["isActive"] is True
    product = await new_product(admin)  # PRODUCT_CREATED: not subscribed to
    await set_price(admin, product, 12.5)

    results = await worker.deliver_due()
    assert [r.status for r in results] == ["DELIVERED"]
    [request] = receiver.requests
    payload = payload_of(request, subscription["secret"])
    assert payload["type"] == "product.updated"
    assert payload["data"] == {"event": {"product": {"sku": "sku-1", "price": 12.5}}}
    assert set(payload) == {"type", "timestamp", "data"}  # no errors: every selected field was readable
    assert request.headers["content-type"] == "application/json"

    [delivery] = await deliveries(admin, subscription)
    assert delivery["webhookId"] == request.webhook_id and delivery["status"] == "DELIVERED"
    assert delivery["attemptCount"] == 1 and delivery["responseStatus"] == 200 and delivery["nextAttemptAt"] is None
    assert [a["succeeded"] for a in delivery["attempts"]] == [True]
    # Shown once: never again.
    listed = await admin.data(SUBSCRIPTIONS, {"id": integration["id"]})
    assert [s["secret"] for s in listed["webhookSubscriptions"]] == [None]


async def test_each_event_of_products_and_pages_is_delivered_with_its_entity(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    integration = await active_integration(admin, PRODUCTS, CMS_PAGES)
    document = """subscription { event { type occurredAt
      ... on ProductCreated { product { sku } } ... on ProductDeleted { product { sku price } }
      ... on CmsPageCreated { cmsPage { identifier title } } ... on CmsPageUpdated { cmsPage { title } }
      ... on CmsPageDeleted { cmsPage { identifier } } } }"""
    events = ["PRODUCT_CREATED", "PRODUCT_DELETED", "CMS_PAGE_CREATED", "CMS_PAGE_UPDATED", "CMS_PAGE_DELETED"]
    subscription = await subscribe(admin, integration, receiver.url, query=document, events=events)
    product = await new_product(admin, "doomed", 3.0)
    assert await admin.data("mutation($id: Int!) { deleteProduct(id: $id) { deletedId } }", {"id": product["id"]})
    page = await admin.data(
        'mutation { createCmsPage(input: {identifier: "about", title: "About"}) { cmsPage { id } } }'
    )
    page_id = page["createCmsPage"]["cmsPage"]["id"]
    await admin.data(
        "mutation($id: Int!) { updateCmsPage(input: {id: $id, title: 'x'}) { cmsPage { id } } }".replace("'", '"'),
        {"id": page_id},
    )
    await admin.data("mutation($id: Int!) { deleteCmsPage(id: $id) { deletedId } }", {"id": page_id})

    await worker.deliver_due()
    received = {
        p["type"]: p["data"]["event"] for p in (payload_of(r, subscription["secret"]) for r in receiver.requests)
    }
    assert received["product.created"]["product"] == {"sku": "doomed"}
    assert received["product.deleted"]["product"] == {"sku": "doomed", "price": 3.0}  # as it was
    assert received["cms_page.created"]["cmsPage"] == {"identifier": "about", "title": "About"}
    assert received["cms_page.updated"]["cmsPage"] == {"title": "x"}
    assert received["cms_page.deleted"]["cmsPage"] == {"identifier": "about"}
    assert {e["type"] for e in received.values()} == set(events)
    assert len(receiver.requests) == 5 and len(receiver.ids()) == 5


async def test_integration_updated_goes_to_that_integration_only(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    document = "subscription { event { ... on IntegrationUpdated { integrationId name resources reason } } }"
    erp = await active_integration(admin, PRODUCTS, name="ERP")
    other = await active_integration(admin, PRODUCTS, name="Other")
    mine = await subscribe(admin, erp, receiver.url, query=document, events=["INTEGRATION_UPDATED"])
    await subscribe(admin, other, receiver.url, query=document, events=["INTEGRATION_UPDATED"])
    changed = await admin.data(
        UPDATE, {"input": {"id": erp["id"], "resources": [PRODUCTS, CATEGORIES], **YOUR_PASSWORD}}
    )
    assert changed["updateIntegration"]["userErrors"] == []

    await worker.deliver_due()
    [request] = receiver.requests
    event = payload_of(request, mine["secret"])["data"]["event"]
    assert {PRODUCTS, CATEGORIES} <= set(event.pop("resources"))  # as stored: each with its subtree
    assert event == {"integrationId": erp["id"], "name": "ERP", "reason": "GRANT_CHANGED"}


# ------------------------------------------------------------------------------------------ the grant


async def test_a_selection_beyond_the_grant_is_refused_when_saved(admin: GraphQLClient, receiver: Receiver) -> None:
    integration = await active_integration(admin, PRODUCTS)
    beyond = "subscription { event { ... on ProductUpdated { product { sku categories { name } } } } }"
    body = await admin.data(CREATE_SUBSCRIPTION, {"input": subscription_input(integration["id"], receiver.url, beyond)})
    payload = body["createWebhookSubscription"]
    assert payload["subscription"] is None
    assert user_errors(payload) == [(("input", "query"), "NOT_GRANTED")]
    assert CATEGORIES in payload["userErrors"][0]["message"]

    # The event's own resource counts too, even when the document selects nothing of it.
    pages = "subscription { event { type } }"
    body = await admin.data(
        CREATE_SUBSCRIPTION,
        {"input": subscription_input(integration["id"], receiver.url, pages, events=["CMS_PAGE_UPDATED"])},
    )
    payload = body["createWebhookSubscription"]
    assert user_errors(payload) == [(("input", "query"), "NOT_GRANTED")]
    assert CMS_PAGES in payload["userErrors"][0]["message"]
    assert await WebhookSubscription.all().count() == 0


DOES_NOT_FIT = [
    ("{ products(first: 1) { edges { node { sku } } } }", ["PRODUCT_UPDATED"], "INVALID"),  # a query
    ("subscription { event { ... on ProductUpdated { product { nope } } } }", ["PRODUCT_UPDATED"], "INVALID"),
    ("subscription { event { ... on CmsPageUpdated { cmsPage { title } } } }", ["PRODUCT_UPDATED"], "INVALID"),
    ("subscription($x: Int) { event { type } }", ["PRODUCT_UPDATED"], "INVALID"),
    ("subscription {", ["PRODUCT_UPDATED"], "INVALID"),
    ("subscription { event { type } }", ["WEBHOOK_TEST"], "INVALID"),
    ("subscription { event { type } }", [], "REQUIRED"),
    ("  ", ["PRODUCT_UPDATED"], "REQUIRED"),
    ("subscription { event { type } } " + "#" * 20_000, ["PRODUCT_UPDATED"], "TOO_LONG"),
]


async def test_documents_that_do_not_fit_are_refused(admin: GraphQLClient, receiver: Receiver) -> None:
    integration = await active_integration(admin, PRODUCTS, CMS_PAGES)
    for document, events, code in DOES_NOT_FIT:
        body = await admin.data(
            CREATE_SUBSCRIPTION, {"input": subscription_input(integration["id"], receiver.url, document, events=events)}
        )
        codes = [code for _field, code in user_errors(body["createWebhookSubscription"])]
        assert codes == [code], (document, events, body)
    assert await WebhookSubscription.all().count() == 0


async def test_a_grant_narrowed_after_subscribing_stops_the_fields_it_no_longer_covers(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    integration = await active_integration(admin, PRODUCTS, CATEGORIES)
    document = "subscription { event { ... on ProductUpdated { product { sku categories { name } } } } }"
    subscription = await subscribe(admin, integration, receiver.url, query=document)
    product = await new_product(admin)
    await set_price(admin, product, 11)
    await worker.deliver_due()
    first = payload_of(receiver.requests[0], subscription["secret"])
    assert first["data"]["event"]["product"] == {"sku": "sku-1", "categories": []} and "errors" not in first

    # Narrowed: the next delivery is run with the grant as it is then.
    narrowed = await admin.data(UPDATE, {"input": {"id": integration["id"], "resources": [PRODUCTS], **YOUR_PASSWORD}})
    assert narrowed["updateIntegration"]["userErrors"] == []
    await set_price(admin, product, 12)
    await worker.deliver_due()
    second = payload_of(receiver.requests[1], subscription["secret"])
    assert second["data"]["event"]["product"] == {"sku": "sku-1", "categories": None}
    [error] = second["errors"]
    assert error["path"] == ["event", "product", "categories"]
    assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["missingResources"] == [CATEGORIES]

    # Without the event's own resource, nothing is sent at all.
    await admin.data(UPDATE, {"input": {"id": integration["id"], "resources": [CMS_PAGES], **YOUR_PASSWORD}})
    await set_price(admin, product, 13)
    assert [r.status for r in await worker.deliver_due()] == ["SKIPPED"]
    assert len(receiver.requests) == 2
    latest = (await deliveries(admin, subscription))[0]
    assert latest["status"] == "SKIPPED" and PRODUCTS in latest["lastError"] and latest["attemptCount"] == 0


async def test_guest_access_never_widens_a_payload(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    integration = await active_integration(admin, PRODUCTS, CATEGORIES)
    document = "subscription { event { ... on ProductUpdated { product { sku categories { name } } } } }"
    subscription = await subscribe(admin, integration, receiver.url, query=document)
    await admin.data(UPDATE, {"input": {"id": integration["id"], "resources": [PRODUCTS], **YOUR_PASSWORD}})
    await admin.data("mutation { setGuestAccess(allow: true) { webApiSecurity { allowAnonymousGuestAccess } } }")
    product = await new_product(admin)
    await set_price(admin, product, 5)
    await worker.deliver_due()
    payload = payload_of(receiver.requests[0], subscription["secret"])
    assert payload["data"]["event"]["product"]["categories"] is None


# ------------------------------------------------------------------------------------------ the outbox


async def test_a_rolled_back_write_emits_nothing(admin: GraphQLClient, receiver: Receiver) -> None:
    from tortoise.transactions import in_transaction

    integration = await active_integration(admin, PRODUCTS)
    created = "subscription { event { ... on ProductCreated { product { sku } } } }"
    await subscribe(admin, integration, receiver.url, query=created, events=["PRODUCT_CREATED"])

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with in_transaction():
            outcome = await catalog.create_product(catalog.ProductChanges(sku="ghost", name="Ghost", price=1.0))
            assert outcome.value is not None  # written, its event recorded, then the whole write rolled back
            assert await WebhookDelivery.all().count() == 1
            raise Abandoned
    assert await WebhookDelivery.all().count() == 0
    assert (await admin.data('{ product(sku: "ghost") { sku } }'))["product"] is None

    await new_product(admin, "real")
    assert await WebhookDelivery.all().count() == 1


async def test_without_subscribers_a_write_records_nothing(admin: GraphQLClient, receiver: Receiver) -> None:
    await new_product(admin)
    assert await WebhookDelivery.all().count() == 0
    async with outbox.transaction() as events:
        await events.record(WebhookEventType.PRODUCT_UPDATED, {"id": 1})
    assert events.recorded == 0
    # With one, the row is counted: that is what wakes this process's worker once the write has committed.
    await subscribe(admin, await active_integration(admin, PRODUCTS), receiver.url)
    async with outbox.transaction() as events:
        await events.record(WebhookEventType.PRODUCT_UPDATED, {"id": 1})
    assert events.recorded == 1


# ------------------------------------------------------------------------------------------ retries


async def test_a_failing_receiver_is_retried_on_the_schedule_then_succeeds(
    admin: GraphQLClient, worker: DeliveryWorker, settings: Settings
) -> None:
    clock.freeze()
    await admin.data(UPDATE_WEBHOOK_CONFIG, {"input": {"deliveryTimeout": 1}})
    receiver = Receiver().start()
    integration = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, integration, receiver.url)
    product = await new_product(admin)
    await set_price(admin, product, 20)
    occurred = clock.now()
    seen: list[str] = []

    async def attempt_after(wait_bounds: tuple[float, float] | None) -> str:
        """Check the pending delivery's next attempt lies within the schedule, move the clock there, attempt."""
        if wait_bounds is not None:
            row = await WebhookDelivery.get()
            assert row.next_attempt_at is not None
            low, high = wait_bounds
            assert (
                clock.now() + dt.timedelta(seconds=low)
                <= row.next_attempt_at
                <= clock.now() + dt.timedelta(seconds=high)
            )
            clock.advance(low - 1)  # not due yet: nothing happens
            assert await worker.deliver_due() == []
            clock.advance((row.next_attempt_at - clock.now()).total_seconds() + 0.01)
        [result] = await worker.deliver_due()
        seen.append(result.status)
        return result.status

    def bounds(attempt: int) -> tuple[float, float]:
        wait = schedule.base_wait(attempt)
        return wait * (1 - schedule.JITTER), wait * (1 + schedule.JITTER)

    receiver.statuses = [500]
    assert await attempt_after(None) == "PENDING"  # 1: HTTP 500
    receiver.hang.set()
    assert await attempt_after(bounds(1)) == "PENDING"  # 2: no answer within the timeout
    receiver.hang.clear()
    receiver.stop()
    assert await attempt_after(bounds(2)) == "PENDING"  # 3: connection refused
    receiver = Receiver(receiver.port).start()
    try:
        assert await attempt_after(bounds(3)) == "DELIVERED"  # 4: answered
        [request] = receiver.requests
        assert payload_of(request, subscription["secret"])["data"]["event"]["product"]["price"] == 20
    finally:
        receiver.stop()

    [delivery] = await deliveries(admin, subscription)
    assert delivery["status"] == "DELIVERED" and delivery["attemptCount"] == 4
    attempts = delivery["attempts"]
    assert [a["number"] for a in attempts] == [1, 2, 3, 4]
    assert [a["responseStatus"] for a in attempts] == [500, None, None, 200]
    assert "500" in attempts[0]["error"] and "within 1 s" in attempts[1]["error"]
    assert "refused" in attempts[2]["error"] and attempts[3]["error"] is None
    assert dt.datetime.fromisoformat(delivery["occurredAt"]) == occurred
    # Every attempt carried the same webhook-id, so a receiver can drop duplicates.
    assert delivery["webhookId"] == request.webhook_id
    row = await WebhookSubscription.get()
    assert row.consecutive_failures == 0  # the delivered attempt ended the run


async def test_retries_stop_after_24_hours_and_the_delivery_fails(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    clock.freeze()
    integration = await active_integration(admin, PRODUCTS)
    await subscribe(admin, integration, receiver.url)
    await set_price(admin, await new_product(admin), 1)
    receiver.statuses = [503] * 100
    attempts = 0
    while True:
        results = await worker.deliver_due()
        attempts += len(results)
        row = await WebhookDelivery.get()
        if row.status != "PENDING":
            break
        assert row.next_attempt_at is not None
        clock.advance((row.next_attempt_at - clock.now()).total_seconds() + 0.01)
    assert row.status == "FAILED" and row.next_attempt_at is None
    assert 10 <= attempts <= 16 and len(receiver.requests) == attempts
    assert clock.now() - row.occurred_at <= schedule.RETRY_WINDOW
    assert len(receiver.ids()) == 1
    assert row.attempts == attempts == await row.attempt_log.all().count()


async def test_a_subscription_is_disabled_after_the_configured_run_of_failures(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    clock.freeze()
    assert (await admin.data(UPDATE_WEBHOOK_CONFIG, {"input": {"disableAfterFailures": 3}}))["updateWebhookConfig"][
        "userErrors"
    ] == []
    integration = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, integration, receiver.url)
    product = await new_product(admin)
    receiver.statuses = [500] * 10
    for price in (1, 2, 3, 4):
        await set_price(admin, product, price)
    with caplog.at_level(logging.WARNING, logger="security"):
        results = await worker.deliver_due()
    # Four claimed at once: three failures disable it, the fourth still counts as an attempt made.
    assert len(results) == 4
    [listed] = (await admin.data(SUBSCRIPTIONS, {"id": integration["id"]}))["webhookSubscriptions"]
    assert listed["isActive"] is False and listed["disabledAt"] is not None
    assert "3 failed delivery attempts in a row" in listed["disabledReason"]
    assert [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "webhook_subscription_disabled"]

    # Pending ones are skipped when due; new events are not recorded for it.
    clock.advance(3600)
    assert {r.status for r in await worker.deliver_due()} == {"SKIPPED"}
    await set_price(admin, product, 9)
    assert await WebhookDelivery.filter(status="PENDING").count() == 0

    # Enabled again: the run starts over, and a skipped delivery may be sent again.
    enabled = await admin.data(
        UPDATE_SUBSCRIPTION, {"input": {"id": subscription["id"], "isActive": True, **YOUR_PASSWORD}}
    )
    assert enabled["updateWebhookSubscription"]["subscription"]["consecutiveFailures"] == 0
    skipped = await deliveries(admin, subscription, status="SKIPPED")
    redelivered = await admin.data(REDELIVER, {"id": skipped[0]["id"]})
    assert redelivered["redeliverWebhook"]["delivery"]["status"] == "PENDING"
    receiver.statuses = []
    [result] = await worker.deliver_due()
    assert result.status == "DELIVERED"


# ------------------------------------------------------------------------------------------ the log


async def test_redelivery_and_test_deliveries(admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver) -> None:
    integration = await active_integration(admin, PRODUCTS)
    document = "subscription { event { type ... on ProductUpdated { product { sku } } } }"
    subscription = await subscribe(admin, integration, receiver.url, query=document)
    await set_price(admin, await new_product(admin), 1)
    await worker.deliver_due()
    [delivered] = await deliveries(admin, subscription)

    again = await admin.data(REDELIVER, {"id": delivered["id"]})
    assert again["redeliverWebhook"]["userErrors"] == []
    refused = await admin.data(REDELIVER, {"id": delivered["id"]})  # pending already
    assert user_errors(refused["redeliverWebhook"]) == [(("deliveryId",), "IN_PROGRESS")]
    await worker.deliver_due()
    first, second = receiver.requests
    assert first.webhook_id == second.webhook_id and first.body == second.body

    test = await admin.data(SEND_TEST, {"id": subscription["id"]})
    assert test["sendTestWebhook"]["delivery"]["event"] == "WEBHOOK_TEST"
    await worker.deliver_due()
    payload = payload_of(receiver.requests[2], subscription["secret"])
    assert payload == {
        "type": "webhook.test",
        "timestamp": payload["timestamp"],
        "data": {"event": {"type": "WEBHOOK_TEST"}},
    }
    log = await deliveries(admin, subscription)
    assert [d["event"] for d in log] == ["WEBHOOK_TEST", "PRODUCT_UPDATED"]  # newest first
    assert log[1]["attemptCount"] == 2
    page = await admin.data(DELIVERIES, {"id": subscription["id"], "first": 1})
    assert page["webhookDeliveries"]["pageInfo"]["hasNextPage"] is True and page["webhookDeliveries"]["totalCount"] == 2


async def test_finished_deliveries_older_than_the_retention_are_deleted(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    clock.freeze()
    admin = await for_days(admin)
    await admin.data(UPDATE_WEBHOOK_CONFIG, {"input": {"deliveryRetentionDays": 2}})
    integration = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, integration, receiver.url)
    product = await new_product(admin)
    await set_price(admin, product, 1)
    await worker.deliver_due()
    clock.advance(86_400)
    await set_price(admin, product, 2)
    await worker.deliver_due()
    clock.advance(86_400 + 60)
    from auth.config import load_config

    assert await worker.cleanup(await load_config()) == 1
    assert [d["status"] for d in await deliveries(admin, subscription)] == ["DELIVERED"]


# ------------------------------------------------------------------------------------------ who may


async def test_subscriptions_are_for_admins_with_their_password(
    admin: GraphQLClient, integration: Any, receiver: Receiver
) -> None:
    erp = await active_integration(admin, PRODUCTS)
    caller = integration("Magento_Backend::all")
    body = await caller.query(CREATE_SUBSCRIPTION, {"input": subscription_input(erp["id"], receiver.url)})
    assert caller.error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    wrong = await admin.data(
        CREATE_SUBSCRIPTION, {"input": {**subscription_input(erp["id"], receiver.url), "currentPassword": "nope1234"}}
    )
    assert user_errors(wrong["createWebhookSubscription"]) == [(("input", "currentPassword"), "INVALID_PASSWORD")]
    assert await WebhookSubscription.all().count() == 0


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "INVALID_URL"),
        ("https://user:pw@example.com/hook", "INVALID_URL"),
        ("http://169.254.169.254/latest", "NOT_ALLOWED"),
        ("http://metadata.google.internal/x", "NOT_ALLOWED"),
        ("", "REQUIRED"),
    ],
)
async def test_target_urls_are_checked(admin: GraphQLClient, url: str, code: str) -> None:
    erp = await active_integration(admin, PRODUCTS)
    body = await admin.data(CREATE_SUBSCRIPTION, {"input": subscription_input(erp["id"], url)})
    assert user_errors(body["createWebhookSubscription"]) == [(("input", "targetUrl"), code)]


async def test_private_targets_need_the_allow_list(
    admin: GraphQLClient, app: Any, settings: Settings, receiver: Receiver
) -> None:
    strict = DeliveryWorker(dataclasses.replace(settings, allow_private_callbacks=False), app.state.schema.webhooks)
    erp = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, erp, receiver.url)
    await set_price(admin, await new_product(admin), 1)
    [refused] = await strict.deliver_due()
    assert refused.status == "PENDING" and refused.answer is not None
    assert "privateCallbackAllowList" in (refused.answer.error or "") and receiver.requests == []
    allowed = await admin.data(ALLOW_LOOPBACK)
    assert allowed["updateOAuthConfig"]["oauth"]["privateCallbackAllowList"] == ["127.0.0.1"]
    clock.advance(3600)
    assert [r.status for r in await strict.deliver_due()] == ["DELIVERED"]
    payload_of(receiver.requests[0], subscription["secret"])


# ------------------------------------------------------------------------------------------ lifecycle


async def test_a_rotated_secret_signs_with_both_during_the_overlap(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    erp = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, erp, receiver.url)
    rotated = await admin.data(ROTATE_SECRET, {"id": subscription["id"], "overlap": 3600, **YOUR_PASSWORD})
    new = rotated["rotateWebhookSecret"]["subscription"]
    assert new["secret"] != subscription["secret"] and new["previousSecretExpiresAt"] is not None
    product = await new_product(admin)
    await set_price(admin, product, 2)
    await worker.deliver_due()
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert payload_of(request, new["secret"]) == payload_of(request, subscription["secret"])

    clock.advance(3601)  # the overlap is over: only the new secret signs
    await set_price(admin, product, 3)
    await worker.deliver_due()
    request = receiver.requests[1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    payload_of(request, new["secret"])
    with pytest.raises(Exception, match="No matching signature"):
        request.verified(subscription["secret"])


async def test_deleting_the_integration_stops_its_deliveries(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    from tests.support.integrations import DELETE

    admin = await for_days(admin)
    erp = await active_integration(admin, PRODUCTS)
    await subscribe(admin, erp, receiver.url)
    product = await new_product(admin)
    receiver.statuses = [500]
    await set_price(admin, product, 1)
    await worker.deliver_due()  # failed once: a retry is pending
    await set_price(admin, product, 2)  # and another event waits
    deleted = await admin.data(DELETE, {"id": erp["id"], **YOUR_PASSWORD})
    assert deleted["deleteIntegration"]["userErrors"] == []
    clock.advance(86_400)
    assert await worker.deliver_due() == []
    await set_price(admin, product, 3)
    assert await WebhookDelivery.all().count() == 0
    assert len(receiver.requests) == 1


async def test_deleting_a_subscription_and_changing_its_events(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    erp = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, erp, receiver.url)
    changed = await admin.data(
        UPDATE_SUBSCRIPTION,
        {"input": {"id": subscription["id"], "events": ["PRODUCT_CREATED"], **YOUR_PASSWORD}},
    )
    # The document selects ProductUpdated, which the new events no longer include.
    assert user_errors(changed["updateWebhookSubscription"]) == [(("input", "query"), "INVALID")]
    changed = await admin.data(
        UPDATE_SUBSCRIPTION,
        {
            "input": {
                "id": subscription["id"],
                "events": ["PRODUCT_CREATED", "PRODUCT_UPDATED"],
                "query": "subscription { event { type } }",
                **YOUR_PASSWORD,
            }
        },
    )
    assert changed["updateWebhookSubscription"]["subscription"]["events"] == ["PRODUCT_CREATED", "PRODUCT_UPDATED"]
    await new_product(admin)
    deleted = await admin.data(DELETE_SUBSCRIPTION, {"id": subscription["id"], **YOUR_PASSWORD})
    assert deleted["deleteWebhookSubscription"]["deletedId"] == subscription["id"]
    assert await worker.deliver_due() == [] and receiver.requests == []


async def test_subscription_changes_are_in_the_audit_trail_without_the_secret(
    admin: GraphQLClient, worker: DeliveryWorker, receiver: Receiver
) -> None:
    from tests.support.audit import assert_no_secret_stored, one_event

    clock.freeze()
    assert (await admin.data(UPDATE_WEBHOOK_CONFIG, {"input": {"disableAfterFailures": 1}}))["updateWebhookConfig"][
        "userErrors"
    ] == []
    erp = await active_integration(admin, PRODUCTS)
    subscription = await subscribe(admin, erp, receiver.url)
    subscription_id = str(parse_global_id(subscription["id"]))
    created = await one_event("webhook.subscription_created")
    assert (created["actor_type"], created["target_type"], created["target_id"]) == (
        "ADMIN",
        "webhook_subscription",
        subscription_id,
    )
    assert created["details"]["events"] == ["PRODUCT_UPDATED"] and created["details"]["targetUrl"] == receiver.url

    await admin.data(UPDATE_SUBSCRIPTION, {"input": {"id": subscription["id"], "isActive": False, **YOUR_PASSWORD}})
    updated = await one_event("webhook.subscription_updated")
    assert updated["details"]["changes"] == {"isActive": {"old": True, "new": False}}
    await admin.data(UPDATE_SUBSCRIPTION, {"input": {"id": subscription["id"], "isActive": True, **YOUR_PASSWORD}})

    rotated = await admin.data(ROTATE_SECRET, {"id": subscription["id"], "overlap": 60, **YOUR_PASSWORD})
    new_secret = rotated["rotateWebhookSecret"]["subscription"]["secret"]
    assert (await one_event("webhook.secret_rotated"))["details"]["overlapSeconds"] == 60

    receiver.statuses = [500]
    await set_price(admin, await new_product(admin), 2)
    await worker.deliver_due()
    disabled = await one_event("webhook.subscription_disabled")
    assert (disabled["actor_type"], disabled["details"]["consecutiveFailures"]) == ("SYSTEM", 1)

    await admin.data(DELETE_SUBSCRIPTION, {"id": subscription["id"], **YOUR_PASSWORD})
    assert (await one_event("webhook.subscription_deleted"))["target_id"] == subscription_id
    await assert_no_secret_stored([subscription["secret"], new_secret])
