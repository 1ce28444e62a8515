"""GraphQL over HTTP: Strawberry's ASGI view, adapted to this server (as ``strawberry/asgi/`` adapts the schema).

It follows the GraphQL-over-HTTP specification (the 2025 drafts), through Strawberry's own hooks:

- The response's media type is negotiated from ``Accept``: ``application/graphql-response+json`` when the
  client prefers it, else ``application/json`` (also for ``*/*`` and no ``Accept``, as Apollo Client 3 sends).
- With ``application/graphql-response+json``, a request error (the operation never ran: a parse or
  validation failure, variables that do not fit) has no ``data`` entry and answers 4xx (400, or 401/403/
  429/500/503 by its code); a response with ``data`` answers 200. ``application/json`` clients keep the
  legacy behaviour: 200 for every GraphQL response.
- Every error that ends a request before GraphQL does (malformed JSON, no query, a mutation over GET: 405
  with ``Allow: POST``, a body that is not JSON: 415) is a JSON body with ``errors[].message`` and
  ``extensions.code``, never text.
- Request errors carry codes: ``GRAPHQL_PARSE_FAILED``, ``GRAPHQL_VALIDATION_FAILED``, one per limit
  (``schema.errors.with_code``), ``BAD_USER_INPUT`` for variables.

It also builds each request's ``Context`` (the principal comes from ``auth.middleware.PrincipalMiddleware``),
masks the errors of every result once more (see ``schema.errors`` for why) and answers HTTP 503 with a
``Retry-After`` while the database is away, 429 while the client is throttled.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from auth.buckets import BucketStore
from auth.principal import GUEST
from errors import ErrorCode
from media import GRAPHQL_RESPONSE_JSON, JSON, error_response, media_type_header, negotiate
from schema.context import Context
from schema.errors import RETRY_AFTER, mask_unexpected, with_request_code
from schema.introspection import allowed, without_suggestions
from settings import Settings

#: HTTP status of a request error (no ``data``) by its code, for ``application/graphql-response+json``.
REQUEST_ERROR_STATUS = {
    ErrorCode.UNAUTHENTICATED.value: 401,
    ErrorCode.FORBIDDEN.value: 403,
    ErrorCode.THROTTLED.value: 429,
    ErrorCode.INTERNAL_SERVER_ERROR.value: 500,
    ErrorCode.SERVICE_UNAVAILABLE.value: 503,
}
#: The code of an HTTP-level refusal, by status.
HTTP_ERROR_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


class RequestRefused(HTTPException):
    """An HTTP request that is not a GraphQL request this server runs: answered as a JSON error."""

    def __init__(self, status: int, message: str, code: ErrorCode, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message)
        self.code = code
        self.headers = headers or {}


def is_request_error(result: ExecutionResult) -> bool:
    """The operation never ran: no data, and no error at a field's path (field errors always have one)."""
    return bool(result.errors) and result.data is None and not any(error.path for error in result.errors or ())


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context; the principal comes from ``PrincipalMiddleware``."""

    def __init__(
        self,
        schema: Any,
        settings: Settings,
        ide_page: Callable[[], Response] | None = None,
        buckets: BucketStore | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.ide_page = ide_page
        self.buckets = buckets

    async def render_graphql_ide(self, request: Any) -> Response:
        """The app's own GraphiQL page (``ide_page``: served from this origin under a strict CSP), not
        Strawberry's, which loads from a CDN."""
        return self.ide_page() if self.ide_page else await super().render_graphql_ide(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, with its refusals (plain text there) answered as JSON errors with a code."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as refused:
            code: ErrorCode | str = ErrorCode.BAD_REQUEST
            headers: dict[str, str] = {}
            if isinstance(refused, RequestRefused):
                code, headers = refused.code, refused.headers
            else:
                code = HTTP_ERROR_CODES.get(refused.status_code, ErrorCode.BAD_REQUEST)
                if refused.status_code == 405:
                    headers = {"allow": "GET, POST"}
            media_type = negotiate(request.headers.get("accept"))
            response = error_response(refused.status_code, refused.reason, code, media_type, headers)
        await response(scope, receive, send)

    async def get_context(self, request: Any, response: Any = None) -> Context:
        principal = request.scope.get("state", {}).get("principal", GUEST)
        return Context(
            request=request,
            response=response,
            principal=principal,
            settings=self.settings,
            buckets=self.buckets,
            _config=principal.store_config,
        )

    async def get_sub_response(self, request: Any) -> Response:
        """Strawberry's, carrying the negotiated media type to ``create_response``."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

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

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's, answering 415 to a POST body that is not JSON and 400 to a non-string operation name."""
        if request.method == "POST":
            media_type, _ = parse_content_type(request.content_type or "")
            if media_type.lower() != JSON:
                raise RequestRefused(
                    415, "The request body must be application/json.", ErrorCode.UNSUPPORTED_MEDIA_TYPE
                )
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null, if provided."
                )
        return data

    async def execute_single(
        self,
        request: Any,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, answering a mutation over GET with 405 and ``Allow: POST`` (a 400 there)."""
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as refused:
            if isinstance(refused.__cause__, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise RequestRefused(
                    405, "Mutations are only accepted over POST.", ErrorCode.METHOD_NOT_ALLOWED, {"allow": "POST"}
                ) from None
            raise

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Masks unexpected errors, gives request errors their codes (without suggested names for callers who may
        not introspect), and leaves ``data`` out of a request error's answer for
        ``application/graphql-response+json`` clients."""
        request_error = is_request_error(result)
        if result.errors:  # errors raised by an extension's hook bypass the masking extension (schema.errors)
            before_execution = isinstance(result, PreExecutionError)
            result.errors = [
                with_request_code(masked, before_execution=before_execution) if request_error else masked
                for masked in map(mask_unexpected, result.errors)
            ]
            principal = request.scope.get("state", {}).get("principal", GUEST)
            if request_error and not allowed(self.settings.introspection, principal):
                result.errors = [without_suggestions(error) for error in result.errors]
        response = await super().process_result(request, result)
        if request_error and negotiate(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON:
            response.pop("data", None)
        return response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """The status: 503 for a database outage, 429 for a throttled client (each with ``Retry-After``);
        for ``application/graphql-response+json``, 4xx for a request error; else 200."""
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = media_type_header(media_type)
        results = response_data if isinstance(response_data, list) else [response_data]
        extensions = [error.get("extensions") or {} for result in results for error in result.get("errors") or ()]
        if any(e.get("code") == ErrorCode.SERVICE_UNAVAILABLE for e in extensions):
            response.status_code = 503
            response.headers["retry-after"] = RETRY_AFTER
        elif throttled := [e for e in extensions if e.get("code") == ErrorCode.THROTTLED]:
            response.status_code = 429
            response.headers["retry-after"] = str(max(int(e.get("retryAfter", 1)) for e in throttled))
        elif (
            media_type == GRAPHQL_RESPONSE_JSON and not isinstance(response_data, list) and "data" not in response_data
        ):
            codes = [e.get("code") for e in extensions]
            response.status_code = next((REQUEST_ERROR_STATUS[c] for c in codes if c in REQUEST_ERROR_STATUS), 400)
        return response
