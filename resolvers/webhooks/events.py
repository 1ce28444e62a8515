"""What can an integration subscribe to? The events, each with the resources that reading its entity needs.

An event goes to a subscription only while its integration holds the event's resources: checked when the
subscription is saved and again when each delivery is made, so a grant narrowed after subscribing stops the
events (and, field by field, the payload) it no longer covers. ``INTEGRATION_UPDATED`` is about the
integration itself (its grant changed, it was reauthorized): it needs no resource and goes only to that
integration's own subscriptions.

A write that should emit an event calls ``resolvers.webhooks.outbox`` inside its transaction; a new event is
a member here, its payload type in ``schema.webhook_events``, and that call.
"""

from __future__ import annotations

import dataclasses
import enum

from auth.resources import Resource


class WebhookEventType(enum.Enum):
    PRODUCT_CREATED = "PRODUCT_CREATED"
    PRODUCT_UPDATED = "PRODUCT_UPDATED"
    PRODUCT_DELETED = "PRODUCT_DELETED"
    CMS_PAGE_CREATED = "CMS_PAGE_CREATED"
    CMS_PAGE_UPDATED = "CMS_PAGE_UPDATED"
    CMS_PAGE_DELETED = "CMS_PAGE_DELETED"
    INTEGRATION_UPDATED = "INTEGRATION_UPDATED"
    #: Sent by ``sendTestWebhook`` to one subscription, whatever its events; nobody subscribes to it.
    WEBHOOK_TEST = "WEBHOOK_TEST"


@dataclasses.dataclass(frozen=True, slots=True)
class EventKind:
    event: WebhookEventType
    #: The payload's ``type`` (Standard Webhooks' dotted form).
    wire_type: str
    #: The GraphQL type a subscription document selects on (``... on ProductUpdated``).
    payload_type: str
    #: What the integration must hold to receive it.
    resources: tuple[Resource, ...]
    description: str
    #: Only the subscriptions of the integration the event is about.
    own_integration: bool = False
    #: May be listed in a subscription's events.
    subscribable: bool = True


def _kind(event: WebhookEventType, payload_type: str, resources: tuple[Resource, ...], description: str) -> EventKind:
    entity, _, action = event.value.lower().rpartition("_")
    return EventKind(event, f"{entity}.{action}", payload_type, resources, description)


CATALOGUE: dict[WebhookEventType, EventKind] = {
    kind.event: kind
    for kind in (
        _kind(WebhookEventType.PRODUCT_CREATED, "ProductCreated", (Resource.PRODUCTS,), "A product was created."),
        _kind(WebhookEventType.PRODUCT_UPDATED, "ProductUpdated", (Resource.PRODUCTS,), "A product was changed."),
        _kind(WebhookEventType.PRODUCT_DELETED, "ProductDeleted", (Resource.PRODUCTS,), "A product was deleted."),
        _kind(WebhookEventType.CMS_PAGE_CREATED, "CmsPageCreated", (Resource.CMS_PAGES,), "A CMS page was created."),
        _kind(WebhookEventType.CMS_PAGE_UPDATED, "CmsPageUpdated", (Resource.CMS_PAGES,), "A CMS page was changed."),
        _kind(WebhookEventType.CMS_PAGE_DELETED, "CmsPageDeleted", (Resource.CMS_PAGES,), "A CMS page was deleted."),
        dataclasses.replace(
            _kind(
                WebhookEventType.INTEGRATION_UPDATED,
                "IntegrationUpdated",
                (),
                "This integration's grant or settings changed, or it was reauthorized.",
            ),
            own_integration=True,
        ),
        EventKind(
            WebhookEventType.WEBHOOK_TEST,
            "webhook.test",
            "WebhookTest",
            (),
            "A test delivery (sendTestWebhook).",
            subscribable=False,
        ),
    )
}

#: GraphQL payload type name -> its event.
BY_PAYLOAD_TYPE: dict[str, EventKind] = {kind.payload_type: kind for kind in CATALOGUE.values()}


def required_resources(events: tuple[WebhookEventType, ...] | list[WebhookEventType]) -> tuple[str, ...]:
    """The resources the events need together, in catalogue order, once each."""
    found: dict[str, None] = {}
    for event in events:
        found.update(dict.fromkeys(str(r) for r in CATALOGUE[event].resources))
    return tuple(found)
