"""Enforce the access directives declared on the schema, before any resolver runs.

One rule table is read from the schema's directives at start-up. For each document the guarded fields
it selects (fragments included) are found once and cached. Before execution the caller's principal is
compared with those rules: a denied mutation field fails the whole operation with no side effect; a
denied query field is recorded so that its guard returns ``null`` with the error instead of running.
``required_resources`` answers the pre-flight query from the same analysis.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Protocol

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    ValidationContext,
    Visitor,
    is_abstract_type,
    visit,
)
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from auth.principal import Principal, PrincipalKind
from schema.directives import AdminOnly, GuestAccess, Public, RequiresResource

FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"


class UnguardedFieldError(RuntimeError):
    """A root field has no access rule: the server refuses to start."""


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    coordinate: str
    resources: tuple[str, ...] = ()
    guest: bool = False
    public: bool = False
    admin_only: bool = False

    @classmethod
    def from_directives(cls, coordinate: str, directives: Iterable[object]) -> Rule | None:
        directives = list(directives)
        resources = tuple(d.id for d in directives if isinstance(d, RequiresResource))
        guest = any(isinstance(d, GuestAccess) for d in directives)
        public = any(isinstance(d, Public) for d in directives)
        admin_only = any(isinstance(d, AdminOnly) for d in directives)
        if not (resources or guest or public or admin_only):
            return None
        return cls(coordinate, resources, guest, public, admin_only)


@dataclasses.dataclass(frozen=True, slots=True)
class Denial:
    coordinate: str
    code: str
    required: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        if self.code == FORBIDDEN and not self.missing:
            return "Only an admin may use this field."
        if not self.required:
            return "The current user isn't authorized to use this field."
        return f"The consumer isn't authorized to access {', '.join(self.missing or self.required)}."

    def error(self, path: list[str | int] | None = None) -> GraphQLError:
        return GraphQLError(
            self.message,
            path=path,
            extensions={
                "code": self.code,
                "requiredResources": list(self.required),
                "missingResources": list(self.missing),
            },
        )


def decide(rule: Rule, principal: Principal, guest_access_allowed: bool) -> Denial | None:
    """The one access decision: None when allowed, else why not."""
    if rule.public:
        return None
    if principal.is_guest:
        if rule.guest and guest_access_allowed and not rule.admin_only:
            return None
        return Denial(rule.coordinate, UNAUTHENTICATED, rule.resources, rule.resources)
    if rule.admin_only and principal.kind is not PrincipalKind.ADMIN:
        return Denial(rule.coordinate, FORBIDDEN, rule.resources, ())
    missing = tuple(principal.missing(rule.resources))
    if missing:
        return Denial(rule.coordinate, FORBIDDEN, rule.resources, missing)
    return None


class RuleTable:
    """``"Type.field" -> Rule`` for every field that carries an access directive."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.rules: dict[str, Rule] = {}
        for type_ in schema.type_map.values():
            if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
                continue
            for field_name, field in type_.fields.items():
                definition = field.extensions.get("strawberry-definition")
                if definition is None:
                    continue
                coordinate = f"{type_.name}.{field_name}"
                rule = Rule.from_directives(coordinate, definition.directives)
                if rule is not None:
                    self.rules[coordinate] = rule

    def audit(self) -> None:
        """Refuse a schema with an unguarded root field, or a guarded query field that cannot be null."""
        problems: list[str] = []
        for root in (self.schema.query_type, self.schema.mutation_type, self.schema.subscription_type):
            if root is None:
                continue
            problems += [
                f"{root.name}.{name} has no access rule"
                for name in root.fields
                if f"{root.name}.{name}" not in self.rules
            ]
        mutation = self.schema.mutation_type
        for coordinate in self.rules:
            type_name, field_name = coordinate.split(".", 1)
            if mutation is not None and type_name == mutation.name:
                continue
            field = self.schema.type_map[type_name].fields[field_name]  # type: ignore[union-attr]
            if isinstance(field.type, GraphQLNonNull) and not self.rules[coordinate].public:
                problems.append(f"{coordinate} is guarded but non-null, so a denial would null its parent")
        if problems:
            raise UnguardedFieldError("; ".join(problems))

    def resources_of(self, coordinates: Iterable[str]) -> list[str]:
        seen: dict[str, None] = {}
        for coordinate in coordinates:
            rule = self.rules[coordinate]
            if not rule.public:
                seen.update(dict.fromkeys(rule.resources))
        return list(seen)


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentAccess:
    """What one operation of a document selects that is guarded."""

    operation: OperationType | None
    #: Guarded field coordinates, in document order.
    coordinates: tuple[str, ...]
    #: For mutations: response key of each root field with its coordinate, for error paths.
    root_fields: tuple[tuple[str, str], ...]


