"""The ``oauth_*`` protocol parameters of a request: read once, then checked as far as they can be without
the database (Magento's ``_validateProtocolParams``, in its order).

Magento reads the parameters only from the Authorization header; one in the query or a form body is refused.
Timestamps are checked both ways (±600 s) against ``auth.clock``, so tests can move time.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Sequence

from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from oauthlib.oauth1.rfc5849.signature import collect_parameters

from auth import secret_box
from auth.clock import clock
from auth.oauth.problems import (
    BODY_MALFORMED,
    CONSUMER_KEY_LENGTH,
    CONSUMER_NOT_FOUND,
    HEADER_MALFORMED,
    NONCE_INVALID,
    PARAMETERS_ONLY_IN_HEADER,
    TIMESTAMP_REFUSED,
    TOKEN_LENGTH_INVALID,
    TOKEN_NOT_FOUND,
    VERIFIER_LENGTH,
    OAuthProblem,
    parameters_absent,
    signature_method_rejected,
    version_rejected,
)

SIGNATURE_HMAC_SHA256 = "HMAC-SHA256"
SIGNATURE_HMAC_SHA1 = "HMAC-SHA1"
#: Seconds a timestamp may differ from the server clock, in either direction.
TIMESTAMP_LIFETIME = 600
TOKEN_LENGTH = secret_box.TOKEN_LENGTH
#: Nonces are chosen by clients: Magento's are 32 characters, other libraries use UUIDs or digits.
NONCE_MAX_LENGTH = 64
NONCE_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~")

#: Required protocol parameters (Magento's ``_validateProtocolParams``), per step.
REQUIRED_BASE = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce", "oauth_timestamp")
REQUIRED_ACCESS_TOKEN = (*REQUIRED_BASE, "oauth_token", "oauth_verifier")
REQUIRED_RESOURCE = (*REQUIRED_BASE, "oauth_token")

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


@dataclasses.dataclass(frozen=True, slots=True)
class OAuthParams:
    """The ``oauth_*`` protocol parameters of one request."""

    values: dict[str, str]
    #: What the signature covers (RFC 5849 section 3.4.1.3), collected as oauthlib's endpoints collect it: the
    #: header's parameters but ``realm`` and ``oauth_signature``, then the query's and a form body's.
    signed: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    @property
    def consumer_key(self) -> str:
        return self.values.get("oauth_consumer_key", "")

    @property
    def token(self) -> str | None:
        return self.values.get("oauth_token")


def form_body_of(content_type: str | None, body: bytes) -> str:
    """The body as oauthlib should see it: only form-encoded bodies are part of the signature."""
    if content_type and content_type.lower().startswith(FORM_MEDIA_TYPE):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise OAuthProblem(BODY_MALFORMED, 400) from None
    return ""


def read_params(authorization: str, uri_query: str, form_body: str) -> OAuthParams:
    """The ``oauth_*`` parameters of the Authorization header (Magento reads them only there)."""
    try:
        header_params = oauth_utils.parse_authorization_header(authorization)
    except ValueError:
        raise OAuthProblem(HEADER_MALFORMED, 400) from None
    oauth_params = oauth_utils.filter_oauth_params(header_params)  # a repeated name keeps its last value
    try:
        elsewhere = collect_parameters(uri_query=uri_query, body=form_body or None, exclude_oauth_signature=False)
    except ValueError:
        raise OAuthProblem(BODY_MALFORMED, 400) from None
    if oauth_utils.filter_oauth_params(elsewhere):
        raise OAuthProblem(PARAMETERS_ONLY_IN_HEADER, 400)
    signed = [
        (name, oauth_utils.unescape(value) if name.startswith("oauth_") else value)
        for name, value in header_params
        if name not in {"realm", "oauth_signature"}
    ]
    return OAuthParams(dict(oauth_params), tuple(signed + elsewhere))


def check_required(params: OAuthParams, required: Sequence[str]) -> None:
    """Magento's first protocol checks: the version, then every required parameter."""
    version = params.get("oauth_version")
    if version is not None and version != "1.0":
        raise version_rejected(version)
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise parameters_absent(missing)


def _is_token_shaped(value: str, length: int = TOKEN_LENGTH) -> bool:
    return len(value) == length and value.isascii() and value.isalnum()


def check_formats(params: OAuthParams, allow_hmac_sha1: bool) -> None:
    """Magento's remaining protocol checks that need no stored credentials, in its order."""
    token = params.token
    if token is not None and len(token) != TOKEN_LENGTH:
        raise OAuthProblem(TOKEN_LENGTH_INVALID, 400)
    method = params.get("oauth_signature_method") or ""
    if method != SIGNATURE_HMAC_SHA256 and not (method == SIGNATURE_HMAC_SHA1 and allow_hmac_sha1):
        raise signature_method_rejected(method, hmac_sha1_allowed=allow_hmac_sha1)
    key = params.consumer_key
    if len(key) != TOKEN_LENGTH:
        raise OAuthProblem(CONSUMER_KEY_LENGTH)
    if not _is_token_shaped(key):
        raise OAuthProblem(CONSUMER_NOT_FOUND)
    if token is not None and not _is_token_shaped(token):
        raise OAuthProblem(TOKEN_NOT_FOUND)
    timestamp = params.get("oauth_timestamp") or ""
    if len(timestamp) != 10 or not timestamp.isdigit() or abs(clock.time() - int(timestamp)) > TIMESTAMP_LIFETIME:
        raise OAuthProblem(TIMESTAMP_REFUSED, 400)
    nonce = params.get("oauth_nonce") or ""
    if len(nonce) > NONCE_MAX_LENGTH or not set(nonce) <= NONCE_CHARACTERS:
        raise OAuthProblem(NONCE_INVALID, 400)
    verifier = params.get("oauth_verifier")
    if verifier is not None and not _is_token_shaped(verifier):
        raise OAuthProblem(VERIFIER_LENGTH)
