"""Pure-ASGI authentication in front of /graphql: turns the Authorization header into a Principal.

No header: guest. A credential that is present but wrong, expired or revoked: HTTP 401 with a GraphQL
error ``UNAUTHENTICATED``, never a fallback to guest. Each scheme is one ``Authenticator``; the OAuth
1.0a scheme plugs in the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit import context as audit_context
from auth.admin_tokens import InvalidTokenError, authenticate_admin_token
from auth.principal import GUEST, Principal
from errors import ErrorCode, Refusal, graphql_error
from media import refusal_response


class AuthenticationFailed(Refusal):
    """A credential that is present but not accepted; its message is the 401 answer's error."""


#: (scope, receive, credentials after the scheme word) -> (principal, receive to pass on).
Authenticator = Callable[[Scope, Receive, str], Awaitable[tuple[Principal, Receive]]]

#: Extra bearer lookups tried after admin tokens (integration access tokens plug in here).
BearerLookup = Callable[[str], Awaitable[Principal | None]]


def bearer_authenticator(
    extra_lookups: tuple[BearerLookup, ...] = (), prefixed: Mapping[str, BearerLookup] | None = None
) -> Authenticator:
    """Admin tokens, then ``extra_lookups``; a token starting with a key of ``prefixed`` (a prefix no other kind
    of token can have, e.g. OAuth 2.0's ``oa2.``) goes to that lookup alone, with no admin-token query first."""
    by_prefix = tuple((prefixed or {}).items())

    async def authenticate(scope: Scope, receive: Receive, credentials: str) -> tuple[Principal, Receive]:
        token = credentials.strip()
        if not token or " " in token:
            raise AuthenticationFailed("The bearer token is malformed.")
        try:
            for prefix, prefixed_lookup in by_prefix:
                if token.startswith(prefix):
                    principal = await prefixed_lookup(token)
                    break
            else:
                principal = await _lookup_chain(token, extra_lookups)
        except InvalidTokenError:
            raise AuthenticationFailed("The bearer token is expired or has been revoked.") from None
        if principal is None:
            raise AuthenticationFailed("The bearer token is not valid.")
        return principal, receive

    return authenticate


async def _lookup_chain(token: str, extra_lookups: tuple[BearerLookup, ...]) -> Principal | None:
    principal = await authenticate_admin_token(token)
    for lookup in extra_lookups:
        if principal is not None:
            break
        principal = await lookup(token)
    return principal


async def _oauth_not_configured(scope: Scope, receive: Receive, credentials: str) -> tuple[Principal, Receive]:
    raise AuthenticationFailed("OAuth 1.0a signed requests are not accepted by this server.")


async def send_unauthenticated(
    scope: Scope, receive: Receive, send: Send, message: str, scheme: str = "Bearer"
) -> None:
    """HTTP 401 with a GraphQL-shaped ``UNAUTHENTICATED`` error, so GraphQL clients read it as any other."""
    error = graphql_error(message, ErrorCode.UNAUTHENTICATED)
    accept = Headers(scope=scope).get("accept")
    response = refusal_response(accept, 401, error.formatted, {"www-authenticate": scheme})
    await response(scope, receive, send)


class PrincipalMiddleware:
    """Puts the caller's ``Principal`` in ``scope["state"]["principal"]`` (and the scope in ``audit.context``), or
    answers 401."""

    def __init__(self, app: ASGIApp, authenticators: Mapping[str, Authenticator] | None = None) -> None:
        self.app = app
        self.authenticators: dict[str, Authenticator] = {
            "bearer": bearer_authenticator(),
            "oauth": _oauth_not_configured,
            **{k.lower(): v for k, v in (authenticators or {}).items()},
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1").strip()
                break
        principal = GUEST
        if header is not None:  # present, even empty: a credential that is not accepted, never a guest
            scheme, _, credentials = header.partition(" ")
            authenticator = self.authenticators.get(scheme.lower())
            if authenticator is None:
                await _drain(receive)
                # Never quote the header: a malformed one (``Bearer<TAB>token``) would echo the credential.
                await send_unauthenticated(scope, receive, send, _unsupported(scheme))
                return
            try:
                principal, receive = await authenticator(scope, receive, credentials)
            except AuthenticationFailed as failure:
                challenge = "OAuth" if scheme.lower() == "oauth" else "Bearer"
                await send_unauthenticated(scope, receive, send, failure.message, challenge)
                return
        scope.setdefault("state", {})["principal"] = principal
        bound = audit_context.bind(scope)  # audit events of this request name its caller, client and user agent
        try:
            await self.app(scope, receive, send)
        finally:
            audit_context.unbind(bound)


SCHEMES = ("Bearer", "OAuth")


def _unsupported(scheme: str) -> str:
    if not scheme:
        return "The Authorization header is empty."
    if scheme.isascii() and scheme.isalpha() and len(scheme) <= 20:  # a scheme word, not a credential
        return f"The authorization scheme {scheme!r} is not supported; use {' or '.join(SCHEMES)}."
    return f"The Authorization header is malformed; use {' or '.join(SCHEMES)} followed by a space."


async def _drain(receive: Receive) -> None:
    """Read the request body so the server can reuse the connection cleanly."""
    message: Message = {"more_body": True}
    while message.get("more_body"):
        message = await receive()
        if message["type"] != "http.request":
            return