class _GuardedFieldCollector(Visitor):
    def __init__(self, type_info: TypeInfo, table: RuleTable) -> None:
        super().__init__()
        self.type_info = type_info
        self.table = table
        self.found: dict[str, None] = {}

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return
        name = node.name.value
        concrete = self.table.schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
        for type_ in concrete:
            coordinate = f"{type_.name}.{name}"
            if coordinate in self.table.rules:
                self.found[coordinate] = None


def _select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


def analyse_document(table: RuleTable, document: DocumentNode, operation_name: str | None) -> DocumentAccess:
    operation = _select_operation(document, operation_name)
    if operation is None:
        return DocumentAccess(None, (), ())
    schema = table.schema
    context = ValidationContext(schema, document, TypeInfo(schema), lambda _error: None)
    fragments: list[FragmentDefinitionNode] = context.get_recursively_referenced_fragments(operation)
    found: dict[str, None] = {}
    for node in (operation, *fragments):
        type_info = TypeInfo(schema)
        collector = _GuardedFieldCollector(type_info, table)
        visit(node, TypeInfoVisitor(type_info, collector))
        found.update(collector.found)
    root_fields: list[tuple[str, str]] = []
    if operation.operation is OperationType.MUTATION and schema.mutation_type is not None:
        root = schema.mutation_type.name
        for selection in operation.selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                root_fields.append((key, f"{root}.{selection.name.value}"))
    return DocumentAccess(operation.operation, tuple(found), tuple(root_fields))


class AccessContext(Protocol):
    """What the enforcement needs from the request context."""

    principal: Principal
    denied: dict[str, Denial] | None

    async def guest_access_allowed(self) -> bool: ...


class AccessPolicy:
    """The schema's rule table plus a bounded per-document cache of analyses."""

    def __init__(self, schema: GraphQLSchema, cache_size: int = 512) -> None:
        self.table = RuleTable(schema)
        self.table.audit()
        self._cache: OrderedDict[tuple[str, str | None], DocumentAccess] = OrderedDict()
        self._cache_size = cache_size

    def analyse(self, query: str, document: DocumentNode, operation_name: str | None) -> DocumentAccess:
        key = (query, operation_name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        access = analyse_document(self.table, document, operation_name)
        self._cache[key] = access
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return access

    async def denials(self, access: DocumentAccess, context: AccessContext) -> dict[str, Denial]:
        principal = context.principal
        rules = [self.table.rules[c] for c in access.coordinates]
        guest_allowed = False
        if principal.is_guest and any(r.guest and not r.public for r in rules):
            guest_allowed = await context.guest_access_allowed()
        denied: dict[str, Denial] = {}
        for rule in rules:
            denial = decide(rule, principal, guest_allowed)
            if denial is not None:
                denied[rule.coordinate] = denial
        return denied

    def required_resources(self, document: DocumentNode, operation_name: str | None) -> list[str]:
        access = analyse_document(self.table, document, operation_name)
        return sorted(self.table.resources_of(access.coordinates))


class AccessControl(SchemaExtension):
    """Authorises the whole operation after validation and before execution."""

    def __init__(self, policy: AccessPolicy) -> None:
        self.policy = policy

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        execution = self.execution_context
        document = execution.graphql_document
        context: AccessContext = execution.context
        if document is not None and execution.query is not None:
            access = self.policy.analyse(execution.query, document, execution.operation_name)
            denied = await self.policy.denials(access, context) if access.coordinates else {}
            if denied and access.operation is OperationType.MUTATION:
                errors = [
                    denied[coordinate].error(path=[key])
                    for key, coordinate in access.root_fields
                    if coordinate in denied
                ] or [next(iter(denied.values())).error()]
                execution.result = ExecutionResult(data=None, errors=errors)
            context.denied = denied or None
        yield


class AccessGuard(FieldExtension):
    """On a guarded field: returns the recorded denial instead of running the resolver."""

    def _check(self, info: strawberry.Info) -> None:
        denied = info.context.denied
        if denied:
            raw = info._raw_info
            denial = denied.get(f"{raw.parent_type.name}.{raw.field_name}")
            if denial is not None:
                raise denial.error()

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        self._check(info)
        return await next_(source, info, **kwargs)


def install_guards(definitions: Iterable[StrawberryObjectDefinition]) -> None:
    """Attach the guard to every field that declares an access directive (before the schema is built)."""
    for definition in definitions:
        for field in definition.fields:
            if not isinstance(field, StrawberryField):
                continue
            has_rule = any(isinstance(d, RequiresResource | GuestAccess | Public | AdminOnly) for d in field.directives)
            if has_rule and not any(isinstance(e, AccessGuard) for e in field.extensions):
                field.extensions.append(AccessGuard())
