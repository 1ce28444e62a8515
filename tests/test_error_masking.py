"""What a client sees of an unexpected failure, wherever it is raised (``schema.errors``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from schema.errors import MaskUnexpectedErrors, mask_unexpected
from tests.support.graphql import GraphQLClient

SECRET = "database password is hunter2"


@strawberry.type
class Query:
    hello: str = "hi"


class FailsBeforeExecution(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        raise RuntimeError(SECRET)
        yield  # pragma: no cover - a generator hook, as Strawberry expects


async def test_an_extension_hook_failure_escapes_the_masking_extension() -> None:
    """Why ``schema.view`` masks every result again: on Strawberry 0.341 an exception raised by an
    extension's hook ends the operation before ``MaskErrors.on_operation`` sees the result. If this
    starts failing after an upgrade, Strawberry masks these itself and the view's second pass can go."""
    schema = strawberry.Schema(query=Query, extensions=[FailsBeforeExecution, MaskUnexpectedErrors])
    result = await schema.execute("{ hello }")
    assert result.errors is not None
    assert [error.message for error in result.errors] == [SECRET]
    masked = mask_unexpected(result.errors[0])
    assert (masked.message, masked.extensions) == ("Internal server error.", {"code": "INTERNAL_SERVER_ERROR"})


async def test_a_failure_before_any_resolver_runs_is_masked(
    guest: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Access control reads the store config before execution (a guest asking for a guest field): when
    that read fails, the client sees ``INTERNAL_SERVER_ERROR`` only, and the log keeps the traceback."""

    async def broken_config() -> Any:
        raise RuntimeError(SECRET)

    monkeypatch.setattr("schema.context.load_config", broken_config)
    body = await guest.query("{ products(first: 1) { edges { node { sku } } } }", expect_status=None)
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        ("Internal server error.", {"code": "INTERNAL_SERVER_ERROR"})
    ]
    assert "hunter2" not in str(body)
    assert any(record.exc_info and SECRET in str(record.exc_info[1]) for record in caplog.records)
