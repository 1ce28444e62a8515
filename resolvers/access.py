"""Viewer, resource tree and pre-flight analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import GraphQLError, parse
from graphql.error import GraphQLSyntaxError

from auth import acl

if TYPE_CHECKING:
    from auth.enforcement import AccessPolicy
    from schema.context import Context


def resource_tree() -> tuple[acl.AclResource, ...]:
    """The children of ``Magento_Backend::admin`` (the GraphQL type reads these nodes directly)."""
    return acl.TREE.root.children


def required_resources(
    context: Context, policy: AccessPolicy, query: str, operation_name: str | None
) -> list[str]:
    try:
        document = parse(query, max_tokens=context.settings.max_tokens)
    except GraphQLSyntaxError as error:
        raise GraphQLError(
            f"The query cannot be parsed: {error.message}", extensions={"code": "BAD_USER_INPUT"}
        ) from None
    return policy.required_resources(document, operation_name)
