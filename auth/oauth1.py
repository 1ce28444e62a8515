"""OAuth 1.0a provider on oauthlib, wire-compatible with Magento's integration clients.

Signatures are always checked by oauthlib. Around it, this module adds what Magento clients expect and
what oauthlib leaves to the provider:

- Magento's error texts (``oauth_problem=...``) and its 400/401 split, reported in Magento's order of checks;
- credentials read with one raw SQL join (consumer, token, integration, grant, and the few config values the
  check needs), then handed to oauthlib through a per-request validator, so verification runs inline (signed
  API calls, the hot path, go straight to oauthlib's signature functions: see ``signature_matches``);
- timestamps checked both ways (±600 s) against ``auth.clock``;
- a nonce recorded only after the signature verifies, unique per consumer in the database, so that a replay is
  refused even when it reaches another worker process;
- unknown consumer keys and tokens verified against dummy secrets, so they take as long as known ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hmac
import json
import logging
import random
import string
from collections.abc import Sequence
from typing import Any

from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth1 import RequestValidator
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from oauthlib.oauth1.rfc5849.signature import collect_parameters
from tortoise.exceptions import IntegrityError

from auth import config as paths
from auth import secrets
from auth.acl import ALL
from auth.admin_tokens import as_datetime
from auth.clock import clock
from auth.oauth_tokens import TYPE_ACCESS, TYPE_REQUEST, TYPE_VERIFIER, USER_TYPE_INTEGRATION, hash_token
from auth.principal import Principal, integration_principal
from models import OAuthNonce, OAuthToken
from models.integration import STATUS_ACTIVE
from models.sql import dialect, execute, fetch_one

logger = logging.getLogger("integrations.oauth")

__all__ = ["TYPE_ACCESS", "TYPE_REQUEST", "TYPE_VERIFIER", "USER_TYPE_INTEGRATION", "hash_token"]

SIGNATURE_HMAC_SHA256 = "HMAC-SHA256"
SIGNATURE_HMAC_SHA1 = "HMAC-SHA1"
#: Seconds a timestamp may differ from the server clock, in either direction.
TIMESTAMP_LIFETIME = 600
TOKEN_LENGTH = secrets.TOKEN_LENGTH
#: Nonces are chosen by clients: Magento's are 32 characters, other libraries use UUIDs or digits.
NONCE_MAX_LENGTH = 64
NONCE_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~")

#: Required protocol parameters (Magento's ``_validateProtocolParams``), per step.
REQUIRED_BASE = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce", "oauth_timestamp")
REQUIRED_ACCESS_TOKEN = (*REQUIRED_BASE, "oauth_token", "oauth_verifier")
REQUIRED_RESOURCE = (*REQUIRED_BASE, "oauth_token")


class OAuthProblem(Exception):
    """A refused OAuth request: Magento's message and HTTP status (400 input, 401 authentication)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# Magento's texts (lib/internal/Magento/Framework/Oauth and Integration/Model/Oauth/Token/Provider.php).
def version_rejected(version: str) -> OAuthProblem:
    return OAuthProblem(f'The "{version}" Oauth version isn\'t supported.', 400)


def parameters_absent(names: Sequence[str]) -> OAuthProblem:
    messages = [f'"{name}" is required. Enter and try again.' for name in names]
    if len(messages) == 1:
        return OAuthProblem(messages[0], 400)
    return OAuthProblem(", ".join(m.rstrip(".") for m in messages), 400)


def signature_method_rejected(method: str) -> OAuthProblem:
    return OAuthProblem(f"Signature method {method} is not supported", 400)


def nonce_used(consumer_id: int) -> OAuthProblem:
    return OAuthProblem(f"The nonce is already being used by the consumer with ID {consumer_id}", 401)


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


def no_token_for_consumer(consumer_id: int) -> OAuthProblem:
    return OAuthProblem(f"A token with consumer ID {consumer_id} does not exist", 401)


# ------------------------------------------------------------------------------------------ helpers


def _is_token_shaped(value: str, length: int = TOKEN_LENGTH) -> bool:
    return len(value) == length and value.isascii() and value.isalnum()


_dummy_ciphertexts: dict[int, str] = {}


def _decrypt_or_dummy(ciphertext: str | None) -> str:
    """Decrypt a stored secret, or a dummy one when there is none, so both paths cost the same."""
    box = secrets.box()
    if ciphertext is None:
        dummy = _dummy_ciphertexts.get(id(box))
        if dummy is None:
            dummy = _dummy_ciphertexts[id(box)] = box.encrypt("0" * TOKEN_LENGTH)
        return box.decrypt(dummy)
    return box.decrypt(ciphertext)


