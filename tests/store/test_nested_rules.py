"""Rules follow the data into nested fields: every guarded field below a root, generated from the schema.

For each nested field that declares a rule, a query reaching it from a root is built from the schema
itself; an integration holding what the path needs but not the field's own resources gets the rest of
the data with ``null`` and ``FORBIDDEN`` at that field (never a partial leak), one holding both gets
the data, and ``requiredResources`` names the nested resources too.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_object_type,
)

from auth.rules import Rule
from schema import build_schema
from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.integrations import create
from tests.support.principals import IntegrationCaller, set_guest_access


@dataclasses.dataclass(frozen=True)
class NestedEdge:
    coordinate: str
    rule: Rule
    #: Field names from the root down to (and including) the guarded field.
    path: tuple[str, ...]
    #: Resources the rules above the guarded field require.
    above: frozenset[str]
    #: Every rule along the path (the guarded field's included) admits guests.
    guest_path: bool
    #: The guarded field returns a scalar (selected without a sub-selection).
    leaf: bool
    #: Some rule above the guarded field is already admin-only (no integration reaches the field at all).
    admin_above: bool = False

    def query(self) -> str:
        selection = self.path[-1] if self.leaf else f"{self.path[-1]} {{ __typename }}"
        for name in reversed(self.path[:-1]):
            selection = f"{name} {{ {selection} }}"
        return "{ " + selection + " }"


def _needs_arguments(field: GraphQLField) -> bool:
    return any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined for a in field.args.values())


def _edges_from_schema(schema: GraphQLSchema, rules: dict[str, Rule]) -> Iterator[NestedEdge]:
    """The shortest query path to each nested guarded field, from roots that need no arguments."""
    query = schema.query_type
    assert query is not None
    nested = {c: r for c, r in rules.items() if not c.startswith((f"{query.name}.", "Mutation."))}
    queue: deque[tuple[GraphQLObjectType, tuple[str, ...], frozenset[str], bool, bool]] = deque()
    for name, field in query.fields.items():
        rule = rules[f"{query.name}.{name}"]
        target = get_named_type(field.type)
        if _needs_arguments(field):
            continue
        if is_object_type(target):
            queue.append((target, (name,), frozenset(rule.resources), rule.guest, rule.admin_only))  # type: ignore[arg-type]
    found: dict[str, NestedEdge] = {}
    visited: set[str] = set()
    while queue:
        type_, path, required, guest, admin_above = queue.popleft()
        if type_.name in visited:
            continue
        visited.add(type_.name)
        for name, field in type_.fields.items():
            coordinate = f"{type_.name}.{name}"
            rule = rules.get(coordinate)
            if coordinate in nested and coordinate not in found:
                assert rule is not None
                leaf = not is_object_type(get_named_type(field.type)) and not is_abstract_type(
                    get_named_type(field.type)
                )
                found[coordinate] = NestedEdge(
                    coordinate, rule, (*path, name), required, guest and rule.guest, leaf, admin_above
                )
            target = get_named_type(field.type)
            if is_object_type(target) and not _needs_arguments(field):
                more = frozenset(rule.resources) if rule is not None else frozenset()
                admin = admin_above or (rule is not None and rule.admin_only)
                queue.append((target, (*path, name), required | more, guest and (rule is None or rule.guest), admin))  # type: ignore[arg-type]
    yield from found.values()
    unreached = set(nested) - set(found)
    assert unreached <= MUTATION_ONLY, f"nested rules with no query path: {unreached - MUTATION_ONLY}"


#: Nested rules reachable only through a mutation's payload (tested on their own: below, and the unlocked
#: user in tests/test_admin_users.py).
MUTATION_ONLY = {"CmsPagePayload.cmsPage", "AdminUserPayload.user"}

SCHEMA = build_schema(Settings())
EDGES = list(_edges_from_schema(SCHEMA._schema, SCHEMA.access_policy.table.rules))  # type: ignore[union-attr]


def test_the_schema_has_the_cross_resource_edges_we_know_of() -> None:
    assert {e.coordinate for e in EDGES} >= {
        "Product.categories",
        "Order.customer",
        "Integration.credentials",
        "Config.webApiSecurity",
        "Config.oauth",
    }


def values_at(data: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at ``path`` in the response, walking through lists."""
    if isinstance(data, list):
        return [v for item in data for v in values_at(item, path)]
    if not path:
        return [data]
    if data is None:
        return []
    return values_at(data[path[0]], path[1:])


def error_field(error: dict[str, Any]) -> tuple[str, ...]:
    return tuple(p for p in error["path"] if isinstance(p, str))


@pytest.fixture
async def store(admin: GraphQLClient, demo: None) -> None:
    """The demo store plus one integration (so the integrations list has a node)."""
    await create(admin, name="Probe", resourceAccess="ALL")


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize("edge", EDGES, ids=[e.coordinate for e in EDGES])
async def test_nested_rule_is_enforced_where_the_data_is(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller, edge: NestedEdge
) -> None:
    query = edge.query()
    parent_path = edge.path[:-1]
    if edge.admin_above:
        # No integration reaches the parent at all (its root is admin-only); an admin reads the field.
        refused = await integration("Magento_Backend::all").query(query)
        assert refused["data"] == {edge.path[0]: None}, refused
        allowed = await admin.query(query)
        assert "errors" not in allowed and any(v is not None for v in values_at(allowed["data"], edge.path)), allowed
        return
    if edge.rule.admin_only:
        holder, full = integration("Magento_Backend::all"), admin
    else:
        holder, full = integration(*edge.above), integration(*edge.above, *edge.rule.resources)

    denied = await holder.query(query)
    assert values_at(denied["data"], parent_path), f"no data reached {edge.coordinate}: {denied}"
    assert all(v is None for v in values_at(denied["data"], edge.path)), denied
    errors = [e for e in denied["errors"] if error_field(e) == edge.path]
    assert errors and len(errors) == len(denied["errors"]), denied
    assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
    assert errors[0]["extensions"]["requiredResources"] == list(edge.rule.resources)

    allowed = await full.query(query)
    assert "errors" not in allowed, allowed
    assert any(v is not None for v in values_at(allowed["data"], edge.path)), allowed

    required = await guest.query("query($q: String!) { requiredResources(query: $q) }", {"q": query})
    assert set(edge.rule.resources) <= set(required["data"]["requiredResources"])


