"""Why an OAuth request is refused, in Magento's words and with its HTTP status (like oauthlib's ``errors.py``).

Clients written for Magento show ``oauth_problem=<message>`` to people, so wherever Magento has a message it
is Magento's own (``lib/internal/Magento/Framework/Oauth`` and ``Integration/Model/Oauth/Token/Provider.php``),
reported in Magento's order of checks. Status 400 means bad input, 401 failed authentication, as in Magento.
"""

from __future__ import annotations

from collections.abc import Sequence

from errors import Refusal


class OAuthProblem(Refusal):
    """A refused OAuth request: Magento's message and HTTP status (400 input, 401 authentication), and its
    ``kind``, a fixed word for logs and metrics (the message may name a consumer id or a method)."""

    def __init__(self, message: str, status: int = 401, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind or PROBLEM_KINDS.get(message, "other")


def version_rejected(version: str) -> OAuthProblem:
    return OAuthProblem(f'The "{version}" Oauth version isn\'t supported.', 400, "version_rejected")


def parameters_absent(names: Sequence[str]) -> OAuthProblem:
    messages = [f'"{name}" is required. Enter and try again.' for name in names]
    if len(messages) == 1:
        return OAuthProblem(messages[0], 400, "parameter_absent")
    return OAuthProblem(", ".join(m.rstrip(".") for m in messages), 400, "parameter_absent")


def signature_method_rejected(method: str, *, hmac_sha1_allowed: bool = False) -> OAuthProblem:
    """Magento's message, then what would be accepted: a client moving off HMAC-SHA1 (Magento 2.4.4 dropped
    it silently) learns both ways out, signing with HMAC-SHA256 or the store setting that allows SHA1."""
    if method == "HMAC-SHA1":
        advice = (
            "sign with HMAC-SHA256, or ask the store's admin to allow HMAC-SHA1"
            " (allowHmacSha1 in config.oauth, set with updateOAuthConfig)"
        )
    elif hmac_sha1_allowed:
        advice = "sign with HMAC-SHA256 (or HMAC-SHA1, which this store allows)"
    else:
        advice = "sign with HMAC-SHA256"
    return OAuthProblem(f"Signature method {method} is not supported: {advice}", 400, "signature_method_rejected")


def nonce_used(consumer_id: int) -> OAuthProblem:
    return OAuthProblem(f"The nonce is already being used by the consumer with ID {consumer_id}", 401, "nonce_used")


def no_token_for_consumer(consumer_id: int) -> OAuthProblem:
    return OAuthProblem(f"A token with consumer ID {consumer_id} does not exist", 401, "token_not_found")


TOKEN_LENGTH_INVALID = "The token length is invalid. Check the length and try again."
CONSUMER_KEY_LENGTH = "Consumer key is not the correct length"
CONSUMER_NOT_FOUND = "A consumer having the specified key does not exist"
TIMESTAMP_REFUSED = "Incorrect timestamp value in the oauth_timestamp parameter"
NONCE_INVALID = "Incorrect nonce value in the oauth_nonce parameter"
CONSUMER_EXPIRED = "Consumer key has expired"
SIGNATURE_INVALID = "The signature is invalid. Verify and try again."
NOT_A_VERIFIER_TOKEN = "Cannot create request token because consumer token is not a verifier token"
TOKEN_NOT_FOUND = "Specified token does not exist"
REQUEST_TOKEN_NOT_OF_CONSUMER = "Request token is not associated with the specified consumer"
TOKEN_ALREADY_USED = "Token is already being used"
VERIFIER_LENGTH = "Verifier is not the correct length"
VERIFIER_MISMATCH = "Token verifier and verifier token do not match"
NOT_A_REQUEST_TOKEN = "Cannot get access token because consumer token is not a request token"
TOKEN_NOT_OF_CONSUMER = "Token is not associated with the specified consumer"
NOT_AN_ACCESS_TOKEN = "Token is not an access token"
TOKEN_REVOKED = "Access token has been revoked"
INTEGRATION_INACTIVE = "The integration of this consumer is not active. Activate or reauthorize it."
PARAMETERS_ONLY_IN_HEADER = "OAuth parameters are accepted only in the Authorization header."
HEADER_MALFORMED = "The Authorization header could not be read as OAuth parameters."
BODY_MALFORMED = "The form-encoded request body could not be read."
OAUTH1_NOT_ALLOWED = (
    "This integration may not use OAuth 1.0a: its authentication methods are OAUTH2_CLIENT_CREDENTIALS only. "
    "Obtain a bearer token at /oauth2/token, or ask the admin to add OAUTH1."
)

#: The kind of each fixed message: its constant's name, lower-cased.
PROBLEM_KINDS: dict[str, str] = {
    value: name.lower()
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and not name.startswith("_")
}
