"""Enforce the access rules declared on the schema's fields, before any resolver runs.

One rule table is read from the fields' own rule declarations (``auth.rules.AccessRule``) when the
schema is built, and audited, and each declaring field's resolver gets its guard. For each document the
guarded fields it selects (fragments included) are found once and cached. Before execution the caller's
principal is compared with those rules: a denied mutation field fails the whole operation with no side
effect; a denied query field is recorded so that its guard raises the error at the field's path (the field
is ``null``) instead of running the resolver. ``required_resources`` answers the pre-flight query from the
same analysis, and an integration's call is counted from it (``auth.activity``).
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLFieldResolver,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    default_field_resolver,
    is_abstract_type,
)
from starlette.requests import HTTPConnection
from strawberry.types import ExecutionContext

from auth import audit
from auth.activity import ActivityCounter
from auth.cost import FREE, DocumentWalk, QueryCost
from auth.principal import Principal, PrincipalKind
from auth.rules import RULE_DIRECTIVES, AccessRule, Denial, Rule, decide, needs_guest_switch
from errors import Refusal
from observability import events


class UnguardedFieldError(RuntimeError):
    """The schema's access rules are incomplete or wrong: the server refuses to start."""


def _declared_rule(field: GraphQLField) -> AccessRule | None:
    definition = field.extensions.get("strawberry-definition") if field.extensions else None
    extensions = getattr(definition, "extensions", ())
    return next((e for e in extensions if isinstance(e, AccessRule)), None)


def _has_rule_directive(field: GraphQLField) -> bool:
    definition = field.extensions.get("strawberry-definition") if field.extensions else None
    return any(isinstance(d, RULE_DIRECTIVES) for d in getattr(definition, "directives", ()))


def _refuse(denied: dict[str, Denial], info: GraphQLResolveInfo[Any]) -> None:
    denial = denied.get(f"{info.parent_type.name}.{info.field_name}")
    if denial is not None:
        raise denial.error()


