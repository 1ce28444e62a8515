"""Webhooks: an integration's subscriptions, their delivery log, redelivery and test deliveries (admins only).

The payload types a subscription's ``query`` selects from are in ``schema.webhook_events``.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry

from models import webhooks as stored
from models.values import as_bool, as_datetime
from resolvers.integrations.service import global_id as integration_global_id
from resolvers.integrations.service import parse_global_id as parse_integration_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.problems import Outcome
from resolvers.webhooks import deliveries, subscriptions
from resolvers.webhooks.events import CATALOGUE
from resolvers.webhooks.events import WebhookEventType as EventType
from resolvers.webhooks.subscriptions import SubscriptionInput
from schema.core import UserError, user_errors
from schema.directives import Resource, admin_only
from schema.integrations import YOUR_PASSWORD, your_password
from schema.pagination import PAGE_DESCRIPTION, Connection, connection
from schema.webhook_events import WebhookEventType

__all__ = ["WebhookEventType"]

SECRET = (
    "The signing secret (`whsec_` + base64 of 32 bytes, the Standard Webhooks form): returned only by "
    "`createWebhookSubscription` and `rotateWebhookSecret`, null everywhere else. Stored encrypted."
)
QUERY = (
    "The GraphQL subscription document that selects each payload, e.g. `subscription { event { ... on "
    "ProductUpdated { product { sku price } } } }`. Checked against the schema and the integration's grant "
    "when saved (a selection the integration could not read is the userError NOT_GRANTED naming the missing "
    "resources), and run as the integration, with its grant as it is then, for each delivery."
)


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(enum.Enum):
    #: Waiting for its next attempt (or being attempted).
    PENDING = stored.DELIVERY_PENDING
    DELIVERED = stored.DELIVERY_DELIVERED
    #: Given up: 24 hours of retries passed, or the payload could not be sent.
    FAILED = stored.DELIVERY_FAILED
    #: Not sent: the subscription was disabled, or the integration was not active or no longer held the event's
    #: resources, when it came due.
    SKIPPED = stored.DELIVERY_SKIPPED


@strawberry.type(description="An event a webhook subscription may be for.")
class WebhookEventInfo:
    type: EventType
    payload_type: str = strawberry.field(description="The type the subscription document selects on.")
    wire_type: str = strawberry.field(description="The payload's `type` field.")
    required_resources: list[str] = strawberry.field(description="What the integration must hold to receive it.")
    description: str
    subscribable: bool


@strawberry.type(description="Where an integration's events are sent, and what each payload selects.")
class WebhookSubscription:
    id: strawberry.ID
    integration_id: strawberry.ID
    events: list[EventType]
    target_url: str
    query: str = strawberry.field(description=QUERY)
    is_active: bool
    secret: str | None = strawberry.field(description=SECRET)
    secret_rotated_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None = strawberry.field(
        description="Until when deliveries also carry a signature made with the secret before the last rotation."
    )
    consecutive_failures: int = strawberry.field(description="Failed delivery attempts since the last delivered one.")
    disabled_at: dt.datetime | None = strawberry.field(description="When the delivery worker disabled it, if it did.")
    disabled_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, subscription: subscriptions.Subscription) -> WebhookSubscription:
        row = subscription.row
        return cls(
            id=strawberry.ID(subscriptions.global_id(row.id)),
            integration_id=strawberry.ID(integration_global_id(row.integration_id)),  # type: ignore[attr-defined]
            events=list(subscription.events),
            target_url=row.target_url,
            query=row.query,
            is_active=row.is_active,
            secret=subscription.secret,
            secret_rotated_at=row.secret_rotated_at,
            previous_secret_expires_at=row.previous_secret_expires_at,
            consecutive_failures=row.consecutive_failures,
            disabled_at=row.disabled_at,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    def maybe(cls, subscription: subscriptions.Subscription | None) -> WebhookSubscription | None:
        return cls.of(subscription) if subscription is not None else None


@strawberry.type(description="One attempt of a delivery.")
class WebhookDeliveryAttempt:
    number: int
    started_at: dt.datetime
    response_status: int | None = strawberry.field(description="The HTTP status answered; null: no answer.")
    latency_ms: int | None = strawberry.field(description="Milliseconds from resolving the host to the answer.")
    error: str | None = strawberry.field(description="What went wrong, in words (never the payload).")
    succeeded: bool


def _optional_time(value: object) -> dt.datetime | None:
    return as_datetime(value) if value is not None else None


@strawberry.type(description="One event sent (or to be sent) to one subscription.")
class WebhookDelivery:
    id: strawberry.ID
    subscription_id: strawberry.ID
    event: EventType
    webhook_id: str = strawberry.field(description="The `webhook-id` header: the same on every attempt.")
    status: WebhookDeliveryStatus
    attempt_count: int
    response_status: int | None = strawberry.field(description="The latest attempt's HTTP status (null: none).")
    latency_ms: int | None = strawberry.field(description="The latest attempt's time, in milliseconds.")
    last_error: str | None = strawberry.field(description="Why the latest attempt failed.")
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When the next attempt is due (while one is being made: when its claim runs out); null once "
        "finished."
    )
    occurred_at: dt.datetime
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    delivery_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(deliveries.global_id(row["id"])),
            subscription_id=strawberry.ID(subscriptions.global_id(row["subscription_id"])),
            event=EventType(row["event"]),
            webhook_id=row["message_id"],
            status=WebhookDeliveryStatus(row["status"]),
            attempt_count=int(row["attempts"]),
            response_status=row["response_status"],
            latency_ms=row["latency_ms"],
            last_error=row["last_error"],
            next_attempt_at=_optional_time(row["next_attempt_at"]),
            occurred_at=as_datetime(row["occurred_at"]),
            delivered_at=_optional_time(row["delivered_at"]),
            created_at=as_datetime(row["created_at"]),
            delivery_id=int(row["id"]),
        )

    @classmethod
    def maybe(cls, row: dict[str, Any] | None) -> WebhookDelivery | None:
        return cls.from_row(row) if row is not None else None

    @strawberry.field(description="Every attempt made, oldest first.")
    async def attempts(self, info: strawberry.Info) -> list[WebhookDeliveryAttempt]:
        rows = await deliveries.attempts(info.context).load(self.delivery_id)
        return [
            WebhookDeliveryAttempt(
                number=row["number"],
                started_at=as_datetime(row["started_at"]),
                response_status=row["response_status"],
                latency_ms=row["latency_ms"],
                error=row["error"],
                succeeded=as_bool(row["succeeded"]),
            )
            for row in rows
        ]


@strawberry.input
class CreateWebhookSubscriptionInput:
    integration_id: strawberry.ID
    events: list[EventType]
    target_url: str = strawberry.field(
        description="Where deliveries are POSTed (http or https). Its host is checked as activation callbacks' are: "
        "link-local and cloud-metadata addresses never, private and loopback ones only when "
        "`config.oauth.privateCallbackAllowList` lists them."
    )
    query: str = strawberry.field(description=QUERY)
    is_active: bool = True
    current_password: str | None = your_password()


@strawberry.input(description="Fields left out keep their values.")
class UpdateWebhookSubscriptionInput:
    id: strawberry.ID
    events: list[EventType] | None = strawberry.UNSET
    target_url: str | None = strawberry.UNSET
    query: str | None = strawberry.field(default=strawberry.UNSET, description=QUERY)
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Enabling a subscription also clears its run of failures."
    )
    current_password: str | None = your_password()


@strawberry.type
class WebhookSubscriptionPayload:
    subscription: WebhookSubscription | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[subscriptions.Subscription]) -> WebhookSubscriptionPayload:
        return cls(subscription=WebhookSubscription.maybe(outcome.value), user_errors=user_errors(outcome.problems))


@strawberry.type
class DeleteWebhookSubscriptionPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[dict[str, Any]]) -> WebhookDeliveryPayload:
        return cls(delivery=WebhookDelivery.maybe(outcome.value), user_errors=user_errors(outcome.problems))


def _documents(info: strawberry.Info) -> Any:
    documents = getattr(info.schema, "webhooks", None)
    if documents is None:
        raise RuntimeError("this schema was built without webhook documents")
    return documents


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="The events subscriptions may be for, with what each needs.",
    )
    def webhook_events(self) -> list[WebhookEventInfo] | None:
        return [
            WebhookEventInfo(
                type=kind.event,
                payload_type=kind.payload_type,
                wire_type=kind.wire_type,
                required_resources=[str(r) for r in kind.resources],
                description=kind.description,
                subscribable=kind.subscribable,
            )
            for kind in CATALOGUE.values()
        ]

    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="An integration's webhook subscriptions, oldest first (null: no such integration).",
    )
    async def webhook_subscriptions(self, integration_id: strawberry.ID) -> list[WebhookSubscription] | None:
        number = parse_integration_id(integration_id)
        if number is None:
            return None
        return [WebhookSubscription.of(s) for s in await subscriptions.subscriptions_of(number)]

    @strawberry.field(extensions=[admin_only(Resource.INTEGRATIONS)], description="A webhook subscription, or null.")
    async def webhook_subscription(self, id: strawberry.ID) -> WebhookSubscription | None:
        return WebhookSubscription.maybe(await subscriptions.get_subscription(id))

    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="A subscription's deliveries, newest first, optionally of one status (null: no such "
        "subscription). " + PAGE_DESCRIPTION,
    )
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        subscription_id: strawberry.ID,
        status: WebhookDeliveryStatus | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[WebhookDelivery] | None:
        page = await deliveries.deliveries_page(
            info.context, subscription_id, status.value if status is not None else None, first, after
        )
        return connection(page, WebhookDelivery.from_row) if page is not None else None


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Subscribe an integration to events: deliveries are POSTed to `targetUrl`, signed to the Standard "
        "Webhooks specification with the returned `secret` (shown only here).",
    )
    async def create_webhook_subscription(
        self, info: strawberry.Info, input: CreateWebhookSubscriptionInput
    ) -> WebhookSubscriptionPayload:
        data = SubscriptionInput(
            integration_id=input.integration_id,
            events=input.events,
            target_url=input.target_url,
            query=input.query,
            is_active=input.is_active,
        )
        outcome = await subscriptions.create_subscription(
            info.context, data, input.current_password or None, _documents(info)
        )
        return WebhookSubscriptionPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Change a subscription; nothing is saved on errors.",
    )
    async def update_webhook_subscription(
        self, info: strawberry.Info, input: UpdateWebhookSubscriptionInput
    ) -> WebhookSubscriptionPayload:
        data = SubscriptionInput(events=input.events, target_url=input.target_url, query=input.query)
        data.is_active = input.is_active
        outcome = await subscriptions.update_subscription(
            info.context, input.id, data, input.current_password or None, _documents(info)
        )
        return WebhookSubscriptionPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Delete a subscription; its pending deliveries are not sent.",
    )
    async def delete_webhook_subscription(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> DeleteWebhookSubscriptionPayload:
        outcome = await subscriptions.delete_subscription(info.context, id, current_password)
        deleted = strawberry.ID(outcome.value) if outcome.value is not None else None
        return DeleteWebhookSubscriptionPayload(deleted_id=deleted, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="A new signing secret, shown once in the payload. For `overlapSeconds` (0 to 2592000, default 0) "
        "deliveries carry a second signature made with the previous secret, so receivers can switch without "
        "missing one.",
    )
    async def rotate_webhook_secret(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        overlap_seconds: int = 0,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> WebhookSubscriptionPayload:
        outcome = await subscriptions.rotate_secret(info.context, id, overlap_seconds, current_password)
        return WebhookSubscriptionPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Send a finished delivery (delivered, failed or skipped) again now, with the same `webhook-id`; "
        "retried only within 24 hours of its event.",
    )
    async def redeliver_webhook(self, info: strawberry.Info, delivery_id: strawberry.ID) -> WebhookDeliveryPayload:
        return WebhookDeliveryPayload.of(await deliveries.redeliver(info.context, delivery_id))

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Send a WEBHOOK_TEST delivery to the subscription now (even a disabled one), tried once; its "
        "result shows in `webhookDeliveries`.",
    )
    async def send_test_webhook(self, info: strawberry.Info, subscription_id: strawberry.ID) -> WebhookDeliveryPayload:
        return WebhookDeliveryPayload.of(await deliveries.send_test(info.context, subscription_id))
