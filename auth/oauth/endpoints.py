"""HTTP endpoints of the token exchange: ``POST /oauth/token/request``, ``POST /oauth/token/access`` and the
page the identity-link popup ends on.

As in Magento: no ``oauth_callback`` is needed, tokens and secrets are 32 characters, answers are
``oauth_token=...&oauth_token_secret=...`` and errors ``oauth_problem=<Magento's message>`` with 400 for bad
input and 401 for failed authentication. The consumer key expires ``oauth/consumer/expiration_period`` seconds
after the exchange started (request step only); the verifier is compared in constant time; a successful access
step makes the integration ``ACTIVE``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from oauthlib.oauth1 import AccessTokenEndpoint, RequestTokenEndpoint
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from audit import Action, Actor, Target, record
from audit import context as audit_context
from auth import secret_box
from auth.clock import clock
from auth.oauth.credentials import RequestCredentials, fetch_credentials, overlap_secret
from auth.oauth.nonces import maybe_delete_expired_request_tokens, record_nonce
from auth.oauth.params import (
    FORM_MEDIA_TYPE,
    REQUIRED_ACCESS_TOKEN,
    REQUIRED_BASE,
    OAuthParams,
    check_formats,
    check_required,
    form_body_of,
    read_params,
)
from auth.oauth.problems import (
    CONSUMER_EXPIRED,
    CONSUMER_NOT_FOUND,
    NOT_A_REQUEST_TOKEN,
    NOT_A_VERIFIER_TOKEN,
    OAUTH1_NOT_ALLOWED,
    REQUEST_TOKEN_NOT_OF_CONSUMER,
    SIGNATURE_INVALID,
    TOKEN_ALREADY_USED,
    TOKEN_NOT_FOUND,
    VERIFIER_MISMATCH,
    OAuthProblem,
    no_token_for_consumer,
)
from auth.oauth.tokens import TYPE_ACCESS, TYPE_REQUEST, TYPE_VERIFIER, USER_TYPE_INTEGRATION
from auth.oauth.validator import SnapshotValidator
from auth.proxy import HostNotAllowed, PublicOrigins
from auth.throttle import count_request
from auth.tokens import hash_token
from models import Integration, OAuthToken
from models.availability import database_unavailable
from models.integration import STATUS_ACTIVE
from observability import events

logger = logging.getLogger("integrations.oauth")

SUCCESS_CALLBACK_PATH = "/admin/integration/success-callback"
SUCCESS_CALLBACK_SCRIPT_PATH = "/admin/integration/success-callback.js"


class _RequestTokenEndpoint(RequestTokenEndpoint):  # type: ignore[misc]  # oauthlib ships no type hints
    """Magento's clients send no ``oauth_callback``: integrations always use ``oob``."""

    def validate_request_token_request(self, request):  # type: ignore[no-untyped-def]
        if not request.redirect_uri:
            request.redirect_uri = "oob"
        return super().validate_request_token_request(request)


#: oauthlib's answer to one step: (headers, body, status). oauthlib turns its own errors into answers.
OAuthlibAnswer = tuple[dict[str, str], str | None, int]


def _answer_request_token(validator: SnapshotValidator, call: dict[str, Any]) -> OAuthlibAnswer:
    endpoint = _RequestTokenEndpoint(validator, token_generator=secret_box.generate_token)
    answer: OAuthlibAnswer = endpoint.create_request_token_response(**call)
    return answer


def _answer_access_token(validator: SnapshotValidator, call: dict[str, Any]) -> OAuthlibAnswer:
    endpoint = AccessTokenEndpoint(validator, token_generator=secret_box.generate_token)
    answer: OAuthlibAnswer = endpoint.create_access_token_response(**call)
    return answer


