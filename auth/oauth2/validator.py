"""oauthlib's OAuth 2.0 ``RequestValidator`` for client credentials, answering from what was read beforehand.

oauthlib's hooks are synchronous; the client record and, for revocation and introspection, the token are read
before oauthlib runs (``endpoints``), so it runs inline on the event loop. What it decides to write (a new
token, a revocation) is recorded here and persisted by the endpoint afterwards, as ``auth.oauth.validator``
does for OAuth 1.0a.
"""

from __future__ import annotations

from typing import Any

from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2 import RequestValidator
from oauthlib.oauth2.rfc6749.errors import InvalidClientError

from auth.oauth2.clients import ClientRecord, PresentedClient
from auth.oauth2.scopes import token_resources
from auth.oauth2.tokens import TokenRecord

GRANT_TYPE = "client_credentials"

OAUTH2_NOT_ALLOWED = (
    "This integration may not use OAuth 2.0 client credentials: its authentication methods are OAUTH1 only. "
    "An admin can add OAUTH2_CLIENT_CREDENTIALS to them."
)
NOT_ACTIVE = "This integration is not active: an admin has to activate it first."


class _Client:
    """What oauthlib wants in ``request.client``."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id


class ClientCredentialsValidator(RequestValidator):  # type: ignore[misc]  # oauthlib ships no type hints
    def __init__(
        self, record: ClientRecord, presented: PresentedClient | None, token: TokenRecord | None = None
    ) -> None:
        super().__init__()
        self.record = record
        self.presented = presented
        self.token = token
        #: Set by oauthlib's calls: the token to store and its resources, or that a token is to be revoked.
        self.issued: dict[str, Any] | None = None
        self.resources: frozenset[str] = frozenset()
        self.revoke = False

    # Client authentication (RFC 6749 section 2.3.1): always required, Basic or client_secret_post.
    def client_authentication_required(self, request: OAuthlibRequest, *args: Any, **kwargs: Any) -> bool:
        return True

    def authenticate_client(self, request: OAuthlibRequest, *args: Any, **kwargs: Any) -> bool:
        presented = self.presented
        if presented is None or not self.record.secret_matches(presented.secret):
            return False
        # Said only to a client that proved its secret: why this integration's credentials get no token.
        if not self.record.allow_oauth2:
            raise InvalidClientError(description=OAUTH2_NOT_ALLOWED, request=request)
        if not self.record.active:
            raise InvalidClientError(description=NOT_ACTIVE, request=request)
        request.client = _Client(self.record.client_id)
        return True

    def authenticate_client_id(self, client_id: str, request: OAuthlibRequest, *args: Any, **kwargs: Any) -> bool:
        return False  # never called: every client is confidential

    # Token request.
    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> bool:
        return grant_type == GRANT_TYPE

    def get_default_scopes(self, client_id: str, request: OAuthlibRequest, *args: Any, **kwargs: Any) -> list[str]:
        return list(self.record.default_scopes)

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> bool:
        resources = token_resources(scopes, self.record.grant)
        if resources is None:
            return False
        self.resources = resources
        return True

    def save_bearer_token(self, token: dict[str, Any], request: OAuthlibRequest, *args: Any, **kwargs: Any) -> None:
        self.issued = dict(token)

    # Revocation (RFC 7009) and introspection (RFC 7662): only the client's own tokens.
    def _own_token(self) -> TokenRecord | None:
        token = self.token
        if token is None or token.integration_id != self.record.integration_id:
            return None
        return token

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> None:
        self.revoke = self._own_token() is not None

    def introspect_token(
        self, token: str, token_type_hint: str | None, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> dict[str, Any] | None:
        own = self._own_token()
        return own.claims() if own is not None and own.active else None
