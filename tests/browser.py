"""Driving the admin console in Debian's Chromium with Playwright (tests and the screenshot script).

Playwright is told to use the system ``chromium``; its own browser download is never used.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import httpx

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

DESKTOP = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    return shutil.which("chromium")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def first_admin_password(server: Any) -> str:
    """The password the server printed when it created the first admin account."""
    match = re.search(r"username: admin\s+password: (\S+)", server.output())
    assert match, server.output()
    return match.group(1)


class Api:
    """GraphQL over HTTP against a running server, as the admin (or anonymously)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    @classmethod
    def sign_in(cls, base_url: str, username: str, password: str) -> Api:
        api = cls(base_url)
        data = api(
            "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }",
            {"u": username, "p": password},
        )
        api.token = data["generateAdminToken"]["token"]
        return api

    def post(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> httpx.Response:
        token = token if token is not None else self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]

    def create_integration(self, **fields: Any) -> dict[str, Any]:
        data = self(
            "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) {"
            " integration { id name status } userErrors { field message code } } }",
            {"input": fields},
        )["createIntegration"]
        assert not data["userErrors"], data
        return data["integration"]

    def integration(self, id: str) -> dict[str, Any] | None:
        return self(
            "query($id: ID!) { integration(id: $id) { id name email callbackUrl identityLinkUrl status"
            " resourceAccess resources isSecure isTokenExchange"
            " credentials { consumerKey consumerSecret accessToken accessTokenSecret } } }",
            {"id": id},
        )["integration"]


def sign_in(page: Any, base_url: str, password: str, username: str = "admin") -> None:
    page.goto(f"{base_url}/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Integrations", exact=True).wait_for()