def _same(a: str, b: str) -> bool:
    """Constant-time equality (hmac's, in C: oauthlib's ``safe_string_equals`` loops in Python)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _flag(value: Any) -> bool:
    return str(value or "0").strip() in {"1", "true", "True"}


def _int(value: Any, default: str, *, positive: bool = False) -> int:
    try:
        number = int(str(value if value is not None else default).strip())
    except ValueError:
        number = int(default)
    if positive and number <= 0:
        return int(default)
    return number


def as_bool(value: Any) -> bool:
    return bool(value) and value not in {"0", "false", "f"}


def granted_resources(all_resources: Any, resources: Any) -> frozenset[str]:
    if as_bool(all_resources):
        return frozenset({ALL})
    if isinstance(resources, str):
        resources = json.loads(resources or "[]")
    return frozenset(resources or ())


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


def check_formats(params: OAuthParams, allow_hmac_sha1: bool) -> None:
    """Magento's remaining protocol checks that need no stored credentials, in its order."""
    token = params.token
    if token is not None and len(token) != TOKEN_LENGTH:
        raise OAuthProblem(TOKEN_LENGTH_INVALID, 400)
    method = params.get("oauth_signature_method") or ""
    if method != SIGNATURE_HMAC_SHA256 and not (method == SIGNATURE_HMAC_SHA1 and allow_hmac_sha1):
        raise signature_method_rejected(method)
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


# --------------------------------------------------------------------------------------- credentials

#: One indexed lookup for everything a signed request needs; always exactly one row, so that the config values
#: are there even when the consumer key is unknown.
_CREDENTIALS_SQL = (
    "SELECT c.id AS consumer_id, c.secret AS consumer_secret, c.exchange_started_at AS exchange_started_at, "
    "t.id AS token_id, t.consumer_id AS token_consumer_id, t.type AS token_type, t.secret AS token_secret, "
    "t.verifier AS token_verifier, t.revoked AS token_revoked, "
    "i.id AS integration_id, i.name AS integration_name, i.status AS integration_status, "
    "g.all_resources AS all_resources, g.resources AS resources, "
    "(SELECT value FROM core_config_data WHERE path = ?) AS allow_hmac_sha1, "
    "(SELECT value FROM core_config_data WHERE path = ?) AS consumer_expiration, "
    "(SELECT value FROM core_config_data WHERE path = ?) AS cleanup_probability, "
    "(SELECT value FROM core_config_data WHERE path = ?) AS cleanup_expiration "
    "FROM (SELECT 1 AS one) AS q "
    "LEFT JOIN oauth_consumer c ON c.key = ? "
    "LEFT JOIN integration i ON i.id = c.integration_id "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id "
    "LEFT JOIN oauth_token t ON t.token_hash = ?"
)


@dataclasses.dataclass(slots=True)
class Credentials:
    """What the database knows about the consumer key and token of one request (None: unknown)."""

    consumer_key: str
    consumer_id: int | None = None
    consumer_secret: str | None = None
    exchange_started_at: dt.datetime | None = None
    token_id: int | None = None
    token_consumer_id: int | None = None
    token_type: str | None = None
    token_secret: str | None = None
    token_verifier: str | None = None
    token_revoked: bool = False
    integration_id: int | None = None
    integration_name: str = ""
    integration_status: int | None = None
    resources: frozenset[str] = frozenset()
    allow_hmac_sha1: bool = False
    consumer_expiration_seconds: int = 300
    cleanup_probability: int = 100
    cleanup_expiration_minutes: int = 120

    @property
    def token_of_consumer(self) -> bool:
        return self.token_id is not None and self.consumer_id is not None and self.token_consumer_id == self.consumer_id

    def is_consumer(self, client_key: str) -> bool:
        return self.consumer_id is not None and _same(client_key, self.consumer_key)

    def access_token_usable(self, client_key: str) -> bool:
        return (
            self.is_consumer(client_key)
            and self.token_of_consumer
            and self.token_type == TYPE_ACCESS
            and not self.token_revoked
        )

    def principal(self) -> Principal:
        assert self.integration_id is not None
        return integration_principal(self.integration_id, self.integration_name, self.resources)