@dataclasses.dataclass(frozen=True, slots=True)
class _Step:
    """One step of the exchange as ``_verify`` runs it."""

    required: tuple[str, ...]
    #: Whether the request's ``oauth_token`` is looked up: the access step exchanges one, the request step has none.
    with_token: bool
    answer: Callable[[SnapshotValidator, dict[str, Any]], OAuthlibAnswer]
    #: Magento's refusals for this step, raised before oauthlib's own verdict is reported.
    refuse: Callable[[RequestCredentials, SnapshotValidator], None]


@dataclasses.dataclass(frozen=True, slots=True)
class _Verified:
    """A step that passed every check, its nonce recorded: the new token and secret, still to be stored."""

    creds: RequestCredentials
    params: OAuthParams
    token: str
    secret: str


def _oauthlib_problem(body: str | None, status: int) -> OAuthProblem:
    """An error oauthlib found that our own checks did not: keep its description, Magento's status split."""
    if status == 400 and body:
        description = dict(parse_qsl(body)).get("error_description")
        if description:
            return OAuthProblem(description, 400, "invalid_request")
    return OAuthProblem(SIGNATURE_INVALID)


async def _read(request: Request, uri: str, step: _Step) -> tuple[RequestCredentials, OAuthParams, dict[str, Any]]:
    """The step's parameters, checked as far as they can be without oauthlib, and the request as oauthlib reads it."""
    content_type = request.headers.get("content-type")
    form_body = form_body_of(content_type, await request.body())
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("oauth "):
        params = read_params(authorization, uri.partition("?")[2], form_body)
    else:
        params = OAuthParams({})  # as Magento: without an OAuth header there are no protocol parameters
    check_required(params, step.required)
    creds = await fetch_credentials(params.consumer_key, params.token if step.with_token else None)
    check_formats(params, creds.config.allow_hmac_sha1)
    headers = {"Authorization": authorization}
    if content_type:
        headers["Content-Type"] = content_type
    call = {"uri": uri, "http_method": request.method, "body": form_body, "headers": headers}
    return creds, params, call


async def _verify(request: Request, uri: str, step: _Step) -> _Verified:
    """What both token steps share: our checks, oauthlib's, Magento's refusals in its order, then the nonce."""
    creds, params, call = await _read(request, uri, step)
    validator = SnapshotValidator(creds)
    _headers, body, status = step.answer(validator, call)
    previous = overlap_secret(creds.previous_secret, creds.previous_secret_expires_at) if status != 200 else None
    if previous is not None:
        # During a rotation's overlap a third party still holding the previous consumer secret completes the
        # exchange too, as its signed calls do; only a request that fails with both secrets is refused.
        retry = SnapshotValidator(creds, consumer_secret=previous)
        _headers, retry_body, retry_status = step.answer(retry, call)
        if retry_status == 200:
            validator, body, status = retry, retry_body, retry_status
    if creds.consumer_id is None:
        raise OAuthProblem(CONSUMER_NOT_FOUND)
    if not creds.allow_oauth1:
        raise OAuthProblem(OAUTH1_NOT_ALLOWED)
    step.refuse(creds, validator)
    if status != 200 or validator.issued is None:
        raise _oauthlib_problem(body, status)
    await record_nonce(creds, params)
    return _Verified(creds, params, validator.issued["oauth_token"], validator.issued["oauth_token_secret"])


def _consumer_expired(creds: RequestCredentials) -> bool:
    started = creds.exchange_started_at
    if started is None:
        return True
    return (clock.now() - started).total_seconds() >= creds.config.consumer_expiration_seconds


def _refuse_request_token(creds: RequestCredentials, validator: SnapshotValidator) -> None:
    if _consumer_expired(creds):
        raise OAuthProblem(CONSUMER_EXPIRED)


def _refuse_access_token(creds: RequestCredentials, validator: SnapshotValidator) -> None:
    if creds.token_id is None:
        raise OAuthProblem(TOKEN_NOT_FOUND)
    if not creds.token_of_consumer:
        raise OAuthProblem(REQUEST_TOKEN_NOT_OF_CONSUMER)
    if creds.token_type != TYPE_REQUEST:
        raise OAuthProblem(TOKEN_ALREADY_USED)
    if not validator.verifier_matches:
        raise OAuthProblem(VERIFIER_MISMATCH)


