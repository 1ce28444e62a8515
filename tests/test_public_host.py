"""The store answers only for its own hosts: a forged or malformed Host never reaches a signature check or a
redirect, and never gives a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auth.proxy import HOST_NOT_ALLOWED, PublicOrigins
from tests.support.oauth import VIEWER, gql_problem, make_integration, sign

BAD_HOSTS = ["[", "[::1", "127.0.0.1:99999", "evil.example", "store.test.evil.example", "store.test:81"]


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", ["/oauth/token/request", "/oauth/token/access"])
async def test_token_endpoints_refuse_another_host_cleanly(client: httpx.AsyncClient, host: str, path: str) -> None:
    made_up = {
        "Authorization": 'OAuth oauth_consumer_key="abcdefghijklmnopqrstuvwxyz012345", oauth_nonce="n", '
        'oauth_signature="x", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1", oauth_version="1.0"',
        "Host": host,
    }
    response = await client.post(path, headers=made_up)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert httpx.QueryParams(response.text)["oauth_problem"] == HOST_NOT_ALLOWED


@pytest.mark.parametrize("host", BAD_HOSTS)
async def test_signed_graphql_for_another_host_is_refused(client: httpx.AsyncClient, host: str) -> None:
    creds = await make_integration()
    url = f"http://{host}/graphql" if host == "evil.example" else "http://testserver/graphql"
    signed = sign(creds.client(), url)
    response = await client.post("/graphql", json={"query": VIEWER}, headers={**signed, "Host": host})
    assert response.status_code == 401, response.text
    assert gql_problem(response.json()) == HOST_NOT_ALLOWED
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_signed_graphql_for_the_store_base_url_is_accepted(client: httpx.AsyncClient) -> None:
    creds = await make_integration()
    signed = sign(creds.client(), "http://store.test/graphql")
    response = await client.post("/graphql", json={"query": VIEWER}, headers={**signed, "Host": "store.test"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["kind"] == "INTEGRATION"


@pytest.mark.parametrize("path", ["/admin", "/graphql/", "/healthz/"])
async def test_redirects_use_the_store_base_url_not_the_host_header(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Host": "evil.example"})
    assert 300 <= response.status_code < 400, (response.status_code, response.text)
    location = response.headers["location"]
    assert location.startswith("http://store.test/"), location
    assert "evil" not in location


def test_public_origins_normalise_default_ports_and_case() -> None:
    origins = PublicOrigins("https://Shop.Example/", ["api.shop.example:8443"])
    scope: dict[str, Any] = {"type": "http", "scheme": "https", "path": "/graphql", "query_string": b"a=1"}
    for host, expected in [
        ("shop.example", "https://shop.example/graphql?a=1"),
        ("SHOP.example:443", "https://SHOP.example:443/graphql?a=1"),
        ("api.shop.example:8443", "https://api.shop.example:8443/graphql?a=1"),
    ]:
        assert origins.url_of({**scope, "headers": [(b"host", host.encode())]}) == expected
    for host in ["shop.example:80", "api.shop.example", "", "[", "shop.example.evil"]:
        with pytest.raises(Exception, match="host the store does not answer to"):
            origins.url_of({**scope, "headers": [(b"host", host.encode())]})
