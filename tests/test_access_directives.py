"""The access directives, enforced from their declaration: a tiny schema served by the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import strawberry
from graphql import GraphQLObjectType, parse

from auth.enforcement import AccessPolicy, UnguardedFieldError
from auth.principal import Principal, integration_principal
from auth.rules import AccessRule
from schema import Schema, build_schema
from schema.access import AccessQuery
from schema.admin import AdminMutation
from schema.config import ConfigMutation, ConfigQuery
from schema.directives import RequiresResource, Resource, public, requires
from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.principals import IntegrationCaller, serving, set_guest_access

SIDE_EFFECTS: list[str] = []


@strawberry.type
class Widget:
    name: str

    @strawberry.field(extensions=[requires(Resource.CUSTOMERS)])
    def owner(self) -> str | None:
        return f"owner of {self.name}"


@strawberry.type
class TinyQuery:
    @strawberry.field(extensions=[requires(Resource.PRODUCTS, guest=True)])
    def widgets(self) -> list[Widget] | None:
        return [Widget(name="a"), Widget(name="b")]

    @strawberry.field(extensions=[requires(Resource.ORDERS_VIEW)])
    def order_count(self) -> int | None:
        return 3

    @strawberry.field(extensions=[requires(Resource.PRODUCTS, Resource.CATEGORIES)])
    def catalog_size(self) -> int | None:
        return 42

    @strawberry.field(extensions=[public()])
    def hello(self) -> str:
        return "hi"

    @strawberry.field(extensions=[requires(Resource.PRODUCTS)])
    def broken(self) -> int | None:
        raise RuntimeError("database password is hunter2")


@strawberry.type
class TinyMutation:
    @strawberry.mutation(extensions=[requires(Resource.PRODUCTS)])
    def add_widget(self) -> int:
        SIDE_EFFECTS.append("widget")
        return len(SIDE_EFFECTS)

    @strawberry.mutation(extensions=[requires(Resource.ORDERS_VIEW)])
    def create_order(self) -> int:
        SIDE_EFFECTS.append("order")
        return len(SIDE_EFFECTS)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    """The real app serving the tiny schema (the callers' fixtures then call it)."""
    SIDE_EFFECTS.clear()
    schema = build_schema(
        settings,
        query_parts=(AccessQuery, ConfigQuery, TinyQuery),
        mutation_parts=(AdminMutation, ConfigMutation, TinyMutation),
    )
    async with serving(settings, schema=schema) as application:
        yield application


async def test_guest_with_guest_access_off_is_unauthenticated(guest: GraphQLClient) -> None:
    body = await guest.query("{ hello widgets { name } orderCount }")
    assert body["data"] == {"hello": "hi", "widgets": None, "orderCount": None}
    assert guest.error_codes_by_path(body) == {"widgets": "UNAUTHENTICATED", "orderCount": "UNAUTHENTICATED"}
    error = next(e for e in body["errors"] if e["path"] == ["widgets"])
    assert error["extensions"]["requiredResources"] == ["Magento_Catalog::products"]
    assert error["message"] == "The consumer isn't authorized to access Magento_Catalog::products."


async def test_guest_with_guest_access_on_reads_guest_fields_only(guest: GraphQLClient, admin: GraphQLClient) -> None:
    await set_guest_access(admin, True)
    body = await guest.query("{ widgets { name } orderCount }")
    assert body["data"] == {"widgets": [{"name": "a"}, {"name": "b"}], "orderCount": None}
    assert guest.error_codes_by_path(body) == {"orderCount": "UNAUTHENTICATED"}
    await set_guest_access(admin, False)
    assert guest.error_codes_by_path(await guest.query("{ widgets { name } }")) == {"widgets": "UNAUTHENTICATED"}


async def test_admin_sees_everything(admin: GraphQLClient) -> None:
    body = await admin.query("{ widgets { name owner } orderCount catalogSize }")
    assert "errors" not in body
    assert body["data"]["widgets"][0] == {"name": "a", "owner": "owner of a"}
    assert body["data"]["catalogSize"] == 42


async def test_partial_data_with_one_allowed_and_one_denied_field(integration: IntegrationCaller) -> None:
    catalog = integration(Resource.PRODUCTS)
    body = await catalog.query("{ widgets { name } orderCount catalogSize }")
    assert body["data"] == {"widgets": [{"name": "a"}, {"name": "b"}], "orderCount": None, "catalogSize": None}
    assert catalog.error_codes_by_path(body) == {"orderCount": "FORBIDDEN", "catalogSize": "FORBIDDEN"}
    size = next(e for e in body["errors"] if e["path"] == ["catalogSize"])["extensions"]
    assert size["requiredResources"] == ["Magento_Catalog::products", "Magento_Catalog::categories"]
    assert size["missingResources"] == ["Magento_Catalog::categories"]


async def test_denied_nested_field_is_null_at_its_path(integration: IntegrationCaller) -> None:
    catalog = integration(Resource.PRODUCTS)
    body = await catalog.query("{ widgets { name owner } }")
    assert body["data"]["widgets"] == [{"name": "a", "owner": None}, {"name": "b", "owner": None}]
    assert catalog.error_codes_by_path(body) == {"widgets.0.owner": "FORBIDDEN", "widgets.1.owner": "FORBIDDEN"}


async def test_denied_field_behind_fragments_and_aliases_is_denied(integration: IntegrationCaller) -> None:
    catalog = integration(Resource.PRODUCTS)
    query = """
      query { ...Top  w: widgets { ... on Widget { who: owner } } }
      fragment Top on Query { count: orderCount }
    """
    body = await catalog.query(query)
    assert body["data"]["count"] is None and body["data"]["w"][0]["who"] is None
    assert catalog.error_codes_by_path(body)["count"] == "FORBIDDEN"


async def test_all_grant_integration_holds_every_resource(integration: IntegrationCaller) -> None:
    body = await integration("Magento_Backend::all").query("{ widgets { owner } orderCount }")
    assert "errors" not in body


async def test_denied_mutation_fails_whole_operation_without_side_effects(integration: IntegrationCaller) -> None:
    catalog = integration(Resource.PRODUCTS)
    body = await catalog.query("mutation { addWidget createOrder }")
    assert body["data"] is None
    assert catalog.error_codes_by_path(body) == {"createOrder": "FORBIDDEN"}
    assert SIDE_EFFECTS == []
    allowed = await catalog.query("mutation { addWidget }")
    assert allowed["data"] == {"addWidget": 1}
    assert SIDE_EFFECTS == ["widget"]


async def test_guest_mutation_is_unauthenticated(guest: GraphQLClient) -> None:
    body = await guest.query("mutation { addWidget }")
    assert body["data"] is None and guest.error_codes_by_path(body) == {"addWidget": "UNAUTHENTICATED"}
    assert SIDE_EFFECTS == []


async def test_required_resources_of_nested_document_with_fragments(guest: GraphQLClient) -> None:
    document = """
      query Shop { widgets { ...W } ...Counts }
      query Other { hello }
      fragment W on Widget { name owner }
      fragment Counts on Query { orderCount catalogSize }
    """
    body = await guest.query(
        "query($q: String!, $o: String) { requiredResources(query: $q, operationName: $o) }",
        {"q": document, "o": "Shop"},
    )
    assert body["data"]["requiredResources"] == [
        "Magento_Catalog::categories",
        "Magento_Catalog::products",
        "Magento_Customer::manage",
        "Magento_Sales::actions_view",
    ]
    other = await guest.query(
        "query($q: String!, $o: String) { requiredResources(query: $q, operationName: $o) }",
        {"q": document, "o": "Other"},
    )
    assert other["data"]["requiredResources"] == []
    bad = await guest.query('query { requiredResources(query: "{ widgets {") }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unexpected_errors_are_masked(admin: GraphQLClient, caplog: Any) -> None:
    body = await admin.query("{ broken hello }")
    assert body["data"] == {"broken": None, "hello": "hi"}
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(body)


async def test_depth_and_alias_limits(guest: GraphQLClient, settings: Settings) -> None:
    deep = "{ resourceTree " + "{ children " * 15 + "{ id }" + " }" * 15 + " }"
    body = await guest.query(deep, expect_status=None)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: hello" for i in range(settings.max_aliases + 1)) + " }"
    body = await guest.query(aliases, expect_status=None)
    assert "aliases found" in body["errors"][0]["message"]
    within = "{ " + " ".join(f"a{i}: hello" for i in range(settings.max_aliases)) + " }"
    assert (await guest.query(within))["data"]["a0"] == "hi"


def test_startup_refuses_an_unguarded_root_field() -> None:
    @strawberry.type
    class Leaky:
        @strawberry.field
        def secrets(self) -> str | None:
            return "x"

    with pytest.raises(UnguardedFieldError, match=r"Query\.secrets has no access rule"):
        build_schema(Settings(), query_parts=(AccessQuery, Leaky))


def test_startup_refuses_a_guarded_non_null_query_field() -> None:
    @strawberry.type
    class Strict:
        @strawberry.field(extensions=[requires(Resource.ORDERS_VIEW)])
        def total(self) -> int:
            return 1

    with pytest.raises(UnguardedFieldError, match="non-null"):
        build_schema(Settings(), query_parts=(AccessQuery, Strict))


def test_sdl_prints_every_directive() -> None:
    sdl = build_schema(Settings(), query_parts=(AccessQuery, ConfigQuery, TinyQuery)).as_str()
    assert "directive @requiresResource(id: String!) repeatable on FIELD_DEFINITION" in sdl
    assert "directive @guestAccess on FIELD_DEFINITION" in sdl
    assert "directive @public on FIELD_DEFINITION" in sdl
    assert 'widgets: [Widget!] @requiresResource(id: "Magento_Catalog::products") @guestAccess' in sdl
    assert "hello: String! @public" in sdl


def test_startup_refuses_an_unknown_resource_id() -> None:
    misspelt = cast(Resource, "Magento_Catalog::productz")

    @strawberry.type
    class Typo:
        @strawberry.field(extensions=[requires(misspelt)])
        def stock(self) -> int | None:
            return 1

    with pytest.raises(UnguardedFieldError, match=r"Query\.stock requires 'Magento_Catalog::productz', which is not"):
        build_schema(Settings(), query_parts=(AccessQuery, Typo))


def test_startup_refuses_a_rule_directive_without_its_rule() -> None:
    @strawberry.type
    class PrintedOnly:
        @strawberry.field(extensions=[public()])
        def fine(self) -> int:
            return 1

        @strawberry.field(directives=[RequiresResource(id=Resource.ORDERS_VIEW)])
        def looks_guarded(self) -> int | None:
            return 1

    with pytest.raises(UnguardedFieldError, match=r"Query\.looksGuarded prints an access directive but declares no"):
        build_schema(Settings(), query_parts=(AccessQuery, PrintedOnly))


def _extension_ids(schema: Schema) -> dict[str, list[int]]:
    return {
        f"{name}.{field_name}": [id(e) for e in field.extensions["strawberry-definition"].extensions]
        for name, type_ in schema._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not name.startswith("__")
        for field_name, field in type_.fields.items()
        if "strawberry-definition" in (field.extensions or {})
    }


def test_every_guard_comes_from_its_declaration_alone() -> None:
    """Each guarded field's guard is the rule object it declared, and building a schema adds none."""
    first = build_schema(Settings())
    before = _extension_ids(first)
    second = build_schema(Settings())
    assert _extension_ids(second) == before  # a second build installs nothing on the shared fields
    rules = second.access_policy.table.rules
    assert len(rules) > 30
    for coordinate, rule in rules.items():
        type_name, field_name = coordinate.split(".")
        field = second._schema.type_map[type_name].fields[field_name]  # type: ignore[union-attr]
        definition = field.extensions["strawberry-definition"]
        declared = [e for e in definition.extensions if isinstance(e, AccessRule)]
        assert len(declared) == 1, coordinate
        assert declared[0].rule(coordinate) == rule
        printed = [d for d in definition.directives if type(d) in {type(x) for x in declared[0].directives()}]
        assert printed == declared[0].directives(), coordinate
    unguarded_with_resolver = [
        c for c, ids in before.items() if c.split(".")[0] in {"Query", "Mutation"} and c not in rules
    ]
    assert unguarded_with_resolver == []


@strawberry.type
class Buyer:
    email: str


@strawberry.type
class Sale:
    number: str

    @strawberry.field
    def buyer(self) -> Buyer | None:  # no rule: leads to the customers' data
        return Buyer(email="a@b.c")


@strawberry.type
class LeakyShop:
    @strawberry.field(extensions=[requires(Resource.ORDERS_VIEW)])
    def sales(self) -> list[Sale] | None:
        return [Sale(number="1")]

    @strawberry.field(extensions=[requires(Resource.CUSTOMERS)])
    def buyers(self) -> list[Buyer] | None:
        return [Buyer(email="a@b.c")]


def test_startup_refuses_a_nested_field_that_reaches_another_resources_data() -> None:
    with pytest.raises(UnguardedFieldError, match=r"Sale\.buyer leads to Buyer, the data of Magento_Customer::manage"):
        build_schema(Settings(), query_parts=(AccessQuery, LeakyShop), mutation_parts=())


@strawberry.type
class Member:
    email: str


@strawberry.type
class Shelf:
    name: str

    @strawberry.field(extensions=[requires(Resource.CUSTOMERS, guest=True)])
    def members(self) -> list[Member] | None:
        return []


@strawberry.type
class GuestLeak:
    @strawberry.field(extensions=[requires(Resource.PRODUCTS, guest=True)])
    def shelves(self) -> list[Shelf] | None:
        return []

    @strawberry.field(extensions=[requires(Resource.CUSTOMERS)])
    def members(self) -> list[Member] | None:
        return []


def test_startup_refuses_a_nested_guest_field_whose_data_is_not_open_to_guests() -> None:
    with pytest.raises(UnguardedFieldError, match=r"Shelf\.members is open to guests but Member is not"):
        build_schema(Settings(), query_parts=(AccessQuery, GuestLeak), mutation_parts=())


class _Caller:
    """What ``AccessPolicy.denials`` reads of a request: the principal, and the guest switch (counted)."""

    def __init__(self, principal: Principal, guest_access: bool) -> None:
        self.principal = principal
        self.guest_access = guest_access
        self.switch_reads = 0

    async def guest_access_allowed(self) -> bool:
        self.switch_reads += 1
        return self.guest_access


async def test_decisions_are_kept_per_callers_resources_with_the_guest_switch_read_each_time() -> None:
    """A decision is reused for the same fields and resources (the switch still read per request when it
    matters), never for other resources, and the kept decisions stay within their bound."""
    schema = build_schema(Settings())
    policy = AccessPolicy(schema._schema, decisions_size=3)
    query = "{ products(first: 1) { edges { node { sku categories { name } } } } }"
    access = policy.analyse(query, parse(query), None)
    products_only = frozenset({Resource.PRODUCTS.value})

    def caller(resources: frozenset[str], guest_access: bool) -> _Caller:
        return _Caller(integration_principal(7, "erp", resources), guest_access)

    off, on = caller(products_only, False), caller(products_only, True)
    assert list(await policy.denials(access, off)) == ["Product.categories"]
    assert await policy.denials(access, on) == {}  # categories are open to every caller while guest access is on
    assert (off.switch_reads, on.switch_reads) == (1, 1)
    both = caller(products_only | {Resource.CATEGORIES.value}, False)
    assert await policy.denials(access, both) == {}
    assert both.switch_reads == 0  # nothing depends on the switch for a caller holding both
    for extra in range(10):
        await policy.denials(access, caller(products_only | {f"Vendor_Module::r{extra}"}, False))
    assert len(policy._decisions) <= 3
    assert list(await policy.denials(access, off)) == ["Product.categories"]
