"""OAuth 2.0 client credentials through HTTP: tokens, each RFC 6749 error, scope narrowing on GraphQL fields,
expiry, revocation, introspection, what ends tokens, authentication methods, and secret rotation's overlap."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from auth.clock import clock
from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.integrations import AUTHORIZE, DELETE, REAUTHORIZE, UPDATE, YOUR_PASSWORD, create, db_id
from tests.support.oauth import Behaviour, CallbackServer, make_integration, signed_gql
from tests.support.oauth2 import BOTH, access_token, active_client, basic, token_request
from tests.support.statements import sql_statements

PRODUCTS = "{ products(first: 1) { edges { node { sku } } } }"
PRODUCTS_AND_CUSTOMERS = (
    "{ products(first: 1) { edges { node { sku } } } customers(first: 1) { edges { node { id } } } }"
)
ROTATE = """mutation($id: ID!, $overlap: Int!, $currentPassword: String) {
  rotateIntegrationSecret(id: $id, overlapSeconds: $overlap, currentPassword: $currentPassword) {
    integration { id secretRotatedAt previousSecretExpiresAt authMethods }
    credentials { consumerKey consumerSecret }
    userErrors { field message code }
  }
}"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Callback URLs on loopback (the tests' callback server) may receive credentials."""
    return dataclasses.replace(settings, allow_private_callbacks=True)


