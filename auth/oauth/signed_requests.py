"""Signed API calls (``Authorization: OAuth ...`` on /graphql): the integration behind one, or why not.

This is the hot path of every integration's API call, so it does not go through oauthlib's
``ResourceEndpoint``: the parameters are read once (``params.read_params``), checked in Magento's order,
the credentials come from one query (``credentials.fetch_credentials``), and the signature is computed
with oauthlib's own signature functions (``signature_matches``). Unknown consumers and unusable tokens are
checked against dummy secrets, so they take as long as known ones; the nonce is recorded last.
"""

from __future__ import annotations

import dataclasses
import functools

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from auth.oauth.credentials import decrypt_or_dummy, fetch_credentials, overlap_secret, same
from auth.oauth.nonces import record_nonce
from auth.oauth.params import (
    REQUIRED_RESOURCE,
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    OAuthParams,
    check_formats,
    check_required,
    read_params,
)
from auth.oauth.problems import (
    CONSUMER_NOT_FOUND,
    INTEGRATION_INACTIVE,
    NOT_AN_ACCESS_TOKEN,
    OAUTH1_NOT_ALLOWED,
    SIGNATURE_INVALID,
    TOKEN_NOT_FOUND,
    TOKEN_NOT_OF_CONSUMER,
    TOKEN_REVOKED,
    OAuthProblem,
)
from auth.oauth.tokens import TYPE_ACCESS
from auth.principal import Principal
from models.integration import STATUS_ACTIVE


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
    return same(sign(base, secrets_), received)


async def authenticate_signed_request(
    uri: str, method: str, authorization: str, content_type: str | None, form_body: str
) -> Principal:
    """The integration behind an OAuth-signed API call, or ``OAuthProblem`` saying why not."""
    params = read_params(authorization, uri.partition("?")[2], form_body)
    check_required(params, REQUIRED_RESOURCE)
    creds = await fetch_credentials(params.consumer_key, params.token)
    check_formats(params, creds.config.allow_hmac_sha1)
    # Unknown consumers and unusable tokens are checked against dummy secrets, so that they take as long.
    known_consumer = creds.is_consumer(params.consumer_key)
    usable_token = creds.access_token_usable(params.consumer_key)
    valid = signature_matches(
        params,
        method,
        uri,
        _Secrets(
            decrypt_or_dummy(creds.consumer_secret if known_consumer else None),
            decrypt_or_dummy(creds.token_secret if usable_token else None),
        ),
    )
    if not valid and known_consumer and usable_token:
        # During a rotation's overlap the previous consumer secret signs too.
        previous = overlap_secret(creds.previous_secret, creds.previous_secret_expires_at)
        if previous is not None:
            token_secret = decrypt_or_dummy(creds.token_secret)
            valid = signature_matches(params, method, uri, _Secrets(previous, token_secret))
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
    if not creds.allow_oauth1:
        raise OAuthProblem(OAUTH1_NOT_ALLOWED)
    await record_nonce(creds, params)
    return creds.principal()
