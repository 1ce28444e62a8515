"""How is an event kept so that it is delivered exactly when its write happened? The transactional outbox.

A write that emits events opens its transaction with ``outbox.transaction()`` and calls ``record`` inside it:
one ``INSERT ... SELECT`` writes a delivery row for every active subscription (of an active integration) to
that event, carrying the entity as written. The rows commit or roll back with the write, so a rolled-back
write emits nothing and a committed one is never lost, whatever happens to the process afterwards. With no
subscriber the statement writes nothing: it is the whole cost of webhooks on a write.

Once the transaction has committed, this process's delivery worker is woken (``wake``), so an event is
usually on its way within milliseconds; workers of other processes find it when they next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from auth.clock import clock
from auth.grants import granted_resources
from models.integration import STATUS_ACTIVE
from models.sql import fetch_all
from models.webhooks import DELIVERY_PENDING
from resolvers.webhooks.events import CATALOGUE, WebhookEventType

_FAN_OUT = (
    "INSERT INTO webhook_delivery "
    "(subscription_id, event, message_id, payload, status, attempts, next_attempt_at, occurred_at, created_at) "
    "SELECT s.id, ?, ? || CAST(s.id AS VARCHAR(12)), ?, ?, 0, ?, ?, ? "
    "FROM webhook_subscription_event e "
    "JOIN webhook_subscription s ON s.id = e.subscription_id "
    "JOIN integration i ON i.id = s.integration_id "
    "WHERE e.event = ? AND s.is_active = ? AND i.status = ?"
)
#: The rows written are counted from what they return: the PostgreSQL driver's status of an ``INSERT`` is read
#: as no row by the ORM.
_RETURNING = " RETURNING id"
#: ``INTEGRATION_UPDATED`` and its like go to the integration's own subscriptions only.
_OWN_INTEGRATION = " AND s.integration_id = ?"


def message_prefix() -> str:
    """The start of a new event's ``webhook-id``s (the subscription's id ends each): unique per event."""
    return f"msg_{uuid.uuid4().hex}_"


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not stored in an event")


def snapshot(entity: Mapping[str, Any]) -> str:
    """The entity as JSON text (datetimes in ISO 8601, money as decimal strings)."""
    return json.dumps(dict(entity), default=_plain, separators=(",", ":"))


async def record(
    conn: BaseDBAsyncClient,
    event: WebhookEventType,
    entity: Mapping[str, Any],
    *,
    integration_id: int | None = None,
) -> int:
    """Write ``event`` about ``entity`` for its subscribers, on ``conn`` (the write's transaction); how many."""
    kind = CATALOGUE[event]
    now = clock.now()
    sql = _FAN_OUT
    params: list[object] = [event.value, message_prefix(), snapshot(entity), DELIVERY_PENDING, now, now, now]
    params += [event.value, True, STATUS_ACTIVE]
    if kind.own_integration:
        if integration_id is None:
            raise ValueError(f"{event.value} is about one integration: give its id")
        sql += _OWN_INTEGRATION
        params.append(integration_id)
    return len(await fetch_all(sql + _RETURNING, *params, conn=conn))


class Outbox:
    """The events of one write, recorded on its transaction's connection."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self.recorded = 0

    async def record(
        self, event: WebhookEventType, entity: Mapping[str, Any], *, integration_id: int | None = None
    ) -> None:
        self.recorded += await record(self.conn, event, entity, integration_id=integration_id)


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[Outbox]:
    """A transaction whose events commit with it; the local worker is woken once it has committed."""
    async with in_transaction() as conn:
        outbox = Outbox(conn)
        yield outbox
    if outbox.recorded:
        wake()


#: The wake-up signal of each delivery worker running in this process (``resolvers.webhooks.worker``).
_listeners: set[asyncio.Event] = set()


def listen() -> asyncio.Event:
    """A signal set whenever events were committed in this process (for a worker; ``unlisten`` when done)."""
    signal = asyncio.Event()
    _listeners.add(signal)
    return signal


def unlisten(signal: asyncio.Event) -> None:
    _listeners.discard(signal)


def wake() -> None:
    """Tell this process's workers that there are new deliveries."""
    for signal in _listeners:
        signal.set()


#: Why ``INTEGRATION_UPDATED`` was emitted.
GRANT_CHANGED = "GRANT_CHANGED"
UPDATED = "UPDATED"
REAUTHORIZED = "REAUTHORIZED"

_INTEGRATION = (
    "SELECT i.id, i.name, i.status, g.all_resources, g.resources FROM integration i "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id WHERE i.id = ?"
)


async def integration_updated(events: Outbox, integration_id: int, reason: str) -> None:
    """``INTEGRATION_UPDATED`` for the integration as this transaction leaves it (its grant expanded)."""
    rows = await fetch_all(_INTEGRATION, integration_id, conn=events.conn)
    if not rows:
        return
    row = rows[0]
    resources = sorted(granted_resources(row.pop("all_resources"), row.pop("resources")))
    entity = {**row, "resources": resources, "reason": reason}
    await events.record(WebhookEventType.INTEGRATION_UPDATED, entity, integration_id=integration_id)
