"""The baseline (W4): the server's own Strawberry types and resolvers with no access control at all.

Built from the same ``QUERY_PARTS``/``MUTATION_PARTS``, with the same limits, parser and validation caches,
error masking and database set-up as ``main.create_app``, but with no ``PrincipalMiddleware``, no
``AccessControl`` extension and no ``AccessGuard`` field extensions. Every request runs as the guest, so
the resolvers apply the same visibility rules as for W1. Measuring the real app against this one, in the
same run and on the same database, isolates what authentication and authorisation cost.

Build this schema before ``schema.build_schema`` runs in the same process: that one attaches guards to
the shared field definitions (``create_bare_app`` refuses to serve a schema that has them).

Served by the harness as ``uvicorn bench.bare_app:create_bare_app --factory``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from auth import secret_box
from auth.enforcement import AccessGuard
from auth.principal import GUEST
from schema import MUTATION_PARTS, QUERY_PARTS, Schema, schema_extensions
from schema.context import Context
from settings import Settings


def build_bare_schema(settings: Settings) -> Schema:
    query = merge_types("Query", QUERY_PARTS)
    mutation = merge_types("Mutation", MUTATION_PARTS)
    extensions = schema_extensions(settings, access_control=None)
    schema = Schema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=settings.max_page_size),
    )
    guarded = [
        f"{name}.{field_name}"
        for name, type_ in schema._schema.type_map.items()
        for field_name, field in getattr(type_, "fields", {}).items()
        if any(isinstance(e, AccessGuard) for e in _field_extensions(field))
    ]
    if guarded:
        raise RuntimeError(f"the bare schema carries access guards ({', '.join(guarded[:3])}, ...)")
    return schema


def _field_extensions(field: Any) -> list[Any]:
    definition = field.extensions.get("strawberry-definition") if field.extensions else None
    return list(getattr(definition, "extensions", ()))


class BareView(GraphQL[Context, None]):
    """Strawberry's ASGI view; every request is the guest."""

    def __init__(self, schema: Schema, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(
            request=request,
            response=response,
            principal=GUEST,
            settings=self.settings,
            policy=None,  # type: ignore[arg-type]  # nothing reads it without AccessControl
        )


def create_bare_app(settings: Settings | None = None) -> Starlette:
    from models.database import open_database  # the same migrations check, connection and SQLite pragmas

    settings = settings or Settings.from_env()
    view = BareView(build_bare_schema(settings), settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        secret_box.configure(settings)
        async with open_database(settings, app):
            yield

    return Starlette(
        routes=[Route("/graphql", view, methods=["GET", "POST"])],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