REQUEST_TOKEN_STEP = _Step(REQUIRED_BASE, False, _answer_request_token, _refuse_request_token)
ACCESS_TOKEN_STEP = _Step(REQUIRED_ACCESS_TOKEN, True, _answer_access_token, _refuse_access_token)


async def issue_request_token(request: Request, uri: str) -> tuple[str, str]:
    verified = await _verify(request, uri, REQUEST_TOKEN_STEP)
    creds, token, secret = verified.creds, verified.token, verified.secret
    assert creds.consumer_id is not None
    row = await OAuthToken.get_or_none(
        consumer_id=creds.consumer_id, user_type=USER_TYPE_INTEGRATION, type__in=(TYPE_VERIFIER, TYPE_REQUEST)
    )
    if row is None:
        raise no_token_for_consumer(creds.consumer_id)
    converted = await OAuthToken.filter(id=row.id, type=TYPE_VERIFIER).update(
        type=TYPE_REQUEST,
        token_hash=hash_token(token),
        token_encrypted=secret_box.encrypt(token),
        secret=secret_box.encrypt(secret),
        callback_url="oob",
        created_at=clock.now(),
    )
    if not converted:
        raise OAuthProblem(NOT_A_VERIFIER_TOKEN)
    await maybe_delete_expired_request_tokens(creds)
    return token, secret


async def issue_access_token(request: Request, uri: str) -> tuple[str, str]:
    verified = await _verify(request, uri, ACCESS_TOKEN_STEP)
    creds, token, secret = verified.creds, verified.token, verified.secret
    async with in_transaction() as conn:
        # The access token this exchange replaces stops working now, not when the exchange began.
        await (
            OAuthToken.filter(consumer_id=creds.consumer_id, user_type=USER_TYPE_INTEGRATION, type=TYPE_ACCESS)
            .using_db(conn)
            .delete()
        )
        converted = (
            await OAuthToken.filter(
                id=creds.token_id, type=TYPE_REQUEST, token_hash=hash_token(verified.params.token or "")
            )
            .using_db(conn)
            .update(
                type=TYPE_ACCESS,
                token_hash=hash_token(token),
                token_encrypted=secret_box.encrypt(token),
                secret=secret_box.encrypt(secret),
                verifier=None,
                created_at=clock.now(),
            )
        )
        if not converted:
            raise OAuthProblem(NOT_A_REQUEST_TOKEN)
        await (
            Integration.filter(id=creds.integration_id)
            .using_db(conn)
            .update(status=STATUS_ACTIVE, updated_at=clock.now())
        )
        # The exchange the admin started ends here: the integration is active with this token.
        again = creds.integration_status == STATUS_ACTIVE
        await record(
            Action.INTEGRATION_REAUTHORIZED if again else Action.INTEGRATION_ACTIVATED,
            target_type=Target.INTEGRATION,
            target_id=creds.integration_id,
            details={"name": creds.integration_name, "method": "token_exchange"},
            actor=Actor.integration(creds.integration_id, creds.integration_name) if creds.integration_id else None,
        )
    logger.info("A request token was exchanged for an access token for consumer %s", creds.consumer_id)
    await maybe_delete_expired_request_tokens(creds)
    return token, secret


