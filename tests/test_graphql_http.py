"""GraphQL over HTTP as the specification's clients rely on it: media types, status codes, and a JSON error
with a code for every refusal (``schema.view``); the ``graphql-http`` audit suite against a real server."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings
from tests.support.graphql import PATH, SyncGraphQLClient, asgi_client
from tests.support.principals import ADMIN_PASSWORD, serving
from tests.support.servers import run_cli

GRAPHQL_RESPONSE = "application/graphql-response+json"
#: What Apollo Client 3 sends (its HttpLink default); Apollo Client 4 prefers the new type.
APOLLO_3_ACCEPT = "*/*"
APOLLO_4_ACCEPT = "application/graphql-response+json,application/json;q=0.9"


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


async def post(client: httpx.AsyncClient, body: Any, accept: str | None = GRAPHQL_RESPONSE, **headers: str) -> Any:
    sent = {"accept": accept} if accept else {}
    return await client.post(PATH, json=body, headers={**sent, **headers})


async def test_the_new_media_type_is_answered_when_the_client_prefers_it(client: httpx.AsyncClient) -> None:
    for accept in (GRAPHQL_RESPONSE, APOLLO_4_ACCEPT):
        response = await post(client, {"query": "{ viewer { kind } }"}, accept)
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        assert response.json()["data"] == {"viewer": {"kind": "GUEST"}}
        assert set(response.json()) == {"data", "extensions"}  # extensions.cost
    for accept in (APOLLO_3_ACCEPT, "application/json", None, "text/html, application/json;q=0.5"):
        response = await post(client, {"query": "{ viewer { kind } }"}, accept)
        assert (response.status_code, response.headers["content-type"]) == (200, "application/json"), accept


@pytest.mark.parametrize(
    ("query", "variables", "operation", "code"),
    [
        ("{ viewer { kind }", None, None, "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", None, None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: String!) { __type(name: $n) { name } }", {"n": None}, None, "BAD_USER_INPUT"),
        ("query A { viewer { kind } }", None, "B", "BAD_REQUEST"),
    ],
)
async def test_request_errors_are_400_without_data_for_the_new_type_and_200_for_json(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, operation: str | None, code: str
) -> None:
    body = {"query": query, "variables": variables, "operationName": operation}
    response = await post(client, body)
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    assert codes(response) == [code]
    legacy = await post(client, body, APOLLO_3_ACCEPT)
    if code == "BAD_REQUEST":  # no operation to run at all: an HTTP-level refusal for every client
        assert (legacy.status_code, codes(legacy)) == (400, [code])
    else:
        assert legacy.status_code == 200
        assert legacy.json()["data"] is None
        assert codes(legacy) == [code]


async def test_a_field_error_keeps_data_and_200(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ viewer { kind } resourceTree { id } }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"viewer": {"kind": "GUEST"}, "resourceTree": None}
    assert body["errors"][0]["path"] == ["resourceTree"]


async def test_each_limit_has_its_own_code(client: httpx.AsyncClient, settings: Settings) -> None:
    deep = "{ resourceTree " + "{ children " * 15 + "{ id }" + " }" * 15 + " }"
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(settings.max_aliases + 1)) + " }"
    tokens = "{ " + "__typename " * settings.max_tokens + "}"
    for query, code in (
        (deep, "MAX_DEPTH_EXCEEDED"),
        (aliases, "MAX_ALIASES_EXCEEDED"),
        (tokens, "MAX_TOKENS_EXCEEDED"),
    ):
        response = await post(client, {"query": query})
        assert (response.status_code, codes(response)) == (400, [code])
        assert (await post(client, {"query": query}, "application/json")).status_code == 200
    within = "{ " + " ".join(f"a{i}: __typename" for i in range(settings.max_aliases)) + " }"
    assert (await post(client, {"query": within})).status_code == 200

    too_large = {"query": "{ __typename }", "padding": "x" * settings.max_body_bytes}
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await post(client, too_large, accept)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith(accept)
        assert codes(response) == ["REQUEST_TOO_LARGE"]


async def test_a_mutation_over_get_is_405_allowing_post(client: httpx.AsyncClient) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await client.get(PATH, params={"query": "mutation { __typename }"}, headers={"accept": accept})
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.headers["content-type"].startswith(accept)
        assert codes(response) == ["METHOD_NOT_ALLOWED"]
    query = await client.get(PATH, params={"query": "{ viewer { kind } }"}, headers={"accept": GRAPHQL_RESPONSE})
    assert query.json()["data"] == {"viewer": {"kind": "GUEST"}}
    other = await client.put(PATH, json={"query": "{ __typename }"})
    assert (other.status_code, other.headers["allow"], codes(other)) == (405, "GET, POST", ["METHOD_NOT_ALLOWED"])


async def test_refusals_before_graphql_are_json_with_a_code(client: httpx.AsyncClient) -> None:
    cases = [
        ({"content": "query=%7B__typename%7D", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415),
        ({"content": "{ __typename }", "headers": {"content-type": "application/graphql"}}, 415),
        ({"content": b""}, 415),
        ({"content": '{"query": "{ __typename }"', "headers": {"content-type": "application/json"}}, 400),
        ({"json": {"notquery": "{ __typename }"}}, 400),
        ({"json": {"query": {"an": "object"}}}, 400),
        ({"json": {"query": "{ __typename }", "variables": "a string"}}, 400),
        ({"json": {"query": "{ __typename }", "operationName": 0}}, 400),
    ]
    for request, status in cases:
        response = await client.post(PATH, **request)
        assert response.status_code == status, (request, response.text)
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["message"]
        expected = "UNSUPPORTED_MEDIA_TYPE" if status == 415 else "BAD_REQUEST"
        assert codes(response) == [expected], request


async def test_bad_credentials_stay_401_in_the_media_type_the_client_asked_for(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ __typename }"}, authorization="Bearer not-a-token")
    assert response.status_code == 401
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "data" not in response.json()  # the operation never ran
    assert codes(response) == ["UNAUTHENTICATED"]
    legacy = await post(client, {"query": "{ __typename }"}, APOLLO_3_ACCEPT, authorization="Bearer not-a-token")
    assert (legacy.status_code, legacy.headers["content-type"]) == (401, "application/json")
    assert legacy.json()["data"] is None
    assert codes(legacy) == ["UNAUTHENTICATED"]


async def test_graphiql_switched_off_is_a_json_404(settings: Settings) -> None:
    async with serving(dataclasses.replace(settings, graphiql=False)) as app, asgi_client(app) as http:
        response = await http.get(PATH, headers={"accept": "text/html"})
        assert (response.status_code, codes(response)) == (404, ["NOT_FOUND"])


# ------------------------------------------------------------------------------------------------- audit

AUDIT_SCRIPT = """
const { auditServer } = require('graphql-http');
const [url, authorization] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  if (authorization) headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
};
auditServer({ url, fetchFn }).then((results) => {
  process.stdout.write(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
});
"""


def install_graphql_http(folder: Path) -> None:
    """``graphql-http`` 1.22 (else the latest 1.x) in ``folder``; skips the test when npm cannot install."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are needed to run the graphql-http audit")
    (folder / "package.json").write_text('{"private": true}')
    for spec in ("graphql-http@1.22", "graphql-http@1"):
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", spec, "graphql@16"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if installed.returncode == 0:
            return
    pytest.skip(f"npm could not install graphql-http (no registry?): {installed.stderr.strip()[-300:]}")


def audit(folder: Path, url: str, authorization: str | None = None) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", "audit.js", url, *([authorization] if authorization else [])],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.once
def test_graphql_http_audit_passes_as_guest_and_as_admin(
    tmp_path: Path, database_url: str, server_factory: Any
) -> None:
    folder = tmp_path / "audit"
    folder.mkdir()
    install_graphql_http(folder)
    (folder / "audit.js").write_text(AUDIT_SCRIPT)
    env = {"DATABASE_URL": database_url}
    assert run_cli("create-admin", "--username", "auditor", "--password", ADMIN_PASSWORD, env=env).returncode == 0
    server = server_factory(env)
    url = f"{server.base_url}{PATH}"
    admin = SyncGraphQLClient(server.base_url).sign_in("auditor", ADMIN_PASSWORD)
    for authorization in (None, f"Bearer {admin.token}"):
        results = audit(folder, url, authorization)
        assert len(results) >= 50, results
        failed = [r for r in results if r["status"] != "ok"]
        assert failed == [], (authorization is not None, failed)
