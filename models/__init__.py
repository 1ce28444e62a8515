"""Tortoise models only; migrations live in ``models/migrations``."""

from models.admin import AdminRole, AdminToken, AdminUser, ClientThrottle, TokenRequestLog
from models.audit import AuditChain, AuditEvent
from models.config import ConfigValue
from models.integration import (
    Integration,
    IntegrationActivity,
    IntegrationDeclaration,
    IntegrationGrant,
    OAuth2AccessToken,
    OAuthConsumer,
    OAuthNonce,
    OAuthToken,
)
from models.store import (
    Category,
    CmsBlock,
    CmsPage,
    Customer,
    Product,
    ProductCategory,
    SalesOrder,
    SalesOrderItem,
    StoreConfig,
    StoreGroup,
    StoreView,
    Website,
)
from models.webhooks import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription, WebhookSubscriptionEvent

__all__ = [
    "AdminRole",
    "AdminToken",
    "AdminUser",
    "AuditChain",
    "AuditEvent",
    "Category",
    "ClientThrottle",
    "CmsBlock",
    "CmsPage",
    "ConfigValue",
    "Customer",
    "Integration",
    "IntegrationActivity",
    "IntegrationDeclaration",
    "IntegrationGrant",
    "OAuth2AccessToken",
    "OAuthConsumer",
    "OAuthNonce",
    "OAuthToken",
    "Product",
    "ProductCategory",
    "SalesOrder",
    "SalesOrderItem",
    "StoreConfig",
    "StoreGroup",
    "StoreView",
    "TokenRequestLog",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookSubscription",
    "WebhookSubscriptionEvent",
    "Website",
]
