"""How an operation's fields are executed: Strawberry's execution context, with a shorter path for plain leaf fields.

Most fields of a large answer are plain leaves: a scalar or an enum read from an attribute of their parent
(``Product.sku``, ``Category.name``), with no arguments, no resolver of their own and no access rule. graphql-core
runs each of them through the whole field machinery: a ``GraphQLResolveInfo`` built for a resolver that never reads
it, the arguments looked up, the value checked for being awaitable, then completed through the non-null, list and
leaf dispatch. For such a field, this context reads the value with the field's own resolver and coerces it with its
own type, as ``complete_leaf_value`` does, and answers it at once. Anything else takes graphql-core's path, and so
does a plain leaf whose value is null where the type is non-null, or that its type cannot coerce: that path raises
the located error, with the same message as always.

A field with an access rule never takes the short path: its resolver is the access guard (``auth.enforcement``), not
Strawberry's plain attribute reader, which is what marks a plain leaf (``mark_plain_leaves``).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: The attribute that marks a plain leaf's resolver: ``(leaf type, nullable)``.
PLAIN_LEAF = "plain_leaf"


def mark_plain_leaves(schema: GraphQLSchema) -> int:
    """Mark the resolver of every plain leaf field of ``schema``; how many were marked.

    Strawberry gives each field without a resolver of its own a function of its own that reads the attribute and
    marks it ``_is_default``; a field with an access rule has the guard instead.
    """
    marked = 0
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            nullable = not isinstance(field.type, GraphQLNonNull)
            leaf = field.type if nullable else field.type.of_type
            if field.args or not is_leaf_type(leaf) or not getattr(field.resolve, "_is_default", False):
                continue
            setattr(field.resolve, PLAIN_LEAF, (leaf, nullable))
            marked += 1
    return marked


class PlainLeafExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, answering plain leaf fields without graphql-core's per-field machinery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core middleware would wrap every resolver: then every field takes the usual path. (Strawberry passes
        # a manager with none.)
        manager = self.middleware_manager
        self.plain_leaves = manager is None or not manager.middlewares

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)  # ``__typename`` is no field here: the usual path
        plain: tuple[GraphQLLeafType, bool] | None = getattr(field.resolve, PLAIN_LEAF, None) if field else None
        if plain is not None and field is not None and not node.arguments and self.plain_leaves:
            leaf, nullable = plain
            try:
                value = field.resolve(source, None)  # the attribute reader ignores info
                if value is None:
                    if nullable:
                        return None
                elif not isinstance(value, Exception):
                    coerced = leaf.coerce_output_value(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # noqa: S110  # the usual path raises it again, located at the field
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