def _guarded(resolve: GraphQLFieldResolver) -> GraphQLFieldResolver:
    """``resolve`` behind its access guard: the denial recorded for this operation (by ``AccessControl``) is
    raised at the field's path instead of running the resolver.

    A plain function on the GraphQL field rather than a Strawberry field extension: an allowed field pays
    one call and one attribute test, and the resolver's result (an awaitable, for an async resolver) goes
    back to graphql-core as it is.
    """

    def guarded(source: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        denied = info.context.denied
        if denied is not None:
            _refuse(denied, info)
        return resolve(source, info, **kwargs)

    _GUARDS.add(guarded)
    return guarded


#: Every guarded resolver made, so that a schema can be checked for guards (the benchmark's baseline has none).
_GUARDS: weakref.WeakSet[GraphQLFieldResolver] = weakref.WeakSet()


def is_guarded(resolve: object) -> bool:
    """Whether ``resolve`` is a field resolver behind an access guard."""
    return resolve in _GUARDS


def guard_fields(fields: Iterable[GraphQLField]) -> None:
    """Put the access guard on each of ``fields``' resolvers, once each."""
    for field in {id(field): field for field in fields}.values():
        if not is_guarded(field.resolve):
            field.resolve = _guarded(field.resolve or default_field_resolver)


class RuleTable:
    """``"Type.field" -> Rule`` for every field that declares an access rule."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.rules: dict[str, Rule] = {}
        #: The GraphQL fields that declare a rule: the ones that get a guard.
        self.declaring: list[GraphQLField] = []
        #: Fields that print a rule directive without declaring the rule that enforces it.
        self.undeclared: list[str] = []
        for type_ in self._object_types():
            for field_name, field in type_.fields.items():
                coordinate = f"{type_.name}.{field_name}"
                declared = _declared_rule(field)
                if declared is not None:
                    self.rules[coordinate] = declared.rule(coordinate)
                    self.declaring.append(field)
                elif _has_rule_directive(field):
                    self.undeclared.append(coordinate)

    def _object_types(self) -> Iterable[GraphQLObjectType]:
        for type_ in self.schema.type_map.values():
            if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
                yield type_

    def audit(self) -> None:
        """Refuse to serve a schema whose rules are incomplete, unenforced, unknown or not following the data."""
        found = audit.problems(self.schema, self.rules, self.undeclared)
        if found:
            raise UnguardedFieldError("; ".join(found))

    def resources_of(self, coordinates: Iterable[str]) -> list[str]:
        seen: dict[str, None] = {}
        for coordinate in coordinates:
            rule = self.rules[coordinate]
            if not rule.public:
                seen.update(dict.fromkeys(rule.resources))
        return list(seen)


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentAccess:
    """What one operation of a document selects that is guarded, and what it costs."""

    operation: OperationType | None
    #: Guarded field coordinates, in document order.
    coordinates: tuple[str, ...]
    #: For mutations: response key of each root field with its coordinate, for error paths.
    root_fields: tuple[tuple[str, str], ...]
    #: The operation's calculated cost (``auth.cost``), evaluated per request with its variables.
    cost: QueryCost = FREE
    #: Every resource the guarded fields require (public ones aside): what an integration's call uses.
    resources: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Decisions:
    """One caller's denials for one set of guarded fields, with guest access off and on."""

    depends_on_guest_access: bool
    without_guest_access: dict[str, Denial]
    with_guest_access: dict[str, Denial]


class UnknownOperation(Refusal):
    """No operation of the document would run under the given name."""


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation that would run, as graphql-core chooses it (and with its messages when none would)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        raise UnknownOperation(
            "Must provide operation name if query contains multiple operations."
            if operations
            else "Must provide an operation."
        )
    found = next((o for o in operations if o.name and o.name.value == operation_name), None)
    if found is None:
        raise UnknownOperation(f"Unknown operation named '{operation_name}'.")
    return found


def analyse_document(
    table: RuleTable, document: DocumentNode, operation_name: str | None, max_page_size: int = 100
) -> DocumentAccess:
    """The guarded fields the chosen operation selects (fragments included) and its cost, in one walk
    (nothing when no operation would run)."""
    try:
        operation = select_operation(document, operation_name)
    except UnknownOperation:
        return DocumentAccess(None, (), ())
    schema = table.schema
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: dict[str, None] = {}

    def on_field(parent: GraphQLCompositeType, name: str) -> None:
        concrete = schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
        for type_ in concrete:
            coordinate = f"{type_.name}.{name}"
            if coordinate in table.rules:
                found[coordinate] = None

    root = schema.get_root_type(operation.operation)
    cost = FREE
    if root is not None:
        cost = DocumentWalk(schema, fragments, operation, on_field, max_page_size).operation_cost(operation, root)
    root_fields: list[tuple[str, str]] = []
    if operation.operation is OperationType.MUTATION and schema.mutation_type is not None:
        root_name = schema.mutation_type.name
        for selection in operation.selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                root_fields.append((key, f"{root_name}.{selection.name.value}"))
    return DocumentAccess(operation.operation, tuple(found), tuple(root_fields), cost, tuple(table.resources_of(found)))


class AccessContext(Protocol):
    """What the enforcement needs from the request context."""

    principal: Principal
    denied: dict[str, Denial] | None
    #: Counts integrations' calls per resource (``auth.activity``); None when nothing is counted.
    activity: ActivityCounter | None

    @property
    def request(self) -> HTTPConnection:
        """The request (read-only here: any ``HTTPConnection`` will do)."""
        ...

    async def guest_access_allowed(self) -> bool: ...


class AccessPolicy:
    """The schema's rule table plus bounded caches of analyses (per document) and of decisions (per document
    and caller's resources); building it audits the rules and guards the declaring fields' resolvers."""

    def __init__(
        self, schema: GraphQLSchema, cache_size: int = 512, max_page_size: int = 100, decisions_size: int = 4096
    ) -> None:
        self.table = RuleTable(schema)
        self.max_page_size = max_page_size
        self.table.audit()
        guard_fields(self.table.declaring)
        self._cache: OrderedDict[tuple[str, str | None], DocumentAccess] = OrderedDict()
        self._cache_size = cache_size
        self._decisions: dict[tuple[tuple[str, ...], PrincipalKind, frozenset[str]], Decisions] = {}
        self._decisions_size = decisions_size

    def analyse(self, query: str, document: DocumentNode, operation_name: str | None) -> DocumentAccess:
        key = (query, operation_name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        access = analyse_document(self.table, document, operation_name, self.max_page_size)
        self._cache[key] = access
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return access

    async def denials(self, access: DocumentAccess, context: AccessContext) -> dict[str, Denial]:
        """The guarded fields ``access`` selects that the caller may not use (read-only: the dict is shared).

        Decided once per (fields, kind of caller, resources held) and kept, since the same few callers send the
        same few documents; Allow Anonymous Guest Access is read only when some decision depends on it.
        """
        principal = context.principal
        key = (access.coordinates, principal.kind, principal.resources)
        decided = self._decisions.get(key)
        if decided is None:
            decided = self._decide([self.table.rules[c] for c in access.coordinates], principal)
            if len(self._decisions) >= self._decisions_size:
                self._decisions.clear()
            self._decisions[key] = decided
        if decided.depends_on_guest_access and await context.guest_access_allowed():
            return decided.with_guest_access
        return decided.without_guest_access

    @staticmethod
    def _decide(rules: list[Rule], principal: Principal) -> Decisions:
        def denied(guest_allowed: bool) -> dict[str, Denial]:
            found = ((rule.coordinate, decide(rule, principal, guest_allowed)) for rule in rules)
            return {coordinate: denial for coordinate, denial in found if denial is not None}

        depends = any(needs_guest_switch(rule, principal) for rule in rules)
        without = denied(False)
        return Decisions(depends, without, denied(True) if depends else without)

    def requirements(self, document: DocumentNode, operation_name: str | None) -> Requirements:
        """What the operation that would run needs, from the same analysis that enforces it.

        Raises ``UnknownOperation`` when no operation would run (as execution would refuse it).
        """
        select_operation(document, operation_name)
        access = analyse_document(self.table, document, operation_name, self.max_page_size)
        rules = tuple(self.table.rules[c] for c in access.coordinates)
        guarded = [r for r in rules if not r.public]
        return Requirements(
            resources=tuple(sorted(self.table.resources_of(access.coordinates))),
            admin_only=any(r.admin_only for r in rules),
            guest_accessible=all(r.guest for r in guarded),
            rules=rules,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Requirements:
    """The answer of the pre-flight queries ``requiredResources`` and ``requiredAccess``."""

    #: Every resource a selected field requires (nested fields included).
    resources: tuple[str, ...]
    #: Some selected field is for admins only, whatever an integration holds.
    admin_only: bool
    #: A guest could run it while Allow Anonymous Guest Access is on.
    guest_accessible: bool
    #: The rule of each guarded field selected, in document order.
    rules: tuple[Rule, ...]


def policy_of(schema: object) -> AccessPolicy:
    """The access policy of a schema built with access control (``schema.Schema``)."""
    policy = getattr(schema, "access_policy", None)
    if not isinstance(policy, AccessPolicy):
        raise TypeError("this schema was built without access control")
    return policy


async def authorise(execution: ExecutionContext) -> DocumentAccess | None:
    """Authorise the whole operation after validation and before execution (``auth.control`` calls it).

    The policy is the schema's own (``schema.Schema.access_policy``), built from the same declarations as the
    field guards. A denied mutation gets its result (the errors) here and never runs; denied query fields are
    recorded in ``context.denied`` for their guards. Returns the document's analysis (None without a document).
    """
    document = execution.graphql_document
    context: AccessContext = execution.context
    if document is None or execution.query is None:
        return None
    policy = policy_of(execution.schema)
    access = policy.analyse(execution.query, document, execution.operation_name)
    denied = await policy.denials(access, context) if access.coordinates else {}
    if denied:
        _log_denial(context.principal, execution.operation_name, denied)
    if denied and access.operation is OperationType.MUTATION:
        errors = [
            denied[coordinate].error(path=[key]) for key, coordinate in access.root_fields if coordinate in denied
        ] or [next(iter(denied.values())).error()]
        execution.result = ExecutionResult(data=None, errors=errors)
    context.denied = denied or None
    activity = context.activity
    if activity is not None and context.principal.integration_id is not None:
        activity.record(context.principal.integration_id, access.resources, denied, context.request.scope)
    return access


def _log_denial(principal: Principal, operation: str | None, denied: dict[str, Denial]) -> None:
    """One security event per refused operation: who, which operation, which resources it lacked."""
    events.access_denied(
        principal.kind.value.lower(),
        principal.admin_id if principal.admin_id is not None else principal.integration_id,
        operation,
        missing=[resource for denial in denied.values() for resource in denial.missing],
        fields=list(denied),
    )
