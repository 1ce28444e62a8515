"""What a field's selection asks for below it, read from the document (fragments included).

A resolver that can load what its children will need in one batch of its own (a page's product categories) asks
here whether they are selected at all, so that it never loads what nobody asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode


def _fields(selection_set: SelectionSetNode | None, fragments: dict[str, Any], seen: set[str]) -> Iterable[FieldNode]:
    """The fields of a selection set, with those of its inline fragments and fragment spreads."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen)


def selects(info: Any, *path: str) -> bool:
    """Whether the resolved field's selection reaches ``path`` (field names, e.g. ``"edges", "node", "categories"``)."""
    raw = info._raw_info  # Strawberry's Info wraps graphql-core's
    level: list[FieldNode] = list(raw.field_nodes)
    for name in path:
        level = [
            field
            for parent in level
            for field in _fields(parent.selection_set, raw.fragments, set())
            if field.name.value == name
        ]
        if not level:
            return False
    return True
