"""GraphQL over HTTP: Strawberry's ASGI view, adapted to this server (as ``strawberry/asgi/`` adapts the schema).

It builds each request's ``Context`` (the principal comes from ``auth.middleware.PrincipalMiddleware``),
answers malformed input with 400 rather than a 500, masks the errors of every result once more (see
``schema.errors`` for why) and answers HTTP 503 with a ``Retry-After`` while the database is away.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cross_web import HTTPException
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from auth.principal import GUEST
from errors import ErrorCode
from schema.context import Context
from schema.errors import RETRY_AFTER, mask_unexpected
from settings import Settings


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context; the principal comes from ``PrincipalMiddleware``."""

    def __init__(self, schema: Any, settings: Settings, ide_page: Callable[[], Response] | None = None) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.ide_page = ide_page

    async def render_graphql_ide(self, request: Any) -> Response:
        """The app's own GraphiQL page (``ide_page``: served from this origin under a strict CSP), not
        Strawberry's, which loads from a CDN."""
        return self.ide_page() if self.ide_page else await super().render_graphql_ide(request)

    async def get_context(self, request: Any, response: Any = None) -> Context:
        principal = request.scope.get("state", {}).get("principal", GUEST)
        return Context(request=request, response=response, principal=principal, settings=self.settings)

    # Malformed input is the client's fault: 400, never a 500 (invalid UTF-8, nesting past the
    # recursion limit, a body that is valid JSON but not a GraphQL request object).
    @staticmethod
    def _load_json(data: str | bytes) -> Any:
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    def parse_json(self, data: str | bytes) -> Any:
        value = self._load_json(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        return value

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        values = dict(params)
        for name in ("variables", "extensions"):
            if values.get(name):
                values[name] = self._load_json(values[name])
        return values

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:  # errors raised by an extension's hook bypass the masking extension (schema.errors)
            result.errors = [mask_unexpected(error) for error in result.errors]
        return await super().process_result(request, result)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """HTTP 503 for a database outage, 429 for a throttled client, each with ``Retry-After``."""
        response = super().create_response(response_data, sub_response)
        results = response_data if isinstance(response_data, list) else [response_data]
        extensions = [error.get("extensions") or {} for result in results for error in result.get("errors") or ()]
        if any(e.get("code") == ErrorCode.SERVICE_UNAVAILABLE for e in extensions):
            response.status_code = 503
            response.headers["retry-after"] = RETRY_AFTER
        elif throttled := [e for e in extensions if e.get("code") == ErrorCode.THROTTLED]:
            response.status_code = 429
            response.headers["retry-after"] = str(max(int(e.get("retryAfter", 1)) for e in throttled))
        return response
