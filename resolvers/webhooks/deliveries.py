"""What was sent, and when will it be tried again? The delivery log, redelivery and test deliveries.

The log lists a subscription's deliveries newest first (keyset pages), each with its status, attempt count,
the latest answer's status and time, the next attempt and every attempt's record. ``redeliverWebhook`` makes
a finished delivery (delivered, failed or skipped) due again at once, with the same ``webhook-id``; a pending
one already has its next attempt scheduled (and may be in flight), so it is refused. ``sendTestWebhook``
writes a ``WEBHOOK_TEST`` delivery for one subscription, tried once. Neither changes what the integration
receives or holds, so neither asks for Your Password; both follow the escalation guard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader
from strawberry.relay import GlobalID

from auth.clock import clock
from models import Integration as IntegrationRow
from models import WebhookDelivery, WebhookSubscription
from models.integration import STATUS_ACTIVE
from models.sql import execute, fetch_all, fetch_one, placeholders
from models.webhooks import DELIVERY_PENDING
from resolvers.integrations.grants import check_manage_permission
from resolvers.loaders import LoadFn, get_loader
from resolvers.pagination import Ordering, Page, keyset_page
from resolvers.problems import Outcome, UserErrorCode
from resolvers.webhooks import outbox
from resolvers.webhooks.events import WebhookEventType
from resolvers.webhooks.subscriptions import NODE_TYPE as SUBSCRIPTION_NODE
from resolvers.webhooks.subscriptions import not_found_message as subscription_not_found
from resolvers.webhooks.subscriptions import parse_global_id

if TYPE_CHECKING:
    from schema.context import Context

Row = dict[str, Any]

NODE_TYPE = "WebhookDelivery"
COLUMNS = (
    "id, subscription_id, event, message_id, status, attempts, next_attempt_at, occurred_at, response_status, "
    "latency_ms, last_error, delivered_at, created_at"
)
NEWEST_FIRST = Ordering("webhook-delivery", descending=True)

ALREADY_PENDING = "This delivery is pending already: its next attempt is scheduled (see nextAttemptAt)."
SUBSCRIPTION_DISABLED = "The subscription is disabled: enable it first (updateWebhookSubscription, isActive: true)."
INTEGRATION_NOT_ACTIVE = "The integration is not active: nothing is sent to it."


def global_id(delivery_id: int) -> str:
    return str(GlobalID(NODE_TYPE, str(delivery_id)))


def not_found_message(value: str) -> str:
    return f'The webhook delivery with ID "{value}" doesn\'t exist.'


async def deliveries_page(
    context: Context, subscription: str, status: str | None, first: int, after: str | None
) -> Page | None:
    """A page of the subscription's deliveries, newest first (None: no such subscription)."""
    subscription_id = parse_global_id(subscription, SUBSCRIPTION_NODE)
    if subscription_id is None or not await WebhookSubscription.exists(id=subscription_id):
        return None
    where: list[str] = ["subscription_id = ?"]
    params: list[object] = [subscription_id]
    if status is not None:
        where.append("status = ?")
        params.append(status)
    return await keyset_page(
        NEWEST_FIRST,
        f"SELECT {COLUMNS} FROM webhook_delivery",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


def _attempts_batch(_context: Context) -> LoadFn:
    async def load(delivery_ids: list[int]) -> list[list[Row]]:
        sql = (
            "SELECT delivery_id, number, started_at, response_status, latency_ms, error, succeeded "
            f"FROM webhook_delivery_attempt WHERE delivery_id IN ({placeholders(len(delivery_ids))}) "
            "ORDER BY delivery_id, number"
        )
        by_delivery: dict[int, list[Row]] = {i: [] for i in delivery_ids}
        for row in await fetch_all(sql, *delivery_ids):
            by_delivery[row["delivery_id"]].append(row)
        return [by_delivery[i] for i in delivery_ids]

    return load


def attempts(context: Context) -> DataLoader[int, list[Row]]:
    """Delivery id -> its attempts, in one query per page."""
    return get_loader(context, "webhook_delivery_attempts", _attempts_batch)


async def delivery_row(delivery_id: int) -> Row | None:
    return await fetch_one(f"SELECT {COLUMNS} FROM webhook_delivery WHERE id = ?", delivery_id)


async def _manageable_subscription(
    context: Context, subscription_id: int, field: tuple[str, ...], value: str
) -> Outcome[WebhookSubscription]:
    row = await WebhookSubscription.get_or_none(id=subscription_id)
    integration = await IntegrationRow.get_or_none(id=row.integration_id) if row is not None else None  # type: ignore[attr-defined]
    if row is None or integration is None:
        return Outcome.refused(field, subscription_not_found(value), UserErrorCode.NOT_FOUND)
    problems = await check_manage_permission(context.principal, integration, field)
    if not problems and integration.status != STATUS_ACTIVE:
        return Outcome.refused(field, INTEGRATION_NOT_ACTIVE, UserErrorCode.NOT_ACTIVE)
    return Outcome(row, problems)


async def redeliver(context: Context, value: str) -> Outcome[Row]:
    """``redeliverWebhook``: a finished delivery, due again now (one conditional update)."""
    field = ("delivery_id",)
    delivery_id = parse_global_id(value, NODE_TYPE)
    row = await delivery_row(delivery_id) if delivery_id is not None else None
    if delivery_id is None or row is None:
        return Outcome.refused(field, not_found_message(value), UserErrorCode.NOT_FOUND)
    found = await _manageable_subscription(context, int(row["subscription_id"]), field, value)
    if found.value is None or found.problems:
        return Outcome(problems=found.problems)
    if not found.value.is_active and row["event"] != WebhookEventType.WEBHOOK_TEST.value:
        return Outcome.refused(field, SUBSCRIPTION_DISABLED, UserErrorCode.NOT_ACTIVE)
    due = await execute(
        "UPDATE webhook_delivery SET status = ?, next_attempt_at = ? WHERE id = ? AND status <> ?",
        DELIVERY_PENDING,
        clock.now(),
        delivery_id,
        DELIVERY_PENDING,
    )
    if not due:
        return Outcome.refused(field, ALREADY_PENDING, UserErrorCode.IN_PROGRESS)
    outbox.wake()
    return Outcome(await delivery_row(delivery_id))


async def send_test(context: Context, value: str) -> Outcome[Row]:
    """``sendTestWebhook``: a ``WEBHOOK_TEST`` delivery to the subscription (enabled or not), tried once."""
    field = ("subscription_id",)
    subscription_id = parse_global_id(value, SUBSCRIPTION_NODE)
    if subscription_id is None:
        return Outcome.refused(field, subscription_not_found(value), UserErrorCode.NOT_FOUND)
    found = await _manageable_subscription(context, subscription_id, field, value)
    if found.value is None or found.problems:
        return Outcome(problems=found.problems)
    now = clock.now()
    created = await WebhookDelivery.create(
        subscription_id=subscription_id,
        event=WebhookEventType.WEBHOOK_TEST.value,
        message_id=f"{outbox.message_prefix()}{subscription_id}",
        payload="{}",
        status=DELIVERY_PENDING,
        next_attempt_at=now,
        occurred_at=now,
        created_at=now,
    )
    outbox.wake()
    return Outcome(await delivery_row(created.id))
