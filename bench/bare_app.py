"""The baseline (W4): the server's own Strawberry types and resolvers with no access control at all.

Built from the same ``QUERY_PARTS``/``MUTATION_PARTS``, with the same limits, parser and validation caches,
error masking and database set-up as ``main.create_app``, but with no ``PrincipalMiddleware``, no
``OperationControl`` extension (access and cost control) and no field guards: ``BareSchema.get_fields``
hands Strawberry copies of the fields without their ``AccessRule``, so the shared type definitions are left
as they are and the two schemas can be built in any order in one process. Every request runs as the guest, so
the resolvers apply the same visibility rules as for W1. Measuring the real app against this one, in the same run and
on the same database, isolates what authentication and authorisation cost.

Served by the harness as ``uvicorn bench.bare_app:create_bare_app --factory``.
"""

from __future__ import annotations

import contextlib
import copy
import gc
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.tools import merge_types
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from auth import secret_box
from auth.enforcement import is_guarded
from auth.rules import AccessRule
from middleware import ObservedApp, trusted_peers
from observability.metrics import Metrics, metrics_route
from schema import MUTATION_PARTS, QUERY_PARTS, Schema
from schema.view import GraphQLView
from settings import Settings


class BareSchema(Schema):
    """The server's schema without access control: no ``OperationControl``, and fields without their guards."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            query=merge_types("Query", QUERY_PARTS),
            mutation=merge_types("Mutation", MUTATION_PARTS),
            settings=settings,
            access_control=False,
        )

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        return [_unguarded(field) for field in type_definition.fields]


def _unguarded(field: StrawberryField) -> StrawberryField:
    if not any(isinstance(e, AccessRule) for e in field.extensions):
        return field
    bare = copy.copy(field)
    bare.extensions = [e for e in field.extensions if not isinstance(e, AccessRule)]
    return bare


def guarded_fields(schema: Schema) -> list[str]:
    """Coordinates of the fields that declare an access rule or whose resolvers carry an access guard (none,
    for the bare schema)."""
    return [
        f"{name}.{field_name}"
        for name, type_ in schema._schema.type_map.items()
        for field_name, field in getattr(type_, "fields", {}).items()
        if _declares_rule(field) or is_guarded(getattr(field, "resolve", None))
    ]


def _declares_rule(field: Any) -> bool:
    return any(isinstance(e, AccessRule) for e in _field_extensions(field))


def _field_extensions(field: Any) -> list[Any]:
    definition = field.extensions.get("strawberry-definition") if field.extensions else None
    return list(getattr(definition, "extensions", ()))


class BareView(GraphQLView):
    """The server's own GraphQL-over-HTTP view (media types, status codes, JSON refusals, masking): what it
    costs is not access control, so the baseline pays it too. No principal middleware runs, so every
    request is the guest (``GraphQLView.get_context``'s default)."""


def create_bare_app(settings: Settings | None = None) -> Starlette:
    from models.database import open_database  # the same migrations check, connection and SQLite pragmas

    settings = settings or Settings.from_env()
    view = BareView(BareSchema(settings), settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_database(settings, app):
            await secret_box.configure(settings)
            gc.freeze()  # as the app does (main.create_app)
            try:
                yield
            finally:
                gc.unfreeze()

    # Request ids, log lines and metrics are not access control: the baseline has them as the app does.
    metrics = Metrics() if settings.metrics_enabled else None
    return ObservedApp(
        trusted=trusted_peers(settings.forwarded_allow_ips),
        metrics=metrics,
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            *([metrics_route(metrics, settings.metrics_allow_ips, settings.metrics_token)] if metrics else []),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