def form_response(pairs: list[tuple[str, str]], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An answer in the token endpoints' own format (``application/x-www-form-urlencoded``)."""
    return Response(urlencode(pairs), status_code=status, headers=headers, media_type=FORM_MEDIA_TYPE)


#: One token step: (request, the URL it was signed for) -> (token, secret).
IssueToken = Callable[[Request, str], Awaitable[tuple[str, str]]]


TOO_MANY_REQUESTS = "Too many token requests from this address; try again later."


async def _token_endpoint(request: Request, issue: IssueToken, origins: PublicOrigins, limit: int) -> Response:
    bound = audit_context.bind(request.scope)  # the activation this step may complete names its client
    try:
        return await _answer_token_step(request, issue, origins, limit)
    finally:
        audit_context.unbind(bound)


async def _answer_token_step(request: Request, issue: IssueToken, origins: PublicOrigins, limit: int) -> Response:
    throttled = await count_request("oauth-token", request.scope, limit)
    if throttled is not None:
        headers = {"retry-after": str(throttled.retry_after_seconds)}
        events.oauth_failed("throttled", request.url.path, _client(request))
        return form_response([("oauth_problem", TOO_MANY_REQUESTS)], 429, headers)
    try:
        token, secret = await issue(request, origins.url_of(request.scope))
    except HostNotAllowed as refusal:
        events.oauth_failed("host_not_allowed", request.url.path, _client(request))
        return form_response([("oauth_problem", refusal.message)], 401)
    except OAuthProblem as problem:
        events.oauth_failed(problem.kind, request.url.path, _client(request))
        return form_response([("oauth_problem", problem.message)], problem.status)
    except HTTPException:
        raise  # the body-size limit: Starlette has answered 413 already
    except Exception as exc:
        if database_unavailable(exc):
            raise  # a passing outage: DatabaseUnavailableMiddleware answers 503
        logger.exception("Unexpected error in %s", request.url.path)
        return form_response([("oauth_problem", "internal_error")], 500)
    return form_response([("oauth_token", token), ("oauth_token_secret", secret)])


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def token_endpoint(issue: IssueToken, origins: PublicOrigins, limit: int) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint of one token step, for the store's public hosts, throttled per client address."""

    async def endpoint(request: Request) -> Response:
        return await _token_endpoint(request, issue, origins, limit)

    return endpoint


# ------------------------------------------------------------------------ end of the identity-link popup

_SCRIPT = (
    "'use strict';\n"
    "if (window.opener) {\n"
    "  try { window.opener.postMessage('integration-success-callback', window.location.origin); } catch (e) {}\n"
    "}\n"
    "window.setTimeout(function () { window.close(); }, 1000);\n"
)
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Integration linked</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="{SUCCESS_CALLBACK_SCRIPT_PATH.rsplit("/", 1)[1]}" defer></script>
</head>
<body>
<p>The integration is linked. This window closes by itself; if it does not, you can close it.</p>
</body>
</html>
"""
_SCRIPT_HASH = hashlib.sha256(_SCRIPT.encode()).hexdigest()
#: Strict: only our own script file runs; nothing may frame the page.
SUCCESS_PAGE_CSP = "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_SECURITY_HEADERS = {
    "Content-Security-Policy": SUCCESS_PAGE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def success_callback_page(request: Request) -> Response:
    """Where the third party sends the admin's popup when linking is done (Magento's loginSuccessCallback)."""
    return Response(
        _PAGE, media_type="text/html; charset=utf-8", headers={**_SECURITY_HEADERS, "Cache-Control": "no-store"}
    )


async def success_callback_script(request: Request) -> Response:
    return Response(
        _SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={**_SECURITY_HEADERS, "Cache-Control": "public, max-age=3600", "ETag": f'"{_SCRIPT_HASH[:16]}"'},
    )


def oauth_routes(origins: PublicOrigins, rate_limit: int) -> list[Route]:
    return [
        Route("/oauth/token/request", token_endpoint(issue_request_token, origins, rate_limit), methods=["POST"]),
        Route("/oauth/token/access", token_endpoint(issue_access_token, origins, rate_limit), methods=["POST"]),
        Route(SUCCESS_CALLBACK_PATH, success_callback_page, methods=["GET"]),
        Route(SUCCESS_CALLBACK_SCRIPT_PATH, success_callback_script, methods=["GET"]),
    ]