async def fetch_credentials(consumer_key: str, token: str | None) -> Credentials:
    row = await fetch_one(
        _CREDENTIALS_SQL,
        paths.ALLOW_HMAC_SHA1,
        paths.CONSUMER_EXPIRATION_PERIOD,
        paths.CLEANUP_PROBABILITY,
        paths.CLEANUP_EXPIRATION_PERIOD,
        consumer_key,
        hash_token(token) if token else "",
    )
    assert row is not None
    defaults = paths.DEFAULTS
    started = row["exchange_started_at"]
    return Credentials(
        consumer_key=consumer_key,
        consumer_id=row["consumer_id"],
        consumer_secret=row["consumer_secret"],
        exchange_started_at=as_datetime(started) if started else None,
        token_id=row["token_id"],
        token_consumer_id=row["token_consumer_id"],
        token_type=row["token_type"],
        token_secret=row["token_secret"],
        token_verifier=row["token_verifier"],
        token_revoked=as_bool(row["token_revoked"]),
        integration_id=row["integration_id"],
        integration_name=row["integration_name"] or "",
        integration_status=row["integration_status"],
        resources=granted_resources(row["all_resources"], row["resources"]),
        allow_hmac_sha1=_flag(row["allow_hmac_sha1"]),
        consumer_expiration_seconds=_int(
            row["consumer_expiration"], defaults[paths.CONSUMER_EXPIRATION_PERIOD], positive=True
        ),
        cleanup_probability=_int(row["cleanup_probability"], defaults[paths.CLEANUP_PROBABILITY]),
        cleanup_expiration_minutes=_int(
            row["cleanup_expiration"], defaults[paths.CLEANUP_EXPIRATION_PERIOD], positive=True
        ),
    )


# ------------------------------------------------------------------------------------------ validator


class SnapshotValidator(RequestValidator):
    """oauthlib's validator over credentials fetched beforehand: pure CPU, so oauthlib runs inline.

    Policy (timestamps, nonces, signature methods) is checked by ``check_formats`` before oauthlib runs and the
    nonce is recorded after it succeeds, so the hooks for those only say yes here.
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

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self.credentials = credentials
        self.issued: dict[str, str] | None = None
        self.verifier_matches = False

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        if self.credentials.allow_hmac_sha1:
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
        return _decrypt_or_dummy(self.credentials.consumer_secret if known else None)

    # Signed API calls.
    def _usable_access_token(self, client_key: str) -> bool:
        return self.credentials.access_token_usable(client_key)

    def validate_access_token(self, client_key: str, token: str, request: OAuthlibRequest) -> bool:
        return self._usable_access_token(client_key)

    def get_access_token_secret(self, client_key: str, token: str, request: OAuthlibRequest) -> str:
        usable = self._usable_access_token(client_key)
        return _decrypt_or_dummy(self.credentials.token_secret if usable else None)

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
        return _decrypt_or_dummy(self.credentials.token_secret if usable else None)

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: OAuthlibRequest) -> bool:
        usable = self._usable_request_token(client_key) and self.credentials.token_verifier is not None
        expected = _decrypt_or_dummy(self.credentials.token_verifier if usable else None)
        self.verifier_matches = usable and _same(expected, verifier)
        return self.verifier_matches

    def get_realms(self, token: str, request: OAuthlibRequest) -> list[str]:
        return []

    def save_access_token(self, token: dict[str, str], request: OAuthlibRequest) -> None:
        self.issued = dict(token)

    def invalidate_request_token(self, *args: Any, **kwargs: Any) -> None:
        """The request token row becomes the access token when the exchange is persisted."""


def oauthlib_headers(authorization: str, content_type: str | None) -> dict[str, str]:
    headers = {"Authorization": authorization}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


# ----------------------------------------------------------------------------------- signed API calls


@dataclasses.dataclass(frozen=True, slots=True)
class _Secrets:
    """What oauthlib's ``sign_*_with_client`` read."""

    client_secret: str
    resource_owner_secret: str


#: The base string URI of the few URLs signed calls come to (RFC 5849 section 3.4.1.2), parsed once each.
_base_string_uri = functools.lru_cache(maxsize=256)(oauth_signature.base_string_uri)

_SIGNERS = {
    SIGNATURE_HMAC_SHA256: oauth_signature.sign_hmac_sha256_with_client,
    SIGNATURE_HMAC_SHA1: oauth_signature.sign_hmac_sha1_with_client,
}


def signature_matches(params: OAuthParams, method: str, uri: str, secrets_: _Secrets) -> bool:
    """RFC 5849 section 3.4 computed with oauthlib's signature functions, over the parameters read once.

    This is what oauthlib's ``ResourceEndpoint`` does once its checks have passed; those checks (protocol
    parameters, signature method, timestamp, nonce, key and token formats) are made before, by
    ``check_required`` and ``check_formats``, and the credentials by ``authenticate_signed_request``.
    Going straight to the signature skips the endpoint's second parsing of the request, which was most
    of the cost of a signed API call.
    """
    sign = _SIGNERS.get(params.get("oauth_signature_method") or "")
    if sign is None:
        return False
    try:
        base = oauth_signature.signature_base_string(
            method, _base_string_uri(uri), oauth_signature.normalize_parameters(list(params.signed))
        )
    except ValueError:
        return False
    received = oauth_utils.unescape(params.get("oauth_signature") or "")
    return _same(sign(base, secrets_), received)


