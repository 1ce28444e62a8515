"""Webhooks: an integration's subscriptions, and the outbox of deliveries with the record of each attempt.

A delivery row is the transactional outbox: it is written in the same transaction as the store write that
caused it (``resolvers.webhooks.outbox``), one row per subscription the event goes to, carrying the entity as
it was written. Delivery workers claim due rows (``resolvers.webhooks.worker``); a claim moves
``next_attempt_at`` to the end of its lease, so a row whose worker died is due again when the lease ends.
Everything hangs off the integration: deleting it deletes its subscriptions and their deliveries.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.integration import Integration

DELIVERY_PENDING = "PENDING"
DELIVERY_DELIVERED = "DELIVERED"
#: Given up: the retry window ran out, or the payload could not be made (too large, say).
DELIVERY_FAILED = "FAILED"
#: Not sent: the subscription or its integration was no longer active, or the integration no longer holds the
#: event's resources, when the delivery came due.
DELIVERY_SKIPPED = "SKIPPED"


class WebhookSubscription(Model):
    """Where an integration wants events sent, and what their payload selects (a GraphQL subscription document)."""

    id = fields.IntField(primary_key=True)
    integration: fields.ForeignKeyRelation[Integration] = fields.ForeignKeyField(
        "models.Integration", related_name="webhook_subscriptions", on_delete=fields.CASCADE
    )
    target_url = fields.CharField(max_length=2048)
    query = fields.TextField(description="The GraphQL subscription document that selects each payload.")
    #: ``whsec_...``, encrypted at rest (``auth.secret_box``).
    secret = fields.CharField(max_length=255, description="Encrypted signing secret.")
    #: The secret before the last rotation, encrypted: deliveries are signed with both until it expires.
    previous_secret = fields.CharField(max_length=255, null=True, description="Encrypted. Signs during the overlap.")
    previous_secret_expires_at = fields.DatetimeField(null=True)
    secret_rotated_at = fields.DatetimeField(null=True)
    is_active = fields.BooleanField(default=True)
    #: Failed attempts since the last successful one (the subscription is disabled when it reaches the setting).
    consecutive_failures = fields.IntField(default=0)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_subscription"


class WebhookSubscriptionEvent(Model):
    """One event a subscription is for: the outbox finds the subscriptions of an event by this table."""

    id = fields.IntField(primary_key=True)
    subscription: fields.ForeignKeyRelation[WebhookSubscription] = fields.ForeignKeyField(
        "models.WebhookSubscription", related_name="events", on_delete=fields.CASCADE
    )
    event = fields.CharField(max_length=32, db_index=True)

    class Meta:
        table = "webhook_subscription_event"
        unique_together = (("subscription", "event"),)


class WebhookDelivery(Model):
    """One event for one subscription: the outbox row, its state, and its latest attempt's result."""

    id = fields.BigIntField(primary_key=True)
    subscription: fields.ForeignKeyRelation[WebhookSubscription] = fields.ForeignKeyField(
        "models.WebhookSubscription", related_name="deliveries", on_delete=fields.CASCADE
    )
    event = fields.CharField(max_length=32)
    #: The ``webhook-id`` header: the same on every attempt, so receivers can drop duplicates.
    message_id = fields.CharField(max_length=64, unique=True)
    #: The entity as the write left it (JSON), rendered through the subscription's document when delivered.
    payload = fields.TextField()
    status = fields.CharField(max_length=16, default=DELIVERY_PENDING)
    attempts = fields.IntField(default=0)
    #: When the next attempt is due (while claimed: when the claim's lease ends), null once finished.
    next_attempt_at = fields.DatetimeField(null=True)
    occurred_at = fields.DatetimeField()
    response_status = fields.IntField(null=True)
    latency_ms = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("subscription_id", "id"))


class WebhookDeliveryAttempt(Model):
    """What one attempt did: the answer's status and time, or why there was none."""

    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    #: The attempt's number (1 is the first), each claimed by one worker only.
    number = fields.IntField()
    started_at = fields.DatetimeField()
    response_status = fields.IntField(null=True)
    latency_ms = fields.IntField(null=True)
    error = fields.TextField(null=True)
    succeeded = fields.BooleanField()

    class Meta:
        table = "webhook_delivery_attempt"
        unique_together = (("delivery", "number"),)
