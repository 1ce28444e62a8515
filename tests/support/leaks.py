"""Does a response carry any field the caller may not read? Checked on the data itself, for fuzzed documents.

Every selection set of the document is given ``__leak_check_type: __typename`` before it is sent, so each
object of the response names its type; the response is then walked alongside the document (aliases,
fragments and lists included), and every field whose rule the caller does not satisfy must be ``null``
(or not there at all). The rules come from the schema's own declarations; whether the caller satisfies
one is worked out here from its grant, not by the server's ``decide()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from graphql.error import GraphQLSyntaxError

from auth.acl import ALL

TYPE_KEY = "__leak_check_type"


class LeakCheck:
    """The fields (``"Type.field"``) a caller holding ``held`` may not read, and the check of a response."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: dict[str, Any],
        held: frozenset[str],
        *,
        admin: bool = False,
        guest_access: bool = False,
    ) -> None:
        """``admin``: the caller is an admin (of some role); ``guest_access``: Allow Anonymous Guest Access is
        on, which opens guest fields to every caller."""
        self.schema = schema

        def readable(rule: Any) -> bool:
            if rule.public or (guest_access and rule.guest):
                return True
            if rule.admin_only and not admin:
                return False
            return ALL in held or set(rule.resources) <= held

        self.forbidden = {
            coordinate
            for coordinate, rule in rules.items()
            if not readable(rule)
            and not coordinate.startswith(("Query.", "Mutation."))  # roots answer with an error, as they must
        }

    def prepare(self, document: str) -> str | None:
        """The document with every selection set naming its type, or None when it does not parse."""
        try:
            parsed = parse(document)
        except GraphQLSyntaxError:
            return None
        return print_ast(visit(parsed, _NameEveryType()))

    def leaks(self, document: str, response: dict[str, Any]) -> list[str]:
        """``Type.field`` at each place the response carries data the caller may not read."""
        parsed = parse(document)
        fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or not isinstance(response.get("data"), dict):
            return []
        found: list[str] = []
        self._walk(response["data"], operations[0].selection_set, fragments, "data", found)
        return found

    def _walk(
        self,
        value: Any,
        selections: SelectionSetNode | None,
        fragments: dict[str, FragmentDefinitionNode],
        path: str,
        found: list[str],
    ) -> None:
        if value is None or selections is None:
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self._walk(item, selections, fragments, f"{path}.{index}", found)
            return
        if not isinstance(value, dict):
            return
        type_name = value.get(TYPE_KEY)
        for field in self._fields(selections, type_name, fragments):
            key = field.alias.value if field.alias else field.name.value
            if key not in value or field.name.value == "__typename":
                continue
            coordinate = f"{type_name}.{field.name.value}"
            if coordinate in self.forbidden and value[key] is not None:
                found.append(f"{coordinate} at {path}.{key}")
            self._walk(value[key], field.selection_set, fragments, f"{path}.{key}", found)

    def _fields(
        self, selections: SelectionSetNode, type_name: str | None, fragments: dict[str, FragmentDefinitionNode]
    ) -> Iterator[FieldNode]:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if self._applies(condition, type_name):
                    yield from self._fields(selection.selection_set, type_name, fragments)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and self._applies(fragment.type_condition.name.value, type_name):
                    yield from self._fields(fragment.selection_set, type_name, fragments)

    def _applies(self, condition: str | None, type_name: str | None) -> bool:
        if condition is None or type_name is None or condition == type_name:
            return True
        abstract = self.schema.get_type(condition)
        concrete = self.schema.get_type(type_name)
        if abstract is None or concrete is None:
            return False
        try:
            return self.schema.is_sub_type(abstract, concrete)  # type: ignore[arg-type]
        except TypeError:
            return False


class _NameEveryType(Visitor):
    """Adds ``__leak_check_type: __typename`` to every selection set (AST nodes are immutable: replaced)."""

    def leave_selection_set(self, node: SelectionSetNode, *_args: Any) -> SelectionSetNode:
        marker = FieldNode(
            alias=NameNode(value=TYPE_KEY), name=NameNode(value="__typename"), arguments=(), directives=()
        )
        return SelectionSetNode(selections=(*node.selections, marker))


def for_grant(held: frozenset[str], *, admin: bool = False, guest_access: bool = False) -> LeakCheck:
    """The check for a caller holding ``held`` (an expanded grant), from the server's own schema."""
    from schema import build_schema

    built = build_schema()
    policy = built.access_policy
    assert policy is not None
    return LeakCheck(built._schema, policy.table.rules, held, admin=admin, guest_access=guest_access)
