"""HTTP endpoints of OAuth 2.0: ``POST /oauth2/token``, ``/oauth2/revoke``, ``/oauth2/introspect`` and
``GET /.well-known/oauth-authorization-server``.

oauthlib's ``BackendApplicationServer`` decides every answer; this module reads the request body once,
fetches what the validator needs, runs oauthlib inline and persists what it decided. Errors are RFC 6749
section 5.2 JSON with a 4xx: ``invalid_request`` for a body that is not a form, ``invalid_client`` with 401
and a ``WWW-Authenticate: Basic`` challenge, ``unsupported_grant_type``, ``invalid_scope``... Token requests are
counted per client address like the OAuth 1.0a token steps.

Introspection answers the client about its own tokens, and an admin (``Authorization: Bearer`` with an admin
token whose role holds Integrations) about any token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from oauthlib.common import urldecode
from oauthlib.oauth2 import BackendApplicationServer, MetadataEndpoint, RequestValidator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.acl import ADMIN, ALL, TREE
from auth.admin_tokens import InvalidTokenError, authenticate_admin_token
from auth.oauth2.clients import (
    ClientAuthenticationMalformed,
    ClientRecord,
    PresentedClient,
    fetch_client,
    presented_client,
)
from auth.oauth2.tokens import TokenRecord, find_token, generate_token, revoke_token, store_token
from auth.oauth2.validator import ClientCredentialsValidator
from auth.resources import Resource
from auth.throttle import count_request

logger = logging.getLogger("integrations.oauth2")

TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
INTROSPECT_PATH = "/oauth2/introspect"
METADATA_PATH = "/.well-known/oauth-authorization-server"

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: RFC 6749 section 5.2: the challenge matches the scheme the client authenticates with (HTTP Basic).
CHALLENGE = 'Basic realm="oauth2", charset="UTF-8"'
TOO_MANY_REQUESTS = "Too many token requests from this address; try again later."
ADMIN_NOT_ALLOWED = "Only admins whose role holds Integrations may introspect other clients' tokens."


class FormProblem(Exception):
    """The body is not a readable ``application/x-www-form-urlencoded`` form."""


def error_response(error: str, description: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status, {**NO_STORE, **(headers or {})})


def _read_form(request: Request, body: bytes) -> tuple[str, dict[str, str]]:
    """The body as text and its parameters (the last of a repeated one; oauthlib refuses repeats itself)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body and content_type != FORM_MEDIA_TYPE:
        raise FormProblem(f"Send the parameters as {FORM_MEDIA_TYPE}.")
    try:
        text = body.decode("utf-8")
        pairs = urldecode(text) if text else []
    except (UnicodeDecodeError, ValueError):
        raise FormProblem("The form-encoded request body could not be read.") from None
    return text, dict(pairs)


def _answer(answer: tuple[dict[str, str], str | None, int]) -> Response:
    headers, body, status = answer
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if status == 401:
        headers["WWW-Authenticate"] = CHALLENGE
    return Response(body or "", status, {**headers, **NO_STORE}, media_type="application/json")


async def _prepare(request: Request) -> tuple[str, dict[str, str], PresentedClient | None] | Response:
    """The body, its form and the client's credentials, or the error answer for a malformed request."""
    body = await request.body()
    try:
        text, form = _read_form(request, body)
        presented = presented_client(request.headers.get("authorization"), form)
    except FormProblem as problem:
        return error_response("invalid_request", str(problem))
    except ClientAuthenticationMalformed as problem:
        return error_response("invalid_client", str(problem), 401, {"WWW-Authenticate": CHALLENGE})
    return text, form, presented


def _call(request: Request, text: str) -> dict[str, Any]:
    """The arguments of an oauthlib endpoint call; the URL carries no secrets (they are in the body or header)."""
    headers = {"Content-Type": FORM_MEDIA_TYPE}
    authorization = request.headers.get("authorization")
    if authorization:
        headers["Authorization"] = authorization
    return {"uri": str(request.url), "http_method": request.method, "body": text, "headers": headers}


async def token(request: Request, rate_limit: int) -> Response:
    throttled = await count_request("oauth2-token", request.scope, rate_limit)
    if throttled is not None:
        retry = {"Retry-After": str(throttled.retry_after_seconds)}
        return error_response("slow_down", TOO_MANY_REQUESTS, 429, retry)
    prepared = await _prepare(request)
    if isinstance(prepared, Response):
        return prepared
    text, _form, presented = prepared
    record = await fetch_client(presented.client_id if presented else "")
    validator = ClientCredentialsValidator(record, presented)
    server = BackendApplicationServer(
        validator, token_generator=generate_token, token_expires_in=record.token_lifetime_seconds
    )
    answer = server.create_token_response(**_call(request, text))
    issued = validator.issued
    if answer[2] == 200 and issued is not None and record.integration_id is not None:
        await store_token(
            record.integration_id,
            issued["access_token"],
            issued.get("scope", ""),
            validator.resources,
            record.token_lifetime_seconds,
        )
        logger.info("An OAuth 2.0 access token was issued to integration %s", record.integration_id)
    return _answer(answer)


