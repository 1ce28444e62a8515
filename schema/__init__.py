"""The assembled schema: each domain's Query and Mutation parts merged, with limits and access control.

``build_schema`` attaches the access guard to every field that declares a rule, builds the rule table
from the same declarations, and refuses a schema whose root fields lack one.
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

from schema.access import AccessQuery
from schema.admin import AdminMutation
from schema.catalog import CatalogMutation, CatalogQuery
from schema.cms import CmsMutation, CmsQuery
from schema.config import ConfigMutation, ConfigQuery
from schema.customers import CustomerQuery
from schema.errors import MaskUnexpectedErrors, log_errors
from schema.integrations import IntegrationMutation, IntegrationQuery
from schema.sales import SalesQuery
from schema.store import StoreQuery
from schema.text_inputs import RejectUnstorableText
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
)
MUTATION_PARTS: tuple[type, ...] = (
    AdminMutation,
    ConfigMutation,
    CatalogMutation,
    CmsMutation,
    IntegrationMutation,
)


class Schema(strawberry.Schema):
    """Logs unexpected errors (``schema.errors.log_errors``); expected ones stay quiet."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


def _object_definitions(types: tuple[type, ...]) -> list[Any]:
    return [t.__strawberry_definition__ for t in types]


def schema_extensions(settings: Settings, *, access_control: Callable[[], Any] | None) -> list[Callable[[], Any]]:
    """Per-request extension factories: limits, caches, access control (if given), input checks, masking.

    The limiter rule classes are built once here, so that the validation cache keys stay the same
    across requests. The benchmark's bare baseline calls this with ``access_control=None``.
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    max_tokens = settings.max_tokens
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
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
    from auth.enforcement import AccessControl, AccessPolicy, install_guards  # auth reads schema's directives

    settings = settings or Settings()
    query = merge_types("Query", query_parts or QUERY_PARTS)
    mutation = merge_types("Mutation", mutation_parts or MUTATION_PARTS)
    policy_holder: list[Any] = []
    extensions = schema_extensions(settings, access_control=lambda: AccessControl(policy_holder[0]))
    probe = strawberry.Schema(query=query, mutation=mutation)
    install_guards(
        t.definition
        for t in probe.schema_converter.type_map.values()
        if hasattr(t.definition, "fields") and not getattr(t.definition, "is_input", False)
    )
    schema = Schema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=settings.max_page_size),
    )
    policy_holder.append(AccessPolicy(schema._schema))
    schema.access_policy = policy_holder[0]  # type: ignore[attr-defined]
    return schema


def policy_of(schema: strawberry.Schema) -> Any:
    return schema.access_policy  # type: ignore[attr-defined]
