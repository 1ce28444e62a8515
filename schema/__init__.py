"""The assembled schema: each domain's Query and Mutation parts merged, with limits and access control.

Every field that declares an access rule carries its own guard (``auth.rules.AccessRule``); the schema
builds its rule table from the same declarations and refuses to be built when a rule is missing or wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from auth.control import OperationControl
from auth.enforcement import AccessPolicy
from errors import ErrorCode
from observability.metrics import MetricsExtension
from observability.tracing import tracing_extension
from schema.access import AccessQuery
from schema.admin import AdminMutation
from schema.admin_users import AdminUsersMutation, AdminUsersQuery
from schema.audit import AuditQuery
from schema.catalog import CatalogMutation, CatalogQuery
from schema.cms import CmsMutation, CmsQuery
from schema.config import ConfigMutation, ConfigQuery
from schema.customers import CustomerQuery
from schema.errors import MaskUnexpectedErrors, log_errors, with_code
from schema.execution import PlainLeafExecution, mark_plain_leaves
from schema.integrations import IntegrationMutation, IntegrationQuery
from schema.introspection import introspection_policy
from schema.rate_limits import RateLimitQuery
from schema.sales import SalesQuery
from schema.store import StoreQuery
from schema.text_inputs import RejectUnstorableText
from schema.webhook_documents import WebhookDocuments
from schema.webhook_events import PAYLOAD_TYPES, WebhookRoot
from schema.webhooks import WebhookMutation, WebhookQuery
from settings import Settings

QUERY_PARTS: tuple[type, ...] = (
    AccessQuery,
    ConfigQuery,
    CatalogQuery,
    CmsQuery,
    StoreQuery,
    SalesQuery,
    CustomerQuery,
    IntegrationQuery,
    AdminUsersQuery,
    RateLimitQuery,
    AuditQuery,
    WebhookQuery,
)
MUTATION_PARTS: tuple[type, ...] = (
    AdminMutation,
    ConfigMutation,
    CatalogMutation,
    CmsMutation,
    IntegrationMutation,
    AdminUsersMutation,
    WebhookMutation,
)


class Schema(strawberry.Schema):
    """The server's schema: its access policy is built from its fields' own rule declarations.

    ``access_policy`` is read by ``auth.control.OperationControl`` for every operation and by the
    ``requiredResources`` pre-flight query; building it audits the rules, so a schema with an unguarded
    root field or an unknown resource id cannot be served. Unexpected errors are logged
    (``schema.errors.log_errors``); expected ones stay quiet.
    """

    def __init__(
        self,
        *,
        query: type,
        mutation: type | None,
        settings: Settings,
        access_control: bool = True,
        subscription: type | None = None,
        types: tuple[type, ...] = (),
    ) -> None:
        super().__init__(
            query=query,
            mutation=mutation,
            subscription=subscription,
            types=types,
            extensions=schema_extensions(settings, access_control=OperationControl if access_control else None),
            config=StrawberryConfig(relay_max_results=settings.max_page_size),
            execution_context_class=PlainLeafExecution,
        )
        self.access_policy: AccessPolicy | None = (
            AccessPolicy(self._schema, max_page_size=settings.max_page_size) if access_control else None
        )
        #: Webhook subscription documents (checked at save, run at delivery); the server's own schema has them.
        self.webhooks: WebhookDocuments | None = None
        # After the access guards are in place: a guarded field is no plain leaf.
        mark_plain_leaves(self._schema)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


def schema_extensions(settings: Settings, *, access_control: Callable[[], Any] | None) -> list[Callable[[], Any]]:
    """Per-request extension factories: metrics and tracing (when on), limits, caches, introspection, access
    control and cost control (if access control is given), input checks, masking.

    The limiter rule classes are built once here, so that the validation cache keys stay the same
    across requests; each limit's errors carry a code of their own. The benchmark's bare baseline calls
    this with ``access_control=None``.
    """
    depth = QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules
    rules = [*with_code(depth, ErrorCode.MAX_DEPTH_EXCEEDED), *with_code(aliases, ErrorCode.MAX_ALIASES_EXCEEDED)]
    max_tokens = settings.max_tokens
    introspection = introspection_policy(settings.introspection)
    tracing = tracing_extension(settings)
    return [
        *([MetricsExtension] if settings.metrics_enabled else []),
        *([tracing] if tracing is not None else []),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
        *([introspection] if introspection is not None else []),
        *([access_control] if access_control is not None else []),
        RejectUnstorableText,
        MaskUnexpectedErrors,
    ]


def build_schema(
    settings: Settings | None = None,
    *,
    query_parts: tuple[type, ...] | None = None,
    mutation_parts: tuple[type, ...] | None = None,
) -> Schema:
    """The server's schema (or one made of other parts, as tests do), audited for access rules."""
    settings = settings or Settings()
    server_schema = query_parts is None and mutation_parts is None
    mutation_parts = MUTATION_PARTS if mutation_parts is None else mutation_parts
    schema = Schema(
        query=merge_types("Query", query_parts or QUERY_PARTS),
        mutation=merge_types("Mutation", mutation_parts) if mutation_parts else None,
        settings=settings,
    )
    if server_schema:
        schema.webhooks = WebhookDocuments(build_webhook_schema(settings), settings)
    return schema


def build_webhook_schema(settings: Settings) -> Schema:
    """The schema webhook subscription documents are checked and run against: the API's ``Query`` and the
    ``Subscription`` root of the event payloads (never served over HTTP), audited like the server's."""
    return Schema(
        query=merge_types("Query", QUERY_PARTS),
        mutation=None,
        subscription=WebhookRoot,
        types=tuple(PAYLOAD_TYPES.values()),
        settings=settings,
    )
