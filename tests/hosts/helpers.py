"""What the tests of hosts share: documents, integrations made through the load balancer, OAuth 1.0a signing."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.graphql import SyncGraphQLClient
from tests.support.hosts import ADMIN, served_by
from tests.support.integrations import AUTHORIZE, CREATE, UPDATE
from tests.support.oauth import shown_client, sign

PASSWORD = {"currentPassword": ADMIN[1]}
PRODUCTS = "{ products(first: 1) { edges { node { sku } } } }"
SET_GUEST = "mutation($a: Boolean!) { setGuestAccess(allow: $a) { webApiSecurity { allowAnonymousGuestAccess } } }"
ALL_HOSTS = {"app1", "app2", "app3"}
UPDATE_RATE_LIMITS = (
    "mutation($i: UpdateRateLimitConfigInput!) { updateRateLimitConfig(input: $i) { userErrors { code } } }"
)


def set_rate_limits(admin: SyncGraphQLClient, **values: object) -> None:
    payload = admin.data(UPDATE_RATE_LIMITS, {"i": values})["updateRateLimitConfig"]
    assert payload["userErrors"] == [], payload


def integration(admin: SyncGraphQLClient, name: str, resources: list[str], **fields: Any) -> dict[str, Any]:
    """An active manual integration with a Custom grant: (integration, its four credentials)."""
    created = admin.data(
        CREATE, {"input": {"name": name, "resourceAccess": "CUSTOM", "resources": resources, **fields, **PASSWORD}}
    )["createIntegration"]
    assert created["userErrors"] == [], created
    authorized = admin.data(AUTHORIZE, {"id": created["integration"]["id"], **PASSWORD})["authorizeIntegration"]
    assert authorized["userErrors"] == [], authorized
    return {"integration": created["integration"], "credentials": authorized["credentials"]}


def update_grant(admin: SyncGraphQLClient, integration_id: str, resources: list[str]) -> None:
    updated = admin.data(
        UPDATE, {"input": {"id": integration_id, "resourceAccess": "CUSTOM", "resources": resources, **PASSWORD}}
    )["updateIntegration"]
    assert updated["userErrors"] == [], updated


def oauth_headers(credentials: dict[str, Any], url: str) -> dict[str, str]:
    """A signed POST to ``url`` (a fresh nonce each time), its JSON body not covered (OAuth 1.0a)."""
    return {**sign(shown_client(credentials), url), "Content-Type": "application/json"}


def one_signed_request(admin: SyncGraphQLClient, lb_url: str, name: str) -> tuple[str, str, dict[str, str]]:
    """URL, body and headers of one signed products query of a new integration: each resend is a replay."""
    made = integration(admin, name, ["Magento_Catalog::products"])
    url = f"{lb_url}/graphql"
    return url, json.dumps({"query": PRODUCTS}), oauth_headers(made["credentials"], url)


def over_every_host(send: Any, most: int = 12) -> list[httpx.Response]:
    """``send()`` through the load balancer until every host has answered at least once: every answer, in order."""
    answers: list[httpx.Response] = []
    for _ in range(most):
        answers.append(send())
        if {served_by(a) for a in answers} >= ALL_HOSTS:
            return answers
    raise AssertionError(f"only {sorted({served_by(a) for a in answers})} answered in {most} requests")
