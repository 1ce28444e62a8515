"""Who may read the schema through introspection (the ``INTROSPECTION`` setting).

The rule depends on the caller, so it cannot be a validation rule: validation results are cached per
document and rule set (``ValidationCache``), and a per-caller rule would either defeat that cache or let
one caller's answer serve another (stack-notes §1.3). It is a schema extension instead, run after
validation and before execution (and before access control), with its own per-document cache of whether
the operation that would run asks for ``__schema`` or ``__type``. ``__typename`` is always allowed: clients
such as Apollo add it to every selection.

Validation messages suggest names ("Did you mean 'integrations'?"), which would let a caller who may not
introspect map the schema by guessing; the view drops those suggestions for such callers
(``without_suggestions``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from auth.enforcement import UnknownOperation, select_operation
from auth.principal import Principal, PrincipalKind
from errors import ErrorCode, graphql_error
from settings import Introspection

#: The meta-fields that read the schema; both exist on the query root only.
SCHEMA_FIELDS = frozenset({"__schema", "__type"})

MESSAGES = {
    Introspection.OFF: "GraphQL introspection is disabled on this server.",
    Introspection.AUTHENTICATED: "GraphQL introspection requires credentials: send an Authorization header.",
    Introspection.ADMINS: "GraphQL introspection is available to admins only: send an admin token.",
}


def allowed(setting: Introspection, principal: Principal) -> bool:
    """Whether ``principal`` may read the schema under ``setting``."""
    if setting is Introspection.ALL:
        return True
    if setting is Introspection.AUTHENTICATED:
        return not principal.is_guest
    if setting is Introspection.ADMINS:
        return principal.kind is PrincipalKind.ADMIN
    return False


#: graphql-core's suggestion sentence (``pyutils.did_you_mean``), always at the end of a message.
_SUGGESTION = re.compile(r" Did you mean .+\?$")


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """``error`` without the names graphql-core suggests in its message (the same error when there are none)."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=error.extensions,
    )


def _asks_for_schema(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> bool:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in SCHEMA_FIELDS:
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _asks_for_schema(selection.selection_set, fragments, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if name not in seen and fragment is not None:
                seen.add(name)
                if _asks_for_schema(fragment.selection_set, fragments, seen):
                    return True
    return False


def asks_for_schema(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation that would run selects ``__schema`` or ``__type`` at its root (fragments
    included); validation has already refused them anywhere else."""
    try:
        operation = select_operation(document, operation_name)
    except UnknownOperation:
        return False
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _asks_for_schema(operation.selection_set, fragments, set())


class _DocumentCache:
    """A bounded cache of ``asks_for_schema`` by query text and operation name (as access control's)."""

    def __init__(self, size: int = 512) -> None:
        self._answers: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
        self._size = size

    def asks_for_schema(self, query: str, document: DocumentNode, operation_name: str | None) -> bool:
        key = (query, operation_name)
        answer = self._answers.get(key)
        if answer is None:
            answer = asks_for_schema(document, operation_name)
            self._answers[key] = answer
            if len(self._answers) > self._size:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(key)
        return answer


def introspection_policy(setting: Introspection) -> Callable[[], SchemaExtension] | None:
    """The extension factory enforcing ``setting`` (None when everyone may introspect: nothing to run)."""
    if setting is Introspection.ALL:
        return None
    cache = _DocumentCache()
    message = MESSAGES[setting]

    class IntrospectionPolicy(SchemaExtension):
        """Refuses ``__schema``/``__type`` to callers the setting does not allow, before anything runs."""

        def on_execute(self) -> Iterator[None]:
            execution = self.execution_context
            document, query = execution.graphql_document, execution.query
            principal = getattr(execution.context, "principal", None)
            if (
                document is not None
                and query is not None
                and not (principal is not None and allowed(setting, principal))
                and cache.asks_for_schema(query, document, execution.operation_name)
            ):
                raise graphql_error(message, ErrorCode.INTROSPECTION_DISABLED)
            yield

    return IntrospectionPolicy
