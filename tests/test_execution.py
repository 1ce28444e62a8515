"""Plain leaf fields take a shorter path through execution (``schema.execution``), with the same answers and the
same errors as graphql-core's own path, and a field with an access rule never takes it."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import build_schema
from schema.execution import PLAIN_LEAF, PlainLeafExecution, mark_plain_leaves


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    text: str
    maybe: str | None
    number: int
    colour: Colour
    anything: float

    @strawberry.field
    def computed(self) -> str:
        return self.text.upper()


#: Values of ``Item`` fields, right and wrong: a null where none is allowed, an int too large for ``Int``, a string
#: where a float belongs, an exception as a value, a value that is no member of the enum.
ITEMS = [
    {"text": "a", "maybe": None, "number": 1, "colour": Colour.RED, "anything": 1.5},
    {"text": None, "maybe": "b", "number": 2, "colour": Colour.RED, "anything": 2},
    {"text": "c", "maybe": "c", "number": 2**40, "colour": Colour.RED, "anything": "not a number"},
    {"text": "d", "maybe": ValueError("no"), "number": 3, "colour": "purple", "anything": 0.0},
]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [Item(**values) for values in ITEMS]  # type: ignore[arg-type]


DOCUMENT = "{ items { text maybe number colour anything computed __typename } }"


def run(execution_context_class: Any) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, execution_context_class=execution_context_class)
    if execution_context_class is PlainLeafExecution:
        assert mark_plain_leaves(schema._schema) == 5  # every field of Item but `computed`
    result = schema.execute_sync(DOCUMENT)
    errors = sorted((str(error.path), error.message) for error in result.errors or ())
    return {"data": result.data, "errors": errors}


def test_plain_leaves_answer_and_fail_exactly_as_graphql_core_does(monkeypatch: pytest.MonkeyPatch) -> None:
    infos: list[str] = []
    build = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counted(self: Any, field_def: Any, field_nodes: Any, parent_type: Any, path: Any) -> Any:
        infos.append(f"{parent_type.name}.{field_nodes[0].name.value}")
        return build(self, field_def, field_nodes, parent_type, path)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counted)
    usual = run(StrawberryGraphQLCoreExecutionContext)
    assert len(usual["errors"]) >= 4, usual  # the test can fail: wrong values do give errors
    usual_infos, infos[:] = list(infos), []
    assert run(PlainLeafExecution) == usual
    # The short path was taken: only the fields that are no plain leaves (and the plain leaves that failed, again
    # on the usual path) had an info built.
    assert "Item.computed" in infos and "Item.text" in usual_infos
    assert len(infos) < len(usual_infos) / 2, (infos, usual_infos)


def test_fields_with_access_rules_are_never_plain_leaves() -> None:
    schema = build_schema()._schema
    guarded_leaves = [("Query", "requiredResources"), ("Product", "categories")]
    for type_name, field_name in guarded_leaves:
        field = schema.type_map[type_name].fields[field_name]  # type: ignore[union-attr]
        assert getattr(field.resolve, PLAIN_LEAF, None) is None, (type_name, field_name)
    for type_ in schema.type_map.values():
        for name, field in getattr(type_, "fields", {}).items():
            resolve = getattr(field, "resolve", None)  # input fields have none
            if getattr(resolve, PLAIN_LEAF, None) is not None:
                assert getattr(resolve, "_is_default", False), (type_.name, name)


@pytest.mark.parametrize("name", ["sku", "name", "price", "status"])
def test_the_catalogs_attribute_fields_are_plain_leaves(name: str) -> None:
    product = build_schema()._schema.type_map["Product"]
    assert getattr(product.fields[name].resolve, PLAIN_LEAF, None) is not None  # type: ignore[union-attr]
