"""Viewer, resource tree and pre-flight analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import parse, validate
from graphql.error import GraphQLSyntaxError

from auth import acl
from auth.enforcement import UnknownOperation
from errors import bad_user_input

if TYPE_CHECKING:
    from auth.enforcement import AccessPolicy, Requirements
    from schema.context import Context


def resource_tree() -> tuple[acl.AclResource, ...]:
    """The children of ``Magento_Backend::admin`` (the GraphQL type reads these nodes directly)."""
    return acl.TREE.root.children


def requirements(context: Context, policy: AccessPolicy, query: str, operation_name: str | None) -> Requirements:
    """What ``query`` needs, for the operation that would run; BAD_USER_INPUT when none would."""
    try:
        document = parse(query, max_tokens=context.settings.max_tokens)
    except GraphQLSyntaxError as error:
        raise bad_user_input(f"The query cannot be parsed: {error.message}") from None
    invalid = validate(policy.table.schema, document)
    if invalid:
        raise bad_user_input(f"The query is not valid: {invalid[0].message}")
    try:
        return policy.requirements(document, operation_name)
    except UnknownOperation as refusal:
        raise bad_user_input(refusal.message) from None
