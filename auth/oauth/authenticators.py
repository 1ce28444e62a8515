"""Integration principals for ``auth.middleware.PrincipalMiddleware``.

- ``oauth_authenticator``: ``Authorization: OAuth ...`` (HMAC-SHA256 over the absolute URL the client used);
  form-encoded bodies are part of the signature, so the body is read here and replayed to the app.
- ``integration_bearer_lookup``: an integration access token as ``Authorization: Bearer``, accepted only while
  ``oauth/consumer/enable_integration_as_bearer`` is on (default off, as in Magento 2.4.4+).
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

from auth.admin_tokens import InvalidTokenError
from auth.config import STORE_CONFIG_COLUMN, snapshot_of
from auth.grants import granted_resources
from auth.middleware import AuthenticationFailed, Authenticator
from auth.oauth.params import FORM_MEDIA_TYPE, form_body_of
from auth.oauth.problems import OAUTH1_NOT_ALLOWED, OAuthProblem
from auth.oauth.signed_requests import authenticate_signed_request
from auth.oauth.tokens import TYPE_ACCESS
from auth.principal import Principal, integration_principal
from auth.proxy import HostNotAllowed, PublicOrigins
from auth.tokens import hash_token
from models.integration import STATUS_ACTIVE
from models.sql import fetch_one
from models.values import as_bool
from observability import events

BODY_TOO_LARGE = "The request body is too large."
BEARER_DISABLED = (
    "Integration access tokens are not accepted as bearer tokens on this store: sign the request with OAuth 1.0a, "
    "or ask the admin to allow OAuth access tokens as standalone bearer tokens."
)
INTEGRATION_INACTIVE = "The integration of this access token is not active."


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def read_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise AuthenticationFailed("The client disconnected.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise AuthenticationFailed(BODY_TOO_LARGE)
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


#: Where a signed API call's refusal happened, for the security log.
SIGNED_REQUEST = "signed request"


def oauth_authenticator(origins: PublicOrigins, max_body_bytes: int = 1 << 20) -> Authenticator:
    async def authenticate(scope: Scope, receive: Receive, credentials: str) -> tuple[Principal, Receive]:
        client = scope["client"][0] if scope.get("client") else None
        try:
            url = origins.url_of(scope)
        except HostNotAllowed as refusal:
            events.oauth_failed("host_not_allowed", SIGNED_REQUEST, client)
            raise AuthenticationFailed(refusal.message) from None
        content_type = _header(scope, b"content-type")
        form_body = ""
        if content_type and content_type.lower().startswith(FORM_MEDIA_TYPE):
            body, receive = await read_body(receive, max_body_bytes)
            try:
                form_body = form_body_of(content_type, body)
            except OAuthProblem as problem:
                events.oauth_failed(problem.kind, SIGNED_REQUEST, client)
                raise AuthenticationFailed(problem.message) from None
        try:
            principal = await authenticate_signed_request(
                url, scope["method"], f"OAuth {credentials}", content_type, form_body
            )
        except OAuthProblem as problem:
            events.oauth_failed(problem.kind, SIGNED_REQUEST, client)
            raise AuthenticationFailed(problem.message) from None
        return principal, receive

    return authenticate


_BEARER_SQL = (
    "SELECT t.type AS token_type, t.revoked AS token_revoked, i.id AS integration_id, i.name AS integration_name, "
    "i.status AS integration_status, i.allow_oauth1 AS allow_oauth1, i.rate_limit_bucket_size AS bucket_size, "
    "i.rate_limit_restore_rate AS restore_rate, g.all_resources AS all_resources, g.resources AS resources, "
    f"{STORE_CONFIG_COLUMN} AS store_config "
    "FROM oauth_token t JOIN oauth_consumer c ON c.id = t.consumer_id "
    "JOIN integration i ON i.id = c.integration_id "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id "
    "WHERE t.token_hash = ?"
)


async def integration_bearer_lookup(token: str) -> Principal | None:
    """The integration behind an access token used as a bearer token; None when it is not one."""
    if len(token) != 32:
        return None
    row = await fetch_one(_BEARER_SQL, hash_token(token))
    if row is None or row["token_type"] != TYPE_ACCESS:
        return None
    config = snapshot_of(row["store_config"])
    if not config.integration_as_bearer:
        raise AuthenticationFailed(BEARER_DISABLED)
    if as_bool(row["token_revoked"]):
        raise InvalidTokenError
    if row["integration_status"] != STATUS_ACTIVE:
        raise AuthenticationFailed(INTEGRATION_INACTIVE)
    if not as_bool(row["allow_oauth1"]):
        raise AuthenticationFailed(OAUTH1_NOT_ALLOWED)
    return integration_principal(
        row["integration_id"],
        row["integration_name"],
        granted_resources(row["all_resources"], row["resources"]),
        (row["bucket_size"], row["restore_rate"]),
        config,
    )
