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


FORWARDED_CASES = [
    [],
    [(b"x-forwarded-proto", b"https")],
    [(b"x-forwarded-proto", b" wss "), (b"x-forwarded-proto", b"http")],
    [(b"x-forwarded-proto", b"gopher")],
    [(b"x-forwarded-for", b"198.51.100.7")],
    [(b"x-forwarded-for", b"198.51.100.7:4321, 10.0.0.2"), (b"x-forwarded-for", b"127.0.0.1")],
    [(b"x-forwarded-for", b"[2001:db8::1]:80, 10.1.2.3")],
    [(b"x-forwarded-for", b"")],
    [(b"x-forwarded-host", b"api.example.com, backend"), (b"x-forwarded-host", b"second.example")],
    [(b"x-forwarded-host", b"evil.example/path")],
    [(b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-host", b"shop.test")],
]


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.1, 10.0.0.0/8", "*", "192.0.2.1"])
@pytest.mark.parametrize("forwarded", FORWARDED_CASES)
@pytest.mark.parametrize("kind", ["http", "websocket"])
async def test_forwarded_headers_are_read_as_uvicorn_reads_them(
    trusted: str, forwarded: list[tuple[bytes, bytes]], kind: str
) -> None:
    """The app reads X-Forwarded-Proto/-For itself, in one pass with -Host: the scheme and client it arrives
    at are the ones uvicorn's own ProxyHeadersMiddleware would give, and -Host only from a trusted peer."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from auth.proxy import TrustedProxyMiddleware

    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    def request() -> dict[str, Any]:
        headers = [(b"host", b"backend:8000"), (b"accept", b"*/*"), *forwarded]
        scheme = "ws" if kind == "websocket" else "http"
        return {"type": kind, "scheme": scheme, "client": ("127.0.0.1", 5555), "headers": headers}

    await TrustedProxyMiddleware(app, trusted_hosts=trusted)(request(), None, None)  # type: ignore[arg-type]
    await ProxyHeadersMiddleware(app, trusted_hosts=trusted)(request(), None, None)  # type: ignore[arg-type]
    ours, uvicorns = seen
    assert (ours["scheme"], ours["client"]) == (uvicorns["scheme"], uvicorns["client"])
    hosts = [value for name, value in ours["headers"] if name == b"host"]
    forwarded_host = next((value for name, value in forwarded if name == b"x-forwarded-host"), None)
    if trusted == "192.0.2.1" or forwarded_host is None or b"/" in forwarded_host:
        assert hosts == [b"backend:8000"]
    else:
        assert hosts == [forwarded_host.split(b",")[0].strip()]
