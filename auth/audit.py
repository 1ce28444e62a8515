"""The start-up audit: is every way into the schema's data guarded by the rule of that data?

Run once when a schema is built; any problem stops the server from starting, naming the fields:

- every root field declares a rule, and every rule names ids of the ACL tree;
- a guarded query field can be null (a denial nulls the field, never its parent);
- no field prints a rule directive without declaring the rule that enforces it;
- **rules follow the data**: a type returned by a root query field is that root's data (``Category`` is
  the data of ``Magento_Catalog::categories``). Walking every type reachable from every root, a field
  that leads to such a type must be on a path whose rules require the resources of at least one root
  that returns it (``Product.categories`` must require ``Magento_Catalog::categories``), and a nested
  field may be open to guests only where a root returning its data is.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Iterator, Mapping

from graphql import (
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    get_named_type,
)

from auth import acl
from auth.rules import Rule


@dataclasses.dataclass(frozen=True, slots=True)
class Owner:
    """A root query field that returns a type: reading that type is what its rule allows."""

    coordinate: str
    resources: frozenset[str]
    guest: bool


def problems(schema: GraphQLSchema, rules: Mapping[str, Rule], undeclared: Iterable[str]) -> list[str]:
    """Everything wrong with the schema's rules (empty when it may be served)."""
    return [
        *_unguarded_roots(schema, rules),
        *_non_null_guarded(schema, rules),
        *(f"{c} prints an access directive but declares no rule to enforce it" for c in undeclared),
        *_unknown_resources(rules),
        *_unfollowed_data(schema, rules),
    ]


def _roots(schema: GraphQLSchema) -> Iterator[GraphQLObjectType]:
    yield from (r for r in (schema.query_type, schema.mutation_type, schema.subscription_type) if r is not None)


def _unguarded_roots(schema: GraphQLSchema, rules: Mapping[str, Rule]) -> Iterator[str]:
    for root in _roots(schema):
        unguarded = [name for name in root.fields if f"{root.name}.{name}" not in rules]
        yield from (f"{root.name}.{name} has no access rule" for name in unguarded)


def _non_null_guarded(schema: GraphQLSchema, rules: Mapping[str, Rule]) -> Iterator[str]:
    mutation = schema.mutation_type
    for coordinate, rule in rules.items():
        type_name, field_name = coordinate.split(".", 1)
        if rule.public or (mutation is not None and type_name == mutation.name):
            continue
        type_ = schema.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType)
        if isinstance(type_.fields[field_name].type, GraphQLNonNull):
            yield f"{coordinate} is guarded but non-null, so a denial would null its parent"


def _unknown_resources(rules: Mapping[str, Rule]) -> Iterator[str]:
    for coordinate, rule in rules.items():
        for resource in rule.resources:
            if resource not in acl.TREE and resource != acl.ALL:
                yield f"{coordinate} requires {resource!r}, which is not in the ACL resource tree"


def _object_types(type_: GraphQLType, schema: GraphQLSchema) -> list[GraphQLObjectType]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return list(schema.get_possible_types(named))
    return [named] if isinstance(named, GraphQLObjectType) else []


def _data_types(type_: GraphQLType, schema: GraphQLSchema) -> list[GraphQLObjectType]:
    """What a root field returns as data: the type itself, and the node type of a Relay connection."""
    found = _object_types(type_, schema)
    for connection in list(found):
        edges = connection.fields.get("edges")
        for edge in _object_types(edges.type, schema) if edges is not None else ():
            node = edge.fields.get("node")
            found += _object_types(node.type, schema) if node is not None else []
    return found


def owners(schema: GraphQLSchema, rules: Mapping[str, Rule]) -> dict[str, list[Owner]]:
    """Type name -> the guarded root query fields that return it."""
    owned: dict[str, list[Owner]] = {}
    if schema.query_type is None:
        return owned
    for name, field in schema.query_type.fields.items():
        rule = rules.get(f"{schema.query_type.name}.{name}")
        if rule is None or rule.public:
            continue
        owner = Owner(rule.coordinate, frozenset(rule.resources), rule.guest)
        for type_ in _data_types(field.type, schema):
            owned.setdefault(type_.name, []).append(owner)
    return owned


def _unfollowed_data(schema: GraphQLSchema, rules: Mapping[str, Rule]) -> Iterator[str]:
    """Walk every type reachable from every root, carrying the resources the path so far requires."""
    owned = owners(schema, rules)
    reported: set[str] = set()
    queue: deque[tuple[GraphQLObjectType, frozenset[str]]] = deque()
    seen: set[tuple[str, frozenset[str]]] = set()
    for root in _roots(schema):
        for name, field in root.fields.items():
            rule = rules.get(f"{root.name}.{name}")
            required = frozenset(rule.resources) if rule is not None else frozenset()
            queue.extend((type_, required) for type_ in _object_types(field.type, schema))
    while queue:
        type_, required = queue.popleft()
        if (type_.name, required) in seen:
            continue
        seen.add((type_.name, required))
        for name, field in type_.fields.items():
            coordinate = f"{type_.name}.{name}"
            rule = rules.get(coordinate)
            path_requires = required | frozenset(rule.resources if rule is not None else ())
            for target in _object_types(field.type, schema):
                problem = _check_edge(coordinate, rule, target.name, path_requires, owned.get(target.name, []))
                if problem is not None and coordinate not in reported:
                    reported.add(coordinate)
                    yield problem
                queue.append((target, path_requires))


def _check_edge(
    coordinate: str, rule: Rule | None, target: str, path_requires: frozenset[str], owners: list[Owner]
) -> str | None:
    if not owners or acl.ALL in path_requires:
        return None
    if not any(owner.resources <= path_requires for owner in owners):
        needed = " or ".join(sorted({", ".join(sorted(o.resources)) for o in owners}))
        return f"{coordinate} leads to {target}, the data of {needed}, on a path that does not require it"
    if rule is not None and rule.guest and not any(owner.guest for owner in owners):
        return f"{coordinate} is open to guests but {target} is not open to guests at its roots"
    return None