@pytest.mark.usefixtures("store")
async def test_guest_reads_nested_guest_fields_only_while_guest_access_is_on(
    guest: GraphQLClient, admin: GraphQLClient
) -> None:
    guest_edges = [e for e in EDGES if e.guest_path]
    assert [e.coordinate for e in guest_edges] == ["Product.categories"]
    for edge in guest_edges:
        body = await guest.query(edge.query())
        assert body["data"] == {edge.path[0]: None}
        assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}
        await set_guest_access(admin, True)
        body = await guest.query(edge.query())
        assert "errors" not in body and any(values_at(body["data"], edge.path)), body
        await set_guest_access(admin, False)


@pytest.mark.usefixtures("store")
async def test_products_do_not_reveal_categories_to_a_products_only_integration(
    integration: IntegrationCaller,
) -> None:
    """The report that started this: 23 categories read through products while the root said FORBIDDEN."""
    query = "{ products(first: 50) { edges { node { sku categories { name isActive children { name } } } } } }"
    body = await integration("Magento_Catalog::products").query(query)
    nodes = [edge["node"] for edge in body["data"]["products"]["edges"]]
    assert nodes and all(node["categories"] is None for node in nodes)
    assert "name" not in str([node["categories"] for node in nodes])


@pytest.mark.usefixtures("store")
async def test_saved_page_is_returned_only_to_callers_that_may_read_pages(
    admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    mutation = 'mutation { createCmsPage(input: {identifier: "probe", title: "Probe"}) { cmsPage { title } } }'
    save_only = integration("Magento_Cms::save")
    refused = await save_only.query(mutation)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["missingResources"] == ["Magento_Cms::page"]
    pages = await admin.query('{ cmsPage(identifier: "probe") { title } }')
    assert pages["data"]["cmsPage"] is None  # refused before anything ran
    blind = 'mutation { createCmsPage(input: {identifier: "probe", title: "Probe"}) { userErrors { code } } }'
    assert (await save_only.query(blind))["data"]["createCmsPage"]["userErrors"] == []
    full = await integration("Magento_Cms::page").query(mutation.replace("probe", "probe-2"))
    assert full["data"]["createCmsPage"]["cmsPage"] == {"title": "Probe"}


REQUIRED = "query($q: String!, $o: String) { requiredResources(query: $q, operationName: $o) }"
REQUIRED_ACCESS = (
    "query($q: String!, $o: String) { requiredAccess(query: $q, operationName: $o) "
    "{ resources adminOnly guestAccessible fields { coordinate resources access } } }"
)


async def test_required_access_names_admin_only_fields(guest: GraphQLClient) -> None:
    document = "{ integrations { edges { node { name credentials { consumerKey } } } } }"
    body = await guest.query(REQUIRED_ACCESS, {"q": document})
    answer = body["data"]["requiredAccess"]
    assert answer["resources"] == ["Magento_Integration::integrations"]
    assert answer["adminOnly"] is True and answer["guestAccessible"] is False
    assert {f["coordinate"]: f["access"] for f in answer["fields"]} == {
        "Query.integrations": "ADMINS",
        "Integration.credentials": "ADMINS",
    }
    catalog = await guest.query(REQUIRED_ACCESS, {"q": "{ products { edges { node { sku categories { name } } } } }"})
    assert catalog["data"]["requiredAccess"] == {
        "resources": ["Magento_Catalog::categories", "Magento_Catalog::products"],
        "adminOnly": False,
        "guestAccessible": True,
        "fields": [
            {"coordinate": "Query.products", "resources": ["Magento_Catalog::products"], "access": "GUESTS"},
            {"coordinate": "Product.categories", "resources": ["Magento_Catalog::categories"], "access": "GUESTS"},
        ],
    }


@pytest.mark.parametrize(
    ("document", "operation", "message"),
    [
        (
            "query A { products { pageInfo { hasNextPage } } } query B { orders { pageInfo { hasNextPage } } }",
            None,
            "Must provide operation name if query contains multiple operations.",
        ),
        ("query A { products { pageInfo { hasNextPage } } }", "B", "Unknown operation named 'B'."),
        ("fragment F on Query { viewer { kind } }", None, "The query is not valid"),
        (
            "{ products { nope } }",
            None,
            "The query is not valid: Cannot query field 'nope' on type 'ProductConnection'.",
        ),
    ],
)
async def test_required_resources_answers_only_an_operation_that_would_run(
    guest: GraphQLClient, document: str, operation: str | None, message: str
) -> None:
    for query in (REQUIRED, REQUIRED_ACCESS):
        body = await guest.query(query, {"q": document, "o": operation})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["message"].startswith(message), body
    chosen = await guest.query(REQUIRED, {"q": document.split(" query B")[0], "o": None})
    if "query A" in document and operation is None:
        assert chosen["data"]["requiredResources"] == ["Magento_Catalog::products"]
