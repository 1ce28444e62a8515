"""oauthlib's ``RequestValidator`` for the two token steps, answering from credentials fetched beforehand."""

from __future__ import annotations

from typing import Any

from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth1 import RequestValidator

from auth.oauth.credentials import RequestCredentials, decrypt_or_dummy, same
from auth.oauth.params import (
    NONCE_CHARACTERS,
    NONCE_MAX_LENGTH,
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    TOKEN_LENGTH,
)
from auth.oauth.tokens import TYPE_REQUEST


class SnapshotValidator(RequestValidator):  # type: ignore[misc]  # oauthlib ships no type hints
    """oauthlib's validator over credentials fetched beforehand: pure CPU, so oauthlib runs inline.

    Why some of oauthlib's checks are switched off here: the policy they enforce (timestamps, nonces,
    signature methods) is checked before oauthlib runs, by ``params.check_formats``, and the nonce is
    recorded after it succeeds, by ``nonces.record_nonce``. Left on, oauthlib would answer first, in its own
    words rather than Magento's and in another order; it would read the timestamp against the system clock
    rather than ``auth.clock``; and its ``validate_timestamp_and_nonce`` hook runs before the signature is
    verified, so storing the nonce there would let unsigned requests use up nonces. So the hooks for those
    only say yes (the timestamp lifetime is set to ten years), and oauthlib checks what only it checks: the
    signature, the verifier and the issue of the new token.
    """

    enforce_ssl = False
    timestamp_lifetime = 10 * 365 * 86_400  # checked in ``check_formats`` against ``auth.clock``
    client_key_length = (TOKEN_LENGTH, TOKEN_LENGTH)
    request_token_length = (TOKEN_LENGTH, TOKEN_LENGTH)
    access_token_length = (TOKEN_LENGTH, TOKEN_LENGTH)
    verifier_length = (TOKEN_LENGTH, TOKEN_LENGTH)
    dummy_client = "0" * TOKEN_LENGTH
    dummy_request_token = "0" * TOKEN_LENGTH
    dummy_access_token = "0" * TOKEN_LENGTH

    def __init__(self, credentials: RequestCredentials, consumer_secret: str | None = None) -> None:
        """``consumer_secret``: a plaintext secret to check instead of the stored one (a rotation's previous)."""
        super().__init__()
        self.credentials = credentials
        self.consumer_secret = consumer_secret
        self.issued: dict[str, str] | None = None
        self.verifier_matches = False

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        if self.credentials.config.allow_hmac_sha1:
            return (SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1)
        return (SIGNATURE_HMAC_SHA256,)

    @property
    def realms(self) -> list[str]:
        return []

    def check_nonce(self, nonce: str) -> bool:
        return 0 < len(nonce) <= NONCE_MAX_LENGTH and set(nonce) <= NONCE_CHARACTERS

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def _known_consumer(self, client_key: str) -> bool:
        return self.credentials.is_consumer(client_key)

    def validate_client_key(self, client_key: str, request: OAuthlibRequest) -> bool:
        return self._known_consumer(client_key)

    def get_client_secret(self, client_key: str, request: OAuthlibRequest) -> str:
        known = self._known_consumer(client_key)
        if known and self.consumer_secret is not None:
            return self.consumer_secret
        return decrypt_or_dummy(self.credentials.consumer_secret if known else None)

    # Access tokens: oauthlib asks for one's secret when a request-token request carries an ``oauth_token``.
    def _usable_access_token(self, client_key: str) -> bool:
        return self.credentials.access_token_usable(client_key)

    def validate_access_token(self, client_key: str, token: str, request: OAuthlibRequest) -> bool:
        return self._usable_access_token(client_key)

    def get_access_token_secret(self, client_key: str, token: str, request: OAuthlibRequest) -> str:
        usable = self._usable_access_token(client_key)
        return decrypt_or_dummy(self.credentials.token_secret if usable else None)

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    # Request-token step.
    def get_default_realms(self, client_key: str, request: OAuthlibRequest) -> list[str]:
        return []

    def validate_requested_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def validate_redirect_uri(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def save_request_token(self, token: dict[str, str], request: OAuthlibRequest) -> None:
        self.issued = dict(token)

    # Access-token step.
    def _usable_request_token(self, client_key: str) -> bool:
        creds = self.credentials
        return self._known_consumer(client_key) and creds.token_of_consumer and creds.token_type == TYPE_REQUEST

    def validate_request_token(self, client_key: str, token: str, request: OAuthlibRequest) -> bool:
        return self._usable_request_token(client_key)

    def get_request_token_secret(self, client_key: str, token: str, request: OAuthlibRequest) -> str:
        usable = self._usable_request_token(client_key)
        return decrypt_or_dummy(self.credentials.token_secret if usable else None)

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: OAuthlibRequest) -> bool:
        usable = self._usable_request_token(client_key) and self.credentials.token_verifier is not None
        expected = decrypt_or_dummy(self.credentials.token_verifier if usable else None)
        self.verifier_matches = usable and same(expected, verifier)
        return self.verifier_matches

    def get_realms(self, token: str, request: OAuthlibRequest) -> list[str]:
        return []

    def save_access_token(self, token: dict[str, str], request: OAuthlibRequest) -> None:
        self.issued = dict(token)

    def invalidate_request_token(self, *args: Any, **kwargs: Any) -> None:
        """The request token row becomes the access token when the exchange is persisted."""
