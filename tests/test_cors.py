"""CORS for single-page apps on other origins (``CORS_ALLOW_*``, ``CORS_MAX_AGE``): Apollo Client's preflight
passes from an allowed origin; any other origin gets no CORS header; a misconfigured origin stops the server
at start with one line."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from settings import Settings, parse_cors_origins
from tests.support.graphql import PATH, asgi_client
from tests.support.principals import serving
from tests.support.servers import free_port, run_cli

SPA = "https://spa.example.com"
APOLLO_HEADERS = "apollographql-client-name, apollographql-client-version, authorization, content-type"


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app allowing the SPA's origin, written as an operator might (upper case, a trailing slash)."""
    origins = parse_cors_origins("https://SPA.Example.com/, http://localhost:5173", allow_credentials=False)
    async with serving(dataclasses.replace(settings, cors_allow_origins=origins)) as app, asgi_client(app) as c:
        yield c


def preflight(origin: str, headers: str = APOLLO_HEADERS) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST", "access-control-request-headers": headers}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


async def test_apollo_preflight_from_an_allowed_origin_passes(http: httpx.AsyncClient) -> None:
    response = await http.options(PATH, headers=preflight(SPA, f"{APOLLO_HEADERS}, x-request-id"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id", "apollographql-client-name"} <= allowed
    assert response.headers["access-control-max-age"] == "600"

    answer = await http.post(PATH, json={"query": "{ __typename }"}, headers={"origin": SPA})
    assert answer.json()["data"] == {"__typename": "Query"}
    assert "errors" not in answer.json()
    assert answer.headers["access-control-allow-origin"] == SPA
    assert "Retry-After" in answer.headers["access-control-expose-headers"]


async def test_other_origins_get_no_cors_headers(http: httpx.AsyncClient) -> None:
    for origin in ("https://evil.example.com", "https://spa.example.com:8443", "http://spa.example.com"):
        response = await http.options(PATH, headers=preflight(origin))
        assert response.status_code == 400
        assert cors_headers(response) == {}, origin
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        answer = await http.post(PATH, json={"query": "{ __typename }"}, headers={"origin": origin})
        assert answer.status_code == 200
        assert cors_headers(answer) == {}, origin
        assert "Origin" in answer.headers["vary"]


async def test_headers_and_max_age_come_from_the_settings(settings: Settings) -> None:
    changed = dataclasses.replace(
        settings, cors_allow_origins=(SPA,), cors_allow_headers=("Authorization", "Content-Type"), cors_max_age=60
    )
    async with serving(changed) as app, asgi_client(app) as http:
        plain = await http.options(PATH, headers=preflight(SPA, "authorization, content-type"))
        assert (plain.status_code, plain.headers["access-control-max-age"]) == (200, "60")
        apollo = await http.options(PATH, headers=preflight(SPA))
        assert apollo.status_code == 400
        assert apollo.headers["access-control-allow-origin"] == SPA  # the browser may read why
        assert "headers" in apollo.json()["errors"][0]["message"]


@pytest.mark.once
@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CORS_ALLOW_ORIGINS": "https://ok.example.com, spa.example.com"},
            "CORS_ALLOW_ORIGINS: 'spa.example.com' is not an origin (scheme://host[:port], e.g. https://app.example.com)",
        ),
        (
            {"CORS_ALLOW_ORIGINS": "https://spa.example.com/app"},
            "CORS_ALLOW_ORIGINS: 'https://spa.example.com/app' is not an origin"
            " (scheme://host[:port], e.g. https://app.example.com)",
        ),
        (
            {"CORS_ALLOW_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "1"},
            "CORS_ALLOW_ORIGINS=* cannot be used with CORS_ALLOW_CREDENTIALS=1 (browsers refuse it):"
            " list the origins instead",
        ),
        ({"CORS_MAX_AGE": "-1"}, "CORS_MAX_AGE must be 0 or more, got -1"),
        ({"CORS_ALLOW_HEADERS": "Authorization, X Bad"}, "CORS_ALLOW_HEADERS: 'X Bad' is not an HTTP header name"),
    ],
)
def test_a_misconfigured_cors_setting_stops_the_server_with_one_line(
    database_url: str, env: dict[str, str], line: str
) -> None:
    result = run_cli("serve", "--port", str(free_port()), env={"DATABASE_URL": database_url, **env})
    assert result.returncode == 1
    assert result.stderr.strip() == line
    assert result.stdout == ""