async def revoke(request: Request) -> Response:
    """RFC 7009: the client's own token stops working now; any other token is left alone (still 200)."""
    about = await _about_a_token(request)
    if isinstance(about, Response):
        return about
    text, form, validator, record = about
    answer = BackendApplicationServer(validator).create_revocation_response(**_call(request, text))
    if answer[2] == 200 and validator.revoke:
        await revoke_token(form["token"], record.integration_id)
    return _answer(answer)


async def introspect(request: Request) -> Response:
    """RFC 7662, for the client itself (its own tokens) or for an admin (any token)."""
    authorization = request.headers.get("authorization") or ""
    if authorization[:7].lower() == "bearer ":
        return await _introspect_as_admin(request, authorization[7:].strip())
    about = await _about_a_token(request)
    if isinstance(about, Response):
        return about
    text, _form, validator, _record = about
    return _answer(BackendApplicationServer(validator).create_introspect_response(**_call(request, text)))


async def _about_a_token(
    request: Request,
) -> Response | tuple[str, dict[str, str], ClientCredentialsValidator, ClientRecord]:
    """Revocation and introspection alike: the form, the presenting client and the token it names."""
    prepared = await _prepare(request)
    if isinstance(prepared, Response):
        return prepared
    text, form, presented = prepared
    record = await fetch_client(presented.client_id if presented else "")
    token_record = await find_token(form.get("token", ""))
    return text, form, ClientCredentialsValidator(record, presented, token_record), record


def _active_claims(record: TokenRecord | None) -> dict[str, Any]:
    if record is None or not record.active:
        return {"active": False}
    return {"active": True, **record.claims()}


async def _introspect_as_admin(request: Request, admin_token: str) -> Response:
    bearer_challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    try:
        principal = await authenticate_admin_token(admin_token)
    except InvalidTokenError:
        principal = None
    if principal is None:
        return error_response("invalid_token", "The admin token is not valid.", 401, bearer_challenge)
    if ALL not in principal.resources and Resource.INTEGRATIONS not in principal.resources:
        return error_response("insufficient_scope", ADMIN_NOT_ALLOWED, 403)
    try:
        _text, form = _read_form(request, await request.body())
    except FormProblem as problem:
        return error_response("invalid_request", str(problem))
    if not form.get("token"):
        return error_response("invalid_request", "Missing token parameter.")
    return JSONResponse(_active_claims(await find_token(form["token"])), headers=NO_STORE)


def metadata(issuer: str) -> dict[str, Any]:
    """RFC 8414 metadata, as oauthlib's ``MetadataEndpoint`` derives it from the server it describes."""
    base = issuer.rstrip("/")
    claims = {
        "issuer": base,
        "token_endpoint": base + TOKEN_PATH,
        "revocation_endpoint": base + REVOKE_PATH,
        "introspection_endpoint": base + INTROSPECT_PATH,
        "scopes_supported": [ALL, *TREE.subtree(ADMIN)],
        "service_documentation": base + "/graphql",
    }
    server = BackendApplicationServer(RequestValidator())  # read for its grant types and auth methods only
    # oauthlib insists on an https issuer; a store served over plain http (development) still gets its metadata.
    endpoint = MetadataEndpoint([server], claims, raise_errors=base.startswith("https://"))
    return dict(endpoint.claims)


def oauth2_routes(issuer: str, rate_limit: int) -> list[Route]:
    document = json.dumps(metadata(issuer))

    async def token_endpoint(request: Request) -> Response:
        return await token(request, rate_limit)

    async def metadata_endpoint(request: Request) -> Response:
        return Response(document, media_type="application/json", headers={"Cache-Control": "public, max-age=3600"})

    endpoints: list[tuple[str, Callable[[Request], Awaitable[Response]]]] = [
        (TOKEN_PATH, token_endpoint),
        (REVOKE_PATH, revoke),
        (INTROSPECT_PATH, introspect),
    ]
    return [
        *(Route(path, endpoint, methods=["POST"]) for path, endpoint in endpoints),
        Route(METADATA_PATH, metadata_endpoint, methods=["GET"]),
    ]