async def test_client_credentials_token_calls_graphql_as_the_integration(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    response = await token_request(client, creds)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "Magento_Backend::all"
    viewer = await guest.with_token(token["access_token"]).data("{ viewer { kind name } }")
    assert viewer["viewer"] == {"kind": "INTEGRATION", "name": "Acme"}


async def test_an_oauth2_bearer_is_throttled_in_its_integrations_own_bucket(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL", rateLimitBucketSize=300, rateLimitRestoreRate=7)
    caller = guest.with_token(await access_token(client, creds))
    with sql_statements() as statements:
        body = await caller.query("{ viewer { kind } }")
    status = body["extensions"]["cost"]["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (300, 7)
    # The token's own query reads the integration's limits and the store's settings: no statement of their own.
    assert not any("rate_limit_bucket_size" in s and "oauth2_access_token" not in s for s in statements), statements
    assert len(statements) == 1, statements


async def test_client_secret_post_is_accepted(admin: GraphQLClient, client: httpx.AsyncClient) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    form = {"grant_type": "client_credentials", "client_id": creds["consumerKey"]}
    response = await client.post("/oauth2/token", data={**form, "client_secret": creds["consumerSecret"]})
    assert response.status_code == 200, response.text


async def test_the_token_is_stored_only_as_its_hash(admin: GraphQLClient, client: httpx.AsyncClient) -> None:
    from models import OAuth2AccessToken

    creds = await active_client(admin, resourceAccess="ALL")
    token = await access_token(client, creds)
    rows = await OAuth2AccessToken.all().values()
    assert len(rows) == 1 and token not in str(rows)


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("no client authentication", 401, "invalid_client"),
        ("wrong secret", 401, "invalid_client"),
        ("unknown client", 401, "invalid_client"),
        ("unreadable basic", 401, "invalid_client"),
        ("basic and post together", 401, "invalid_client"),
        ("no grant type", 400, "invalid_request"),
        ("password grant", 400, "unsupported_grant_type"),
        ("unknown scope", 400, "invalid_scope"),
        ("ungranted scope", 400, "invalid_scope"),
        ("json body", 400, "invalid_request"),
        ("undecodable body", 400, "invalid_request"),
        ("repeated grant type", 400, "invalid_request"),
    ],
)
async def test_each_error_is_an_rfc_6749_answer(
    admin: GraphQLClient, client: httpx.AsyncClient, case: str, status: int, error: str
) -> None:
    creds = await active_client(admin, resourceAccess="CUSTOM", resources=["Magento_Catalog::products"])
    key, secret = creds["consumerKey"], creds["consumerSecret"]
    grant = {"grant_type": "client_credentials"}
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    requests: dict[str, dict[str, Any]] = {
        "no client authentication": {"data": grant},
        "wrong secret": {"data": grant, "headers": basic(key, "0" * 32)},
        "unknown client": {"data": grant, "headers": basic("x" * 32, secret)},
        "unreadable basic": {"data": grant, "headers": {"Authorization": "Basic %%%"}},
        "basic and post together": {
            "data": {**grant, "client_id": key, "client_secret": secret},
            "headers": basic(key, secret),
        },
        "no grant type": {"data": {}, "headers": basic(key, secret)},
        "password grant": {"data": {"grant_type": "password"}, "headers": basic(key, secret)},
        "unknown scope": {"data": {**grant, "scope": "Nope::nope"}, "headers": basic(key, secret)},
        "ungranted scope": {"data": {**grant, "scope": "Magento_Customer::manage"}, "headers": basic(key, secret)},
        "json body": {"json": grant, "headers": basic(key, secret)},
        "undecodable body": {"content": b"grant_type=\xff\xfe", "headers": {**basic(key, secret), **form_type}},
        "repeated grant type": {
            "content": b"grant_type=client_credentials&grant_type=client_credentials",
            "headers": {**basic(key, secret), **form_type},
        },
    }
    response = await client.post("/oauth2/token", **requests[case])
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic ")
    assert secret not in response.text


async def test_an_oauth1_only_integration_is_told_why_it_gets_no_token(
    admin: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, methods=["OAUTH1"], resourceAccess="ALL")
    response = await token_request(client, creds)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "OAUTH2_CLIENT_CREDENTIALS" in response.json()["error_description"]


async def test_an_inactive_integration_gets_no_token(admin: GraphQLClient, client: httpx.AsyncClient) -> None:
    integration = await create(admin, name="Idle", authMethods=BOTH, resourceAccess="ALL")
    body = await admin.data(
        "query($id: ID!) { integration(id: $id) { credentials { consumerKey consumerSecret } } }",
        {"id": integration["id"]},
    )
    response = await token_request(client, body["integration"]["credentials"])
    assert response.status_code == 401
    assert "not active" in response.json()["error_description"]


async def test_scope_narrows_the_token_to_the_intersection_with_the_grant(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    token = await access_token(client, creds, scope="Magento_Catalog::catalog")
    body = await guest.with_token(token).query(PRODUCTS_AND_CUSTOMERS)
    assert body["data"]["products"] is not None
    assert body["data"]["customers"] is None
    (error,) = body["errors"]
    assert error["path"] == ["customers"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "Magento_Customer::manage" in error["extensions"]["missingResources"]


async def test_narrowing_the_grant_narrows_live_tokens(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    caller = guest.with_token(await access_token(client, creds))
    assert "errors" not in await caller.query(PRODUCTS_AND_CUSTOMERS)
    update = {"id": creds["id"], "resourceAccess": "CUSTOM", "resources": ["Magento_Customer::manage"]}
    assert (await admin.data(UPDATE, {"input": {**update, **YOUR_PASSWORD}}))["updateIntegration"]["userErrors"] == []
    body = await caller.query(PRODUCTS_AND_CUSTOMERS)
    assert [e["path"] for e in body["errors"]] == [["products"]]


async def test_tokens_expire_after_the_lifetime_setting(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    set_lifetime = "mutation { updateOAuthConfig(input: {oauth2AccessTokenLifetime: 600}) { userErrors { code } } }"
    assert (await admin.data(set_lifetime))["updateOAuthConfig"]["userErrors"] == []
    creds = await active_client(admin, resourceAccess="ALL")
    response = await token_request(client, creds)
    assert response.json()["expires_in"] == 600
    caller = guest.with_token(response.json()["access_token"])
    clock.advance(599)
    assert "errors" not in await caller.query(PRODUCTS)
    clock.advance(1)
    body = await caller.query(PRODUCTS, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revocation_ends_the_clients_own_token_only(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    mine = await active_client(admin, resourceAccess="ALL")
    theirs = await active_client(admin, name="Other", resourceAccess="ALL")
    my_token, their_token = await access_token(client, mine), await access_token(client, theirs)
    auth = basic(mine["consumerKey"], mine["consumerSecret"])
    response = await client.post("/oauth2/revoke", data={"token": their_token}, headers=auth)
    assert response.status_code == 200
    assert "errors" not in await guest.with_token(their_token).query(PRODUCTS)
    response = await client.post("/oauth2/revoke", data={"token": my_token}, headers=auth)
    assert response.status_code == 200
    await guest.with_token(my_token).query(PRODUCTS, expect_status=401)
    unauthenticated = await client.post("/oauth2/revoke", data={"token": their_token})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"


async def test_introspection_for_the_client_and_for_admins(admin: GraphQLClient, client: httpx.AsyncClient) -> None:
    mine = await active_client(admin, resourceAccess="ALL")
    theirs = await active_client(admin, name="Other", resourceAccess="ALL")
    token = await access_token(client, mine, scope="Magento_Catalog::products")
    auth = basic(mine["consumerKey"], mine["consumerSecret"])
    own = (await client.post("/oauth2/introspect", data={"token": token}, headers=auth)).json()
    assert own["active"] is True
    assert own["client_id"] == mine["consumerKey"]
    assert own["scope"] == "Magento_Catalog::products"
    assert own["token_type"] == "Bearer"
    assert own["exp"] - own["iat"] == 3600
    other_client = basic(theirs["consumerKey"], theirs["consumerSecret"])
    assert (await client.post("/oauth2/introspect", data={"token": token}, headers=other_client)).json() == {
        "active": False
    }
    as_admin = {"Authorization": f"Bearer {admin.token}"}
    assert (await client.post("/oauth2/introspect", data={"token": token}, headers=as_admin)).json()["active"]
    assert (await client.post("/oauth2/introspect", data={"token": token})).status_code == 401
    clock.advance(3600)
    assert (await client.post("/oauth2/introspect", data={"token": token}, headers=auth)).json() == {"active": False}
    assert (await client.post("/oauth2/introspect", data={"token": "oa2.nope"}, headers=as_admin)).json() == {
        "active": False
    }


@pytest.mark.parametrize("change", ["reauthorize", "delete", "drop OAUTH2", "deactivate"])
async def test_what_ends_an_integrations_tokens_at_once(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient, change: str
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    caller = guest.with_token(await access_token(client, creds))
    assert "errors" not in await caller.query(PRODUCTS)
    if change == "reauthorize":
        body = await admin.data(REAUTHORIZE, {"id": creds["id"], **YOUR_PASSWORD})
        assert body["reauthorizeIntegration"]["userErrors"] == []
    elif change == "delete":
        assert (await admin.data(DELETE, {"id": creds["id"], **YOUR_PASSWORD}))["deleteIntegration"]["userErrors"] == []
    elif change == "drop OAUTH2":
        update = {"id": creds["id"], "authMethods": ["OAUTH1"], **YOUR_PASSWORD}
        assert (await admin.data(UPDATE, {"input": update}))["updateIntegration"]["userErrors"] == []
    else:  # no mutation deactivates; a config-file reset is the way an integration leaves ACTIVE
        from models import Integration
        from models.integration import STATUS_RESET

        await Integration.filter(id=db_id(creds)).update(status=STATUS_RESET)
    body = await caller.query(PRODUCTS, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_auth_methods_are_validated_and_shown(admin: GraphQLClient) -> None:
    default = await create(admin, name="Default")
    got = await admin.data("query($id: ID!) { integration(id: $id) { authMethods } }", {"id": default["id"]})
    assert got["integration"]["authMethods"] == ["OAUTH1"]
    body = await admin.query(UPDATE, {"input": {"id": default["id"], "authMethods": [], **YOUR_PASSWORD}})
    errors = body["data"]["updateIntegration"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "authMethods"], "REQUIRED")]
    from tests.support.integrations import CREATE

    body = await admin.query(CREATE, {"input": {"name": "None", "authMethods": [], **YOUR_PASSWORD}})
    assert body["data"]["createIntegration"]["userErrors"][0]["code"] == "REQUIRED"


async def test_an_oauth2_only_integration_is_activated_without_exchange_and_cannot_sign(
    admin: GraphQLClient, guest: GraphQLClient, client: httpx.AsyncClient
) -> None:
    integration = await create(
        admin, name="Bearer only", authMethods=["OAUTH2_CLIENT_CREDENTIALS"], resourceAccess="ALL"
    )
    payload = (await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["authorizeIntegration"]
    assert payload["userErrors"] == []
    assert payload["integration"]["status"] == "ACTIVE"
    assert payload["identityLinkUrl"] is None
    assert payload["credentials"]["accessToken"] is None
    await access_token(client, payload["credentials"])
    # An OAuth 1.0a client of an integration whose methods were narrowed to OAuth 2.0 is refused.
    from models import Integration

    creds = await make_integration("Signed")
    await Integration.filter(id=creds.integration_id).update(allow_oauth1=False)
    body = await signed_gql(guest, creds, PRODUCTS, status=401)
    assert "OAUTH2_CLIENT_CREDENTIALS only" in body["errors"][0]["message"]


async def test_an_oauth2_only_integration_with_a_callback_gets_its_client_credentials_there(
    admin: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer
) -> None:
    """No token exchange, but the credentials go where the token exchange would send them, not to the admin."""
    integration = await create(
        admin,
        name="Bearer app",
        authMethods=["OAUTH2_CLIENT_CREDENTIALS"],
        resourceAccess="ALL",
        callbackUrl=callback.url(),
        identityLinkUrl="https://app.example.com/link",
    )
    payload = (await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["authorizeIntegration"]
    assert payload["userErrors"] == []
    assert payload["integration"]["status"] == "ACTIVE"
    assert payload["credentials"] is None and payload["identityLinkUrl"] is None
    [posted] = callback.received
    assert posted.method == "POST"
    form = posted.form
    assert set(form) == {
        "client_id",
        "client_secret",
        "token_endpoint",
        "store_base_url",
        "oauth_consumer_key",
        "oauth_consumer_secret",
    }
    assert form["token_endpoint"] == "http://store.test/oauth2/token"
    assert form["client_id"] == form["oauth_consumer_key"]
    creds = {"consumerKey": form["client_id"], "consumerSecret": form["client_secret"]}
    assert (await token_request(client, creds)).status_code == 200
    shown = await admin.data(
        "query($f: AuditEventFilter) { auditEvents(first: 20, filter: $f) { edges { node { action details } } } }",
        {"f": {"action": "integration."}},
    )
    nodes = [edge["node"] for edge in shown["auditEvents"]["edges"]]
    actions = [node["action"] for node in nodes]
    assert "integration.callback_delivered" in actions and "integration.activated" in actions
    # The activation showed the admin nothing (reading Integration.credentials is recorded on its own).
    shown_by_activation = [n for n in nodes if "authorizeIntegration" in str(n["details"])]
    assert not [n for n in shown_by_activation if n["action"] == "integration.credentials_shown"]


async def test_an_oauth2_only_activation_whose_callback_refuses_changes_nothing(
    admin: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer
) -> None:
    callback.behaviour["/callback"] = Behaviour(status=500)
    integration = await create(
        admin,
        name="Bearer app",
        authMethods=["OAUTH2_CLIENT_CREDENTIALS"],
        resourceAccess="ALL",
        callbackUrl=callback.url(),
    )
    payload = (await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["authorizeIntegration"]
    assert [error["code"] for error in payload["userErrors"]] == ["CALLBACK_FAILED"]
    assert payload["integration"]["status"] == "INACTIVE" and payload["credentials"] is None
    form = callback.received[0].form
    creds = {"consumerKey": form["client_id"], "consumerSecret": form["client_secret"]}
    refused = await token_request(client, creds)
    assert refused.status_code in (400, 401) and refused.json()["error"] in ("invalid_client", "unauthorized_client")
    callback.behaviour["/callback"] = Behaviour()
    again = (await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["authorizeIntegration"]
    assert again["userErrors"] == [] and again["integration"]["status"] == "ACTIVE"


async def test_metadata_names_the_endpoints(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    document = response.json()
    assert document["token_endpoint"].endswith("/oauth2/token")
    assert document["revocation_endpoint"].endswith("/oauth2/revoke")
    assert document["introspection_endpoint"].endswith("/oauth2/introspect")
    assert document["grant_types_supported"] == ["client_credentials"]
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]


# ------------------------------------------------------------------------------------------------ rotation


async def test_rotation_overlap_for_oauth2_client_authentication_at_both_ends(
    admin: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    old = creds["consumerSecret"]
    payload = (await admin.data(ROTATE, {"id": creds["id"], "overlap": 300, **YOUR_PASSWORD}))[
        "rotateIntegrationSecret"
    ]
    assert payload["userErrors"] == []
    new = payload["credentials"]["consumerSecret"]
    assert new != old and payload["credentials"]["consumerKey"] == creds["consumerKey"]
    assert payload["integration"]["secretRotatedAt"] is not None
    assert payload["integration"]["previousSecretExpiresAt"] is not None
    assert (await token_request(client, creds, secret=new)).status_code == 200
    clock.advance(299)
    assert (await token_request(client, creds, secret=old)).status_code == 200
    clock.advance(1)
    assert (await token_request(client, creds, secret=old)).status_code == 401
    assert (await token_request(client, creds, secret=new)).status_code == 200


async def test_rotation_overlap_for_oauth1_signatures_at_both_ends(admin: GraphQLClient, guest: GraphQLClient) -> None:
    from auth.oauth.credentials import overlap_secret  # noqa: F401  (the rule under test)
    from resolvers.integrations.service import global_id

    creds = await make_integration("Signed", all_resources=True)
    integration_id = global_id(creds.integration_id)
    payload = (await admin.data(ROTATE, {"id": integration_id, "overlap": 60, **YOUR_PASSWORD}))[
        "rotateIntegrationSecret"
    ]
    new_secret = payload["credentials"]["consumerSecret"]
    clock.advance(59)
    assert "errors" not in await signed_gql(guest, creds, PRODUCTS)
    clock.advance(1)
    body = await signed_gql(guest, creds, PRODUCTS, status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    creds.consumer_secret = new_secret
    assert "errors" not in await signed_gql(guest, creds, PRODUCTS)


async def test_rotation_without_overlap_ends_the_old_secret_at_once(
    admin: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    payload = (await admin.data(ROTATE, {"id": creds["id"], "overlap": 0, **YOUR_PASSWORD}))["rotateIntegrationSecret"]
    assert payload["integration"]["previousSecretExpiresAt"] is None
    assert (await token_request(client, creds)).status_code == 401


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"overlap": -1}, ["overlapSeconds"], "OUT_OF_RANGE"),
        ({"overlap": 31 * 86_400}, ["overlapSeconds"], "OUT_OF_RANGE"),
        ({"overlap": 60, "currentPassword": "wrong password 1"}, ["currentPassword"], "INVALID_PASSWORD"),
        ({"overlap": 60, "currentPassword": None}, ["currentPassword"], "REQUIRED"),
        ({"overlap": 60, "id": "SW50ZWdyYXRpb246OTk5"}, ["id"], "NOT_FOUND"),
    ],
)
async def test_rotation_refusals_are_user_errors(
    admin: GraphQLClient, client: httpx.AsyncClient, variables: dict[str, Any], field: list[str], code: str
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    body = await admin.data(ROTATE, {"id": creds["id"], **YOUR_PASSWORD, **variables})
    payload = body["rotateIntegrationSecret"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert payload["credentials"] is None
    assert (await token_request(client, creds)).status_code == 200


async def test_integrations_cannot_rotate_secrets(
    admin: GraphQLClient, client: httpx.AsyncClient, guest: GraphQLClient
) -> None:
    creds = await active_client(admin, resourceAccess="ALL")
    caller = guest.with_token(await access_token(client, creds))
    body = await caller.query(ROTATE, {"id": creds["id"], "overlap": 0, **YOUR_PASSWORD})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