async def authenticate_signed_request(
    uri: str, method: str, authorization: str, content_type: str | None, form_body: str
) -> Principal:
    """The integration behind an OAuth-signed API call, or ``OAuthProblem`` saying why not."""
    params = read_params(authorization, uri.partition("?")[2], form_body)
    check_required(params, REQUIRED_RESOURCE)
    creds = await fetch_credentials(params.consumer_key, params.token)
    check_formats(params, creds.allow_hmac_sha1)
    # Unknown consumers and unusable tokens are checked against dummy secrets, so that they take as long.
    known_consumer = creds.is_consumer(params.consumer_key)
    usable_token = creds.access_token_usable(params.consumer_key)
    valid = signature_matches(
        params,
        method,
        uri,
        _Secrets(
            _decrypt_or_dummy(creds.consumer_secret if known_consumer else None),
            _decrypt_or_dummy(creds.token_secret if usable_token else None),
        ),
    )
    valid = valid and known_consumer and usable_token
    if creds.consumer_id is None:
        raise OAuthProblem(CONSUMER_NOT_FOUND)
    if creds.token_id is None:
        raise OAuthProblem(TOKEN_NOT_FOUND)
    if not creds.token_of_consumer:
        raise OAuthProblem(TOKEN_NOT_OF_CONSUMER)
    if creds.token_type != TYPE_ACCESS:
        raise OAuthProblem(NOT_AN_ACCESS_TOKEN)
    if creds.token_revoked:
        raise OAuthProblem(TOKEN_REVOKED)
    if not valid:
        raise OAuthProblem(SIGNATURE_INVALID)
    if creds.integration_status != STATUS_ACTIVE:
        raise OAuthProblem(INTEGRATION_INACTIVE)
    await record_nonce(creds, params)
    return creds.principal()


# ------------------------------------------------------------------------------------------- nonces

_NONCE_INSERT = "INSERT INTO oauth_nonce (consumer_id, nonce, timestamp) VALUES (?, ?, ?)"
#: PostgreSQL: the insert commits without waiting for its WAL flush. ``set_config(..., true)`` is the function form of
#: ``SET LOCAL``: it holds for this statement's own transaction only, in one round trip instead of four
#: (BEGIN, SET LOCAL, INSERT, COMMIT). A nonce lost in a database crash only reopens a window that the
#: timestamp check closes within 600 s.
_NONCE_INSERT_POSTGRES = (
    "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO oauth_nonce (consumer_id, nonce, timestamp) SELECT ?, ?, ? FROM relaxed"
)


async def record_nonce(creds: Credentials, params: OAuthParams) -> None:
    """Store the nonce once the request is otherwise valid; a duplicate (any worker) is a replay."""
    assert creds.consumer_id is not None
    nonce = params.get("oauth_nonce") or ""
    timestamp = int(params.get("oauth_timestamp") or 0)
    sql = _NONCE_INSERT_POSTGRES if dialect() == "postgres" else _NONCE_INSERT
    try:
        await execute(sql, creds.consumer_id, nonce, timestamp)
    except IntegrityError:
        raise nonce_used(creds.consumer_id) from None
    if _cleanup_due(creds.cleanup_probability):
        await delete_old_nonces(creds.cleanup_expiration_minutes)


def _cleanup_due(probability: int) -> bool:
    """Magento's cleanup: a 1-in-X chance on each save (0 turns it off)."""
    return probability > 0 and random.randrange(probability) == 0


async def delete_old_nonces(expiration_minutes: int) -> int:
    """Remove nonces older than the cleanup period, never ones whose timestamp could still be accepted."""
    keep_seconds = max(expiration_minutes * 60, 2 * TIMESTAMP_LIFETIME)
    cutoff = int(clock.time()) - keep_seconds
    return await OAuthNonce.filter(timestamp__lte=cutoff).delete()


async def delete_expired_request_tokens(expiration_minutes: int) -> int:
    cutoff = clock.now() - dt.timedelta(minutes=expiration_minutes)
    return await OAuthToken.filter(type=TYPE_REQUEST, created_at__lte=cutoff).delete()


async def maybe_delete_expired_request_tokens(creds: Credentials) -> None:
    if _cleanup_due(creds.cleanup_probability):
        await delete_expired_request_tokens(creds.cleanup_expiration_minutes)


def form_body_of(content_type: str | None, body: bytes) -> str:
    """The body as oauthlib should see it: only form-encoded bodies are part of the signature."""
    if content_type and content_type.lower().startswith("application/x-www-form-urlencoded"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise OAuthProblem(BODY_MALFORMED, 400) from None
    return ""
