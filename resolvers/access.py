"""Viewer, resource tree and pre-flight analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import parse
from graphql.error import GraphQLSyntaxError

from auth import acl
from errors import bad_user_input

if TYPE_CHECKING:
    from schema.context import Context


def resource_tree() -> tuple[acl.AclResource, ...]:
    """The children of ``Magento_Backend::admin`` (the GraphQL type reads these nodes directly)."""
    return acl.TREE.root.children


def required_resources(context: Context, query: str, operation_name: str | None) -> list[str]:
    try:
        document = parse(query, max_tokens=context.settings.max_tokens)
    except GraphQLSyntaxError as error:
        raise bad_user_input(f"The query cannot be parsed: {error.message}") from None
    return context.policy.required_resources(document, operation_name)
