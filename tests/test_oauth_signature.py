"""Signed API calls are verified with oauthlib's signature functions directly
(``auth.oauth.signed_requests.signature_matches``).

These tests hold that check to oauthlib's own ``ResourceEndpoint`` verdict on the same requests, valid and
tampered, and show a realm-carrying request accepted end to end.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client, RequestValidator, ResourceEndpoint

from auth.oauth import params, signed_requests
from tests.support.oauth import GRAPHQL_URL, VIEWER, make_integration

KEY, SECRET, TOKEN, TOKEN_SECRET = "k" * 32, "consumer-secret", "t" * 32, "token-secret"
URL = "https://store.example.com:8443/graphql"


class FixedSecrets(RequestValidator):
    """Accepts everything but the signature, so the endpoint's verdict is the signature's."""

    enforce_ssl = False
    allowed_signature_methods = (SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1)
    timestamp_lifetime = 10**9
    client_key_length = access_token_length = (32, 32)
    dummy_client = dummy_access_token = "0" * 32

    @property
    def realms(self) -> list[str]:
        return []

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def validate_client_key(self, *args: Any) -> bool:
        return True

    def validate_access_token(self, *args: Any) -> bool:
        return True

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_client_secret(self, *args: Any) -> str:
        return SECRET

    def get_access_token_secret(self, *args: Any) -> str:
        return TOKEN_SECRET


def _sign(url: str, method: str, form: str | None, **client: Any) -> dict[str, str]:
    signer = Client(
        KEY,
        client_secret=SECRET,
        resource_owner_key=TOKEN,
        resource_owner_secret=TOKEN_SECRET,
        signature_method=client.pop("signature_method", SIGNATURE_HMAC_SHA256),
        **client,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    _uri, signed, _body = signer.sign(url, method, body=form, headers=headers)
    return dict(signed)


def _verdicts(url: str, method: str, form: str | None, headers: dict[str, str]) -> tuple[bool, bool]:
    body = form or ""
    content_type = "application/x-www-form-urlencoded" if form is not None else "application/json"
    endpoint, _request = ResourceEndpoint(FixedSecrets()).validate_protected_resource_request(
        url, http_method=method, body=body, headers={**headers, "Content-Type": content_type}
    )
    oauth_params = params.read_params(headers["Authorization"], url.partition("?")[2], body if form is not None else "")
    secrets = signed_requests._Secrets(SECRET, TOKEN_SECRET)
    direct = signed_requests.signature_matches(oauth_params, method, url, secrets)
    return endpoint, direct


CASES = [
    pytest.param(URL, "POST", None, {}, id="json-post"),
    pytest.param(URL + "?query=%7B%20viewer%20%7D&b=2&a=1&a=0", "GET", None, {}, id="query-repeated-names"),
    pytest.param(URL + "?q=caf%C3%A9%20%2B%20%26", "GET", None, {}, id="query-escapes-and-unicode"),
    pytest.param(URL, "POST", urllib.parse.urlencode({"query": "{ viewer { kind } }", "x": "a b"}), {}, id="form"),
    pytest.param(URL, "POST", None, {"realm": "Store API"}, id="realm"),
    pytest.param(URL, "POST", None, {"signature_method": SIGNATURE_HMAC_SHA1}, id="hmac-sha1"),
    pytest.param("http://127.0.0.1:80/graphql", "post", None, {}, id="default-port-lowercase-method"),
]


@pytest.mark.parametrize(("url", "method", "form", "client"), CASES)
def test_signature_check_agrees_with_oauthlibs_endpoint(
    url: str, method: str, form: str | None, client: dict[str, Any]
) -> None:
    headers = _sign(url, method.upper(), form, **client)
    assert _verdicts(url, method, form, headers) == (True, True)

    other_url = url.replace("/graphql", "/graphql2")
    assert _verdicts(other_url, method, form, headers) == (False, False)
    assert _verdicts(url, "PUT", form, headers) == (False, False)
    if form is not None:
        assert _verdicts(url, method, form + "&extra=1", headers) == (False, False)
    tampered = headers["Authorization"].replace('oauth_nonce="', 'oauth_nonce="0', 1)
    assert _verdicts(url, method, form, {"Authorization": tampered}) == (False, False)


async def test_a_request_signed_with_a_realm_is_accepted(client: httpx.AsyncClient) -> None:
    creds = await make_integration()
    _uri, signed, _body = creds.client(realm="Store API").sign(GRAPHQL_URL, "POST")
    response = await client.post(GRAPHQL_URL, json={"query": VIEWER}, headers=dict(signed))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["kind"] == "INTEGRATION"
