"""Text no database can store (NUL, unpaired surrogates) is a client error, never a server error.

Found by fuzzing on PostgreSQL: ``order(incrementId: "t\\u0000")`` reached the database and failed there.
"""

from __future__ import annotations

import json

import httpx

from tests.support.graphql import GraphQLClient
from tests.support.principals import ADMIN_PASSWORD

ORDER = '{ order(incrementId: "t4\\u0000") { incrementId } }'
CREATE = """mutation($n: String!, $p: String) {
  createIntegration(input: {name: $n, currentPassword: $p}) { integration { id } userErrors { code } } }"""
COUNT = "{ integrations(first: 10) { edges { node { name } } } }"


async def test_nul_in_a_string_argument_is_bad_user_input(admin: GraphQLClient) -> None:
    body = await admin.query(ORDER)
    assert body["data"] is None and admin.error_codes(body) == ["BAD_USER_INPUT"], body
    assert "NUL" in body["errors"][0]["message"]


async def test_nul_or_lone_surrogate_in_variables_is_refused_and_nothing_is_written(
    admin: GraphQLClient, client: httpx.AsyncClient
) -> None:
    for name in ("a\x00b", "a\ud800b", "\udfff"):
        raw = json.dumps(
            {"query": CREATE, "variables": {"n": name, "p": ADMIN_PASSWORD}}
        )  # JSON escapes the surrogate as \\udxxx
        response = await client.post(
            "/graphql",
            content=raw.encode(),
            headers={"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert admin.error_codes(response.json()) == ["BAD_USER_INPUT"], response.text
    listed = await admin.query(COUNT)
    assert listed["data"]["integrations"]["edges"] == []


async def test_ordinary_unicode_still_works(admin: GraphQLClient) -> None:
    body = await admin.query(CREATE, {"n": "Über 中文 \U0001f600", "p": ADMIN_PASSWORD})
    assert body["data"]["createIntegration"]["userErrors"] == [], body
