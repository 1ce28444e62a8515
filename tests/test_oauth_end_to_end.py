"""End to end: the real server and the reference third-party app as separate processes on loopback ports.

An admin creates and activates a token-exchange integration through GraphQL; the store POSTs the credentials to
the app; the admin's browser follows the identity link and presses "Link account"; the app completes the OAuth
1.0a exchange and then reads products with signed requests, while orders (not granted) are refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.support.graphql import SyncGraphQLClient
from tests.support.servers import ROOT, ThirdPartyApp, free_port, run_cli, running

ADMIN_PASSWORD = "e2e-admin-password"
ENCRYPTION_KEY = "end-to-end-test-key"


class FormParser(HTMLParser):
    """The first form of a page: its action and its input values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: list[str] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")
        elif tag == "button":
            self._in_button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button and data.strip():
            self.buttons.append(data.strip())


@pytest.fixture
def third_party_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The example app in its own process; yields its base URL and its state file."""
    state = tmp_path / "third_party_state.json"
    with running(ThirdPartyApp(state)) as app:
        yield app.base_url, state


def test_third_party_app_links_and_reads_only_what_it_was_granted(
    database_url: str, server_factory: Any, third_party_app: tuple[str, Path]
) -> None:
    app_url, state_file = third_party_app
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEY": ENCRYPTION_KEY}
    assert run_cli("create-admin", "--username", "admin", "--password", ADMIN_PASSWORD, env=env).returncode == 0
    seeded = run_cli("seed-demo", env=env)
    assert seeded.returncode == 0, seeded.stderr
    port = free_port()
    store_url = f"http://127.0.0.1:{port}"
    server = server_factory(
        {**env, "ALLOW_PRIVATE_CALLBACKS": "1", "STORE_BASE_URL": f"{store_url}/"},
        port=port,
    )

    admin = SyncGraphQLClient(store_url, timeout=30).sign_in("admin", ADMIN_PASSWORD)

    created = admin.data(
        "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) "
        "{ integration { id status isTokenExchange } userErrors { message } } }",
        {
            "input": {
                "name": "Demo app",
                "email": "dev@example.com",
                "callbackUrl": f"{app_url}/callback",
                "identityLinkUrl": f"{app_url}/login",
                "resourceAccess": "CUSTOM",
                "resources": ["Magento_Catalog::products"],
                "currentPassword": ADMIN_PASSWORD,
            }
        },
    )["createIntegration"]
    assert created["userErrors"] == []
    integration = created["integration"]
    assert integration["status"] == "INACTIVE" and integration["isTokenExchange"] is True

    authorized = admin.data(
        "mutation($id: ID!, $p: String) { authorizeIntegration(id: $id, currentPassword: $p) "
        "{ integration { status } identityLinkUrl successCallbackUrl userErrors { code message } } }",
        {"id": integration["id"], "p": ADMIN_PASSWORD},
    )["authorizeIntegration"]
    assert authorized["userErrors"] == []
    assert authorized["integration"]["status"] == "INACTIVE"
    success_url = authorized["successCallbackUrl"]
    assert success_url == f"{store_url}/admin/integration/success-callback"
    assert authorized["identityLinkUrl"].startswith(f"{app_url}/login?oauth_consumer_key=")

    # The admin's browser: open the identity link, press "Link account", land on our closing page.
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        page = browser.get(authorized["identityLinkUrl"])
        assert page.status_code == 200, page.text
        form = FormParser()
        form.feed(page.text)
        assert form.buttons == ["Link account"]
        assert form.fields["success_call_back"] == success_url
        landed = browser.post(urljoin(str(page.url), form.action or ""), data=form.fields)
    assert landed.status_code == 200, landed.text
    assert str(landed.url) == success_url
    assert "script-src 'self'" in landed.headers["content-security-policy"]

    status = admin.data("query($id: ID!) { integration(id: $id) { status } }", {"id": integration["id"]})
    assert status["integration"]["status"] == "ACTIVE"

    # The app reads products with signed requests...
    products = httpx.get(f"{app_url}/products", timeout=30)
    assert products.status_code == 200, products.text
    edges = products.json()["data"]["products"]["edges"]
    assert edges and all(edge["node"]["sku"] for edge in edges)

    # ...and is refused what it was not granted.
    orders = httpx.post(f"{app_url}/query", json={"query": "{ orders { edges { node { id } } } }"}, timeout=30)
    assert orders.status_code == 200, orders.text
    body = orders.json()
    assert body["data"]["orders"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["requiredResources"] == ["Magento_Sales::actions_view"]

    # The same from the app's command line.
    viewer = subprocess.run(
        [sys.executable, "examples/third_party_app.py", "query", "{ viewer { kind name resources } }"],
        cwd=ROOT,
        env={**os.environ, "THIRD_PARTY_STATE": str(state_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert viewer.returncode == 0, viewer.stderr
    assert json.loads(viewer.stdout)["data"]["viewer"]["kind"] == "INTEGRATION"

    # Secrets stay out of the server's log.
    stored = json.loads(state_file.read_text())
    [link] = stored.values()
    log = server.output()
    for secret in (link["consumer_secret"], link["access_token_secret"], link["access_token"], link["verifier"]):
        assert secret not in log
    assert not re.search(r"Traceback", log), log
