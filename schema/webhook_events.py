"""Webhook payloads: the types a subscription document selects from (``subscription { event { ... } }``).

Every event is a ``WebhookEvent`` (its ``type`` and ``occurredAt``) of a type of its own, selected with a
fragment: ``subscription { event { ... on ProductUpdated { product { sku price } } } }``. The entity fields
declare the rule of the data they lead to, as the API's fields do (``ProductUpdated.product`` needs
``Magento_Catalog::products``), and nested fields keep theirs (``Product.categories`` needs
``Magento_Catalog::categories``): the start-up audit checks them, a document is checked against them when
a subscription is saved, and they are enforced again for the integration at each delivery.

These types make a schema of their own (``schema.webhook_documents``), with the API's ``Query`` beside the
``Subscription`` root so that the audit sees whose data each type is; it is never served over HTTP.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

import strawberry
from strawberry.relay import GlobalID

from models.values import as_datetime
from resolvers.webhooks import events as catalogue
from resolvers.webhooks import outbox
from schema.catalog import Product
from schema.cms import CmsPage
from schema.directives import Resource, public, requires
from schema.integrations import IntegrationStatus

WebhookEventType = strawberry.enum(
    catalogue.WebhookEventType,
    name="WebhookEventType",
    description="What happened. Subscribing to an event needs the resources its entity needs (see "
    "`webhookEvents`); WEBHOOK_TEST is sent only by `sendTestWebhook`.",
)


@strawberry.enum(description="Why INTEGRATION_UPDATED was sent.")
class IntegrationUpdateReason(enum.Enum):
    #: Its resources were saved again (`updateIntegration` with `resources` or `resourceAccess`).
    GRANT_CHANGED = outbox.GRANT_CHANGED
    #: Other fields changed (name, URLs, authentication methods, rate limits).
    UPDATED = outbox.UPDATED
    #: New access credentials were issued (`reauthorizeIntegration`).
    REAUTHORIZED = outbox.REAUTHORIZED


@strawberry.interface(description="An event delivered by a webhook; select its entity with a fragment on its type.")
class WebhookEvent:
    type: catalogue.WebhookEventType
    occurred_at: dt.datetime = strawberry.field(description="When the write that caused it committed.")
    entity: strawberry.Private[dict[str, Any]]


@strawberry.type(description="A product was created.")
class ProductCreated(WebhookEvent):
    @strawberry.field(extensions=[requires(Resource.PRODUCTS)], description="The product as it was saved.")
    def product(self) -> Product | None:
        return Product.from_row(self.entity)


@strawberry.type(description="A product was changed.")
class ProductUpdated(WebhookEvent):
    @strawberry.field(extensions=[requires(Resource.PRODUCTS)], description="The product as it was saved.")
    def product(self) -> Product | None:
        return Product.from_row(self.entity)


@strawberry.type(description="A product was deleted.")
class ProductDeleted(WebhookEvent):
    @strawberry.field(
        extensions=[requires(Resource.PRODUCTS)],
        description="The product as it was before it was deleted (it is in no category any more).",
    )
    def product(self) -> Product | None:
        return Product.from_row(self.entity)


@strawberry.type(description="A CMS page was created.")
class CmsPageCreated(WebhookEvent):
    @strawberry.field(extensions=[requires(Resource.CMS_PAGES)], description="The page as it was saved.")
    def cms_page(self) -> CmsPage | None:
        return CmsPage.from_row(self.entity)


@strawberry.type(description="A CMS page was changed.")
class CmsPageUpdated(WebhookEvent):
    @strawberry.field(extensions=[requires(Resource.CMS_PAGES)], description="The page as it was saved.")
    def cms_page(self) -> CmsPage | None:
        return CmsPage.from_row(self.entity)


@strawberry.type(description="A CMS page was deleted.")
class CmsPageDeleted(WebhookEvent):
    @strawberry.field(
        extensions=[requires(Resource.CMS_PAGES)], description="The page as it was before it was deleted."
    )
    def cms_page(self) -> CmsPage | None:
        return CmsPage.from_row(self.entity)


@strawberry.type(
    description="The integration receiving this was changed or reauthorized: its own facts, as `viewer` shows them."
)
class IntegrationUpdated(WebhookEvent):
    @strawberry.field(description="The integration's (global) id.")
    def integration_id(self) -> strawberry.ID:
        return strawberry.ID(str(GlobalID("Integration", str(self.entity["id"]))))

    @strawberry.field
    def name(self) -> str:
        return str(self.entity["name"])

    @strawberry.field
    def status(self) -> IntegrationStatus:
        return IntegrationStatus(self.entity["status"])

    @strawberry.field(description="Resources it holds now; `Magento_Backend::all` means every resource.")
    def resources(self) -> list[str]:
        return list(self.entity["resources"])

    @strawberry.field
    def reason(self) -> IntegrationUpdateReason:
        return IntegrationUpdateReason(self.entity["reason"])


@strawberry.type(description="A test delivery (`sendTestWebhook`): only the event's own fields.")
class WebhookTest(WebhookEvent):
    pass


PAYLOAD_TYPES: dict[catalogue.WebhookEventType, type[WebhookEvent]] = {
    catalogue.WebhookEventType.PRODUCT_CREATED: ProductCreated,
    catalogue.WebhookEventType.PRODUCT_UPDATED: ProductUpdated,
    catalogue.WebhookEventType.PRODUCT_DELETED: ProductDeleted,
    catalogue.WebhookEventType.CMS_PAGE_CREATED: CmsPageCreated,
    catalogue.WebhookEventType.CMS_PAGE_UPDATED: CmsPageUpdated,
    catalogue.WebhookEventType.CMS_PAGE_DELETED: CmsPageDeleted,
    catalogue.WebhookEventType.INTEGRATION_UPDATED: IntegrationUpdated,
    catalogue.WebhookEventType.WEBHOOK_TEST: WebhookTest,
}


def event_object(event: catalogue.WebhookEventType, entity: dict[str, Any], occurred_at: object) -> WebhookEvent:
    """The root value a delivery's document runs on."""
    return PAYLOAD_TYPES[event](type=event, occurred_at=as_datetime(occurred_at), entity=entity)


@strawberry.type(name="Subscription", description="What a webhook subscription's document selects from.")
class WebhookRoot:
    @strawberry.field(
        extensions=[public()],
        description="The event being delivered. Its entity is selected with a fragment on its type; each entity "
        "field needs the resources of its data, as in queries.",
    )
    def event(self) -> WebhookEvent:
        return cast(WebhookEvent, self)  # the event is the operation's root value
