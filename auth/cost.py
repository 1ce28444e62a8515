"""What a GraphQL operation costs, worked out once per document in the walk that finds its guarded fields.

The cost model (Shopify's calculated query cost, documented with worked examples in
``docs/connect-third-party-app.md``):

- a scalar or enum field costs 0, and so does ``__typename``;
- a field that returns an object (or a list of objects that is not a connection) costs 1 plus its selection;
- a connection (a type named ``...Connection`` with ``edges``) costs ``first`` x the cost of its node
  selection + 2 (``edges``, ``pageInfo`` and ``totalCount`` are in the 2);
- a root mutation field costs 10 plus its selection (the payload object itself is in the 10);
- fragments count where they are spread; the branches of an abstract type are added up (an upper bound);
- ``first`` counts at most ``MAX_PAGE_SIZE`` (a larger page is refused with ``BAD_USER_INPUT`` when it runs).

``first`` given as a literal is folded into the number when the document is analysed. Given as a variable,
the cost keeps a term that is evaluated with the request's variables (its value, else the variable's default,
else the argument's default, else the largest page size), so the walk itself runs once per document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)

#: What a root mutation field costs before its selection.
MUTATION_COST = 10
#: What a connection costs besides its nodes (``edges``, ``pageInfo``, ``totalCount``).
CONNECTION_COST = 2


@dataclasses.dataclass(frozen=True, slots=True)
class PageTerm:
    """A connection whose ``first`` is a variable: ``first`` x ``node_cost`` + 2, known per request."""

    variable: str
    #: The page size when the request does not give the variable.
    fallback: int
    node_cost: QueryCost
    #: The largest page a connection serves (a larger ``first`` is refused with BAD_USER_INPUT, never served).
    max_page_size: int = 100
    #: How many times the connection is selected (inside another connection's nodes).
    times: int = 1

    def evaluate(self, variables: Mapping[str, Any]) -> int:
        given = variables.get(self.variable, self.fallback)
        first = given if isinstance(given, int) and not isinstance(given, bool) else self.fallback
        first = min(max(0, first), self.max_page_size)
        return self.times * (first * self.node_cost.evaluate(variables) + CONNECTION_COST)


@dataclasses.dataclass(frozen=True, slots=True)
class QueryCost:
    """A constant plus the terms that depend on variables (none, for most documents)."""

    constant: int = 0
    terms: tuple[PageTerm, ...] = ()

    def evaluate(self, variables: Mapping[str, Any] | None) -> int:
        """The cost with the request's variables (the constant, for a document without variable page sizes)."""
        if not self.terms:
            return self.constant
        given = variables or {}
        return self.constant + sum(term.evaluate(given) for term in self.terms)

    def __add__(self, other: QueryCost) -> QueryCost:
        return QueryCost(self.constant + other.constant, self.terms + other.terms)

    def plus(self, points: int) -> QueryCost:
        return QueryCost(self.constant + points, self.terms)

    def times(self, first: int) -> QueryCost:
        """``first`` x this (a literal page size)."""
        terms = tuple(dataclasses.replace(term, times=term.times * first) for term in self.terms) if first else ()
        return QueryCost(self.constant * first, terms)


FREE = QueryCost()


def is_connection(type_: Any) -> TypeGuard[GraphQLObjectType]:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Connection") and "edges" in type_.fields


class DocumentWalk:
    """One walk over an operation (fragments followed where spread): its cost, and every field selected.

    ``on_field(parent, name)`` is called for each field node with the type it is selected on, so the access
    analysis (``auth.enforcement``) collects its guarded fields in this same walk.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        on_field: Callable[[GraphQLCompositeType, str], None],
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.on_field = on_field
        self.max_page_size = max_page_size
        self.defaults: dict[str, int] = {
            d.variable.name.value: int(d.default_value.value)
            for d in operation.variable_definitions or ()
            if isinstance(d.default_value, IntValueNode)
        }
        self._spreading: set[str] = set()

    def operation_cost(self, operation: OperationDefinitionNode, root: GraphQLObjectType) -> QueryCost:
        if operation.operation is not OperationType.MUTATION:
            return self.selection(root, operation.selection_set)
        total = FREE
        for node, _parent, field in self._fields(root, operation.selection_set):
            total = total + self._below(node, field).plus(MUTATION_COST)
        return total

    def selection(self, parent: GraphQLCompositeType, selection_set: SelectionSetNode | None) -> QueryCost:
        total = FREE
        for node, _parent, field in self._fields(parent, selection_set):
            total = total + self.field_cost(node, field)
        return total

    def field_cost(self, node: FieldNode, field: GraphQLField) -> QueryCost:
        named = get_named_type(field.type)
        if is_connection(named):
            return self._connection(node, field, named)
        if not is_composite_type(named):
            return FREE
        return self._below(node, field).plus(1)

    def _below(self, node: FieldNode, field: GraphQLField) -> QueryCost:
        named = get_named_type(field.type)
        if not is_composite_type(named):
            return FREE
        return self.selection(named, node.selection_set)

    def _connection(self, node: FieldNode, field: GraphQLField, connection: GraphQLObjectType) -> QueryCost:
        nodes = FREE
        for child, _parent, child_field in self._fields(connection, node.selection_set):
            if child.name.value != "edges":
                self.field_cost(child, child_field)  # pageInfo, totalCount: in the connection's own 2
                continue
            edge = get_named_type(child_field.type)
            for grandchild, _edge, grandchild_field in self._fields(edge, child.selection_set):  # type: ignore[arg-type]
                nodes = nodes + self.field_cost(grandchild, grandchild_field)
        first = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(first, VariableNode):
            name = first.name.value
            fallback = self.defaults.get(name, self._default_first(field))
            return QueryCost(0, (PageTerm(name, fallback, nodes, self.max_page_size),))
        size = int(first.value) if isinstance(first, IntValueNode) else self._default_first(field)
        # A page larger than MAX_PAGE_SIZE is refused with its own error when it runs: count the largest one.
        return nodes.times(min(max(0, size), self.max_page_size)).plus(CONNECTION_COST)

    def _default_first(self, field: GraphQLField) -> int:
        argument = field.args.get("first")
        default = argument.default_value if argument is not None else None
        return default if isinstance(default, int) and not isinstance(default, bool) else self.max_page_size

    def _fields(
        self, parent: GraphQLCompositeType, selection_set: SelectionSetNode | None
    ) -> list[tuple[FieldNode, GraphQLCompositeType, GraphQLField]]:
        """The field nodes of a selection with their definitions, fragments inlined (each reported once)."""
        found: list[tuple[FieldNode, GraphQLCompositeType, GraphQLField]] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                name = selection.name.value
                self.on_field(parent, name)
                field = self.schema.get_field(parent, name)
                if field is not None and name != "__typename":
                    found.append((selection, parent, field))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                if is_composite_type(inner):
                    found.extend(self._fields(inner, selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self._spreading:
                    continue
                inner = self.schema.get_type(fragment.type_condition.name.value)
                if is_composite_type(inner):
                    self._spreading.add(name)
                    try:
                        found.extend(self._fields(inner, fragment.selection_set))
                    finally:
                        self._spreading.discard(name)
        return found
