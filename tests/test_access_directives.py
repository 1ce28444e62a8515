"""The access directives, enforced from their declaration: a tiny schema served by the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
import strawberry
from graphql import GraphQLObjectType

from auth.acl import ALL
from auth.enforcement import UnguardedFieldError
from auth.principal import Principal, integration_principal
from auth.rules import AccessRule
from schema import Schema, build_schema
from schema.access import AccessQuery
from schema.admin import AdminMutation
from schema.config import ConfigMutation, ConfigQuery
from schema.directives import RequiresResource, Resource, public, requires
from settings import Settings
from tests.conftest import gql

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


TOKENS: dict[str, Principal] = {
    "catalog-integration": integration_principal(7, "Catalog Sync", frozenset({"Magento_Catalog::products"})),
    "all-integration": integration_principal(8, "Everything", frozenset({ALL})),
}


async def lookup(token: str) -> Principal | None:
    return TOKENS.get(token)


@pytest.fixture
async def tiny(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from main import create_app

    SIDE_EFFECTS.clear()
    schema = build_schema(
        settings,
        query_parts=(AccessQuery, ConfigQuery, TinyQuery),
        mutation_parts=(AdminMutation, ConfigMutation, TinyMutation),
    )
    app = create_app(settings, schema=schema, bearer_lookups=(lookup,))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


@pytest.fixture
async def tiny_admin(tiny: httpx.AsyncClient) -> str:
    from auth.admin_tokens import create_admin
    from tests.conftest import ADMIN_PASSWORD, login

    await create_admin("admin", ADMIN_PASSWORD)
    return await login(tiny)


def codes(body: dict[str, Any]) -> dict[str, str]:
    return {".".join(map(str, e["path"])): e["extensions"]["code"] for e in body.get("errors", [])}


async def set_guest(client: httpx.AsyncClient, admin: str, allow: bool) -> None:
    body = await gql(
        client,
        "mutation($a: Boolean!) { setGuestAccess(allow: $a) { webApiSecurity { allowAnonymousGuestAccess } } }",
        {"a": allow},
        token=admin,
    )
    assert body["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is allow


async def test_guest_with_guest_access_off_is_unauthenticated(tiny: httpx.AsyncClient) -> None:
    body = await gql(tiny, "{ hello widgets { name } orderCount }")
    assert body["data"] == {"hello": "hi", "widgets": None, "orderCount": None}
    assert codes(body) == {"widgets": "UNAUTHENTICATED", "orderCount": "UNAUTHENTICATED"}
    error = next(e for e in body["errors"] if e["path"] == ["widgets"])
    assert error["extensions"]["requiredResources"] == ["Magento_Catalog::products"]
    assert error["message"] == "The consumer isn't authorized to access Magento_Catalog::products."


async def test_guest_with_guest_access_on_reads_guest_fields_only(tiny: httpx.AsyncClient, tiny_admin: str) -> None:
    await set_guest(tiny, tiny_admin, True)
    body = await gql(tiny, "{ widgets { name } orderCount }")
    assert body["data"] == {"widgets": [{"name": "a"}, {"name": "b"}], "orderCount": None}
    assert codes(body) == {"orderCount": "UNAUTHENTICATED"}
    await set_guest(tiny, tiny_admin, False)
    assert codes(await gql(tiny, "{ widgets { name } }")) == {"widgets": "UNAUTHENTICATED"}


async def test_admin_sees_everything(tiny: httpx.AsyncClient, tiny_admin: str) -> None:
    body = await gql(tiny, "{ widgets { name owner } orderCount catalogSize }", token=tiny_admin)
    assert "errors" not in body
    assert body["data"]["widgets"][0] == {"name": "a", "owner": "owner of a"}
    assert body["data"]["catalogSize"] == 42


async def test_partial_data_with_one_allowed_and_one_denied_field(tiny: httpx.AsyncClient) -> None:
    body = await gql(tiny, "{ widgets { name } orderCount catalogSize }", token="catalog-integration")
    assert body["data"] == {"widgets": [{"name": "a"}, {"name": "b"}], "orderCount": None, "catalogSize": None}
    assert codes(body) == {"orderCount": "FORBIDDEN", "catalogSize": "FORBIDDEN"}
    size = next(e for e in body["errors"] if e["path"] == ["catalogSize"])["extensions"]
    assert size["requiredResources"] == ["Magento_Catalog::products", "Magento_Catalog::categories"]
    assert size["missingResources"] == ["Magento_Catalog::categories"]


async def test_denied_nested_field_is_null_at_its_path(tiny: httpx.AsyncClient) -> None:
    body = await gql(tiny, "{ widgets { name owner } }", token="catalog-integration")
    assert body["data"]["widgets"] == [{"name": "a", "owner": None}, {"name": "b", "owner": None}]
    assert codes(body) == {"widgets.0.owner": "FORBIDDEN", "widgets.1.owner": "FORBIDDEN"}


async def test_denied_field_behind_fragments_and_aliases_is_denied(tiny: httpx.AsyncClient) -> None:
    query = """
      query { ...Top  w: widgets { ... on Widget { who: owner } } }
      fragment Top on Query { count: orderCount }
    """
    body = await gql(tiny, query, token="catalog-integration")
    assert body["data"]["count"] is None and body["data"]["w"][0]["who"] is None
    assert codes(body)["count"] == "FORBIDDEN"


async def test_all_grant_integration_holds_every_resource(tiny: httpx.AsyncClient) -> None:
    body = await gql(tiny, "{ widgets { owner } orderCount }", token="all-integration")
    assert "errors" not in body


async def test_denied_mutation_fails_whole_operation_without_side_effects(tiny: httpx.AsyncClient) -> None:
    body = await gql(tiny, "mutation { addWidget createOrder }", token="catalog-integration")
    assert body["data"] is None
    assert codes(body) == {"createOrder": "FORBIDDEN"}
    assert SIDE_EFFECTS == []
    allowed = await gql(tiny, "mutation { addWidget }", token="catalog-integration")
    assert allowed["data"] == {"addWidget": 1}
    assert SIDE_EFFECTS == ["widget"]


async def test_guest_mutation_is_unauthenticated(tiny: httpx.AsyncClient) -> None:
    body = await gql(tiny, "mutation { addWidget }")
    assert body["data"] is None and codes(body) == {"addWidget": "UNAUTHENTICATED"}
    assert SIDE_EFFECTS == []


async def test_required_resources_of_nested_document_with_fragments(tiny: httpx.AsyncClient) -> None:
    document = """
      query Shop { widgets { ...W } ...Counts }
      query Other { hello }
      fragment W on Widget { name owner }
      fragment Counts on Query { orderCount catalogSize }
    """
    body = await gql(
        tiny,
        "query($q: String!, $o: String) { requiredResources(query: $q, operationName: $o) }",
        {"q": document, "o": "Shop"},
    )
    assert body["data"]["requiredResources"] == [
        "Magento_Catalog::categories",
        "Magento_Catalog::products",
        "Magento_Customer::manage",
        "Magento_Sales::actions_view",
    ]
    other = await gql(
        tiny,
        "query($q: String!, $o: String) { requiredResources(query: $q, operationName: $o) }",
        {"q": document, "o": "Other"},
    )
    assert other["data"]["requiredResources"] == []
    bad = await gql(tiny, 'query { requiredResources(query: "{ widgets {") }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unexpected_errors_are_masked(tiny: httpx.AsyncClient, tiny_admin: str, caplog: Any) -> None:
    body = await gql(tiny, "{ broken hello }", token=tiny_admin)
    assert body["data"] == {"broken": None, "hello": "hi"}
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(body)


async def test_depth_and_alias_limits(tiny: httpx.AsyncClient, settings: Settings) -> None:
    deep = "{ resourceTree " + "{ children " * 15 + "{ id }" + " }" * 15 + " }"
    body = await gql(tiny, deep, status=None)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: hello" for i in range(settings.max_aliases + 1)) + " }"
    body = await gql(tiny, aliases, status=None)
    assert "aliases found" in body["errors"][0]["message"]
    within = "{ " + " ".join(f"a{i}: hello" for i in range(settings.max_aliases)) + " }"
    assert (await gql(tiny, within))["data"]["a0"] == "hi"


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
