"""An unmodified requests-oauthlib OAuth 2.0 client against a real server process: ``BackendApplicationClient``
with ``OAuth2Session.fetch_token`` obtains a token, and the session calls /graphql with it."""

from __future__ import annotations

from typing import Any

import pytest
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import create_on_server
from tests.support.principals import ADMIN_PASSWORD
from tests.support.servers import free_port, run_cli

AUTHORIZE = """mutation($id: ID!, $currentPassword: String) {
  authorizeIntegration(id: $id, currentPassword: $currentPassword) { credentials { consumerKey consumerSecret } }
}"""


def test_requests_oauthlib_backend_application_client_calls_graphql(
    database_url: str, server_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback over plain http, as in development
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEY": "oauth2-end-to-end-key"}
    assert run_cli("create-admin", "--username", "admin", "--password", ADMIN_PASSWORD, env=env).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_factory({**env, "STORE_BASE_URL": f"{base}/"}, port=port)
    admin = SyncGraphQLClient(base, timeout=30).sign_in("admin", ADMIN_PASSWORD)
    integration = create_on_server(
        admin,
        name="Reporting app",
        resourceAccess="CUSTOM",
        resources=["Magento_Catalog::products"],
        authMethods=["OAUTH2_CLIENT_CREDENTIALS"],
    )
    body = admin.data(AUTHORIZE, {"id": integration["id"], "currentPassword": ADMIN_PASSWORD})
    credentials = body["authorizeIntegration"]["credentials"]

    metadata = OAuth2Session().get(f"{base}/.well-known/oauth-authorization-server").json()
    session = OAuth2Session(client=BackendApplicationClient(client_id=credentials["consumerKey"]))
    token = session.fetch_token(
        token_url=metadata["token_endpoint"],
        client_id=credentials["consumerKey"],
        client_secret=credentials["consumerSecret"],
    )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600

    answer = session.post(f"{base}/graphql", json={"query": "{ viewer { kind name resources } }"}).json()
    assert answer["data"]["viewer"]["kind"] == "INTEGRATION"
    assert answer["data"]["viewer"]["name"] == "Reporting app"
    refused = session.post(f"{base}/graphql", json={"query": "{ customers(first: 1) { edges { node { id } } } }"})
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
