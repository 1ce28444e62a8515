"""OAuth 1.0a signed GraphQL calls and integration tokens as bearer tokens, through HTTP."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT, SIGNATURE_RSA_SHA256

from auth.clock import clock
from auth.oauth import problems
from auth.proxy import HOST_NOT_ALLOWED
from models import Integration, OAuthToken
from models.integration import STATUS_INACTIVE
from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.oauth import GRAPHQL_URL, VIEWER, gql_problem, make_integration, sign, signed_gql

OAUTH_CONFIG = "{ config { oauth { consumerExpirationPeriod } } }"


async def test_signed_request_acts_as_the_integration_with_its_granted_resources(guest: GraphQLClient) -> None:
    creds = await make_integration("Acme ERP")
    body = await signed_gql(guest, creds, VIEWER)
    assert body["data"]["viewer"] == {
        "kind": "INTEGRATION",
        "name": "Acme ERP",
        "resources": ["Magento_Catalog::catalog", "Magento_Catalog::catalog_inventory"],
    }


async def test_all_resources_grant_holds_everything(guest: GraphQLClient) -> None:
    creds = await make_integration(all_resources=True, resources=())
    body = await signed_gql(guest, creds, VIEWER)
    assert body["data"]["viewer"]["resources"] == ["Magento_Backend::all"]


async def test_resource_not_granted_is_forbidden_with_required_resources(guest: GraphQLClient) -> None:
    creds = await make_integration()
    body = await signed_gql(guest, creds, OAUTH_CONFIG)
    assert body["data"]["config"]["oauth"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["requiredResources"] == ["Magento_Integration::config_oauth"]


async def test_replayed_nonce_is_refused(client: httpx.AsyncClient) -> None:
    creds = await make_integration()
    headers = sign(creds.client())
    request = {"content": json.dumps({"query": VIEWER}), "headers": {**headers, "Content-Type": "application/json"}}
    assert (await client.post(GRAPHQL_URL, **request)).status_code == 200
    replay = await client.post(GRAPHQL_URL, **request)
    assert replay.status_code == 401
    assert gql_problem(replay.json()) == f"The nonce is already being used by the consumer with ID {creds.consumer_id}"
    assert replay.headers["www-authenticate"] == "OAuth"


async def test_a_failed_request_does_not_burn_its_nonce(guest: GraphQLClient) -> None:
    creds = await make_integration()
    bad = creds.client(client_secret="x" * 32, nonce="fixednonce1")
    assert gql_problem(await signed_gql(guest, creds, VIEWER, oauth=bad, status=401)) == problems.SIGNATURE_INVALID
    good = await signed_gql(guest, creds, VIEWER, oauth=creds.client(nonce="fixednonce1"))
    assert good["data"]["viewer"]["kind"] == "INTEGRATION"


async def test_wrong_consumer_secret_and_wrong_token_secret(guest: GraphQLClient) -> None:
    creds = await make_integration()
    wrong_consumer = creds.client(client_secret="0" * 32)
    wrong_token = creds.client(resource_owner_secret="0" * 32)
    for oauth in (wrong_consumer, wrong_token):
        body = await signed_gql(guest, creds, VIEWER, oauth=oauth, status=401)
        assert gql_problem(body) == "The signature is invalid. Verify and try again."


async def test_unknown_consumer_and_unknown_token(guest: GraphQLClient) -> None:
    creds = await make_integration()
    other = await make_integration("Other")
    cases = {
        problems.CONSUMER_NOT_FOUND: creds.client(client_key="a" * 32),
        problems.CONSUMER_KEY_LENGTH: creds.client(client_key="short"),
        problems.TOKEN_NOT_FOUND: creds.client(resource_owner_key="b" * 32),
        problems.TOKEN_NOT_OF_CONSUMER: creds.client(
            resource_owner_key=other.token, resource_owner_secret=other.token_secret
        ),
    }
    for message, oauth in cases.items():
        assert gql_problem(await signed_gql(guest, creds, VIEWER, oauth=oauth, status=401)) == message


async def test_timestamps_too_old_and_too_new(guest: GraphQLClient) -> None:
    creds = await make_integration()
    now = int(clock.time())
    for timestamp in (now - 601, now + 601):
        body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(timestamp=str(timestamp)), status=401)
        assert gql_problem(body) == "Incorrect timestamp value in the oauth_timestamp parameter"
    for timestamp in (now - 590, now + 590):
        body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(timestamp=str(timestamp)))
        assert body["data"]["viewer"]["kind"] == "INTEGRATION"


async def test_timestamp_is_checked_against_the_server_clock(guest: GraphQLClient) -> None:
    creds = await make_integration()
    signed_now = creds.client()
    clock.advance(601)
    assert gql_problem(await signed_gql(guest, creds, VIEWER, oauth=signed_now, status=401)) == (
        problems.TIMESTAMP_REFUSED
    )


async def test_only_hmac_sha256_unless_sha1_is_allowed(
    guest: GraphQLClient, admin: GraphQLClient, client: httpx.AsyncClient
) -> None:
    creds = await make_integration()
    sha1_refused = (
        "Signature method HMAC-SHA1 is not supported: sign with HMAC-SHA256, or ask the store's admin to allow"
        " HMAC-SHA1 (allowHmacSha1 in config.oauth, set with updateOAuthConfig)"
    )
    body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(signature_method=SIGNATURE_HMAC_SHA1), status=401)
    assert gql_problem(body) == sha1_refused
    body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(signature_method=SIGNATURE_PLAINTEXT), status=401)
    assert gql_problem(body) == "Signature method PLAINTEXT is not supported: sign with HMAC-SHA256"
    rsa = sign(creds.client(signature_method=SIGNATURE_HMAC_SHA1)).copy()
    rsa["Authorization"] = rsa["Authorization"].replace(SIGNATURE_HMAC_SHA1, SIGNATURE_RSA_SHA256)
    response = await client.post(GRAPHQL_URL, json={"query": VIEWER}, headers=rsa)
    assert gql_problem(response.json()) == "Signature method RSA-SHA256 is not supported: sign with HMAC-SHA256"

    switch = "mutation($on: Boolean!) { updateOAuthConfig(input: {allowHmacSha1: $on}) { userErrors { code } } }"
    await admin.query(switch, {"on": True})
    body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(signature_method=SIGNATURE_HMAC_SHA1))
    assert body["data"]["viewer"]["kind"] == "INTEGRATION"
    body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(signature_method=SIGNATURE_PLAINTEXT), status=401)
    assert gql_problem(body) == (
        "Signature method PLAINTEXT is not supported: sign with HMAC-SHA256 (or HMAC-SHA1, which this store allows)"
    )
    await admin.query(switch, {"on": False})
    body = await signed_gql(guest, creds, VIEWER, oauth=creds.client(signature_method=SIGNATURE_HMAC_SHA1), status=401)
    assert gql_problem(body) == sha1_refused


async def test_missing_parameters_and_bad_version(client: httpx.AsyncClient) -> None:
    creds = await make_integration()
    headers = sign(creds.client())
    params = dict(
        urllib.parse.unquote(p.strip()).split("=", 1) for p in headers["Authorization"][6:].split(",") if "=" in p
    )
    params = {k: v.strip('"') for k, v in params.items()}

    async def send(values: dict[str, str]) -> str:
        header = "OAuth " + ", ".join(f'{k}="{urllib.parse.quote(v, safe="")}"' for k, v in values.items())
        response = await client.post(GRAPHQL_URL, json={"query": VIEWER}, headers={"Authorization": header})
        assert response.status_code == 401
        return gql_problem(response.json())

    without_nonce = {k: v for k, v in params.items() if k != "oauth_nonce"}
    assert await send(without_nonce) == '"oauth_nonce" is required. Enter and try again.'
    without_two = {k: v for k, v in params.items() if k not in {"oauth_nonce", "oauth_token"}}
    assert await send(without_two) == (
        '"oauth_nonce" is required. Enter and try again, "oauth_token" is required. Enter and try again'
    )
    assert await send({**params, "oauth_version": "2.0"}) == 'The "2.0" Oauth version isn\'t supported.'
    assert await send({**params, "oauth_token": "abc"}) == problems.TOKEN_LENGTH_INVALID
    response = await client.post(GRAPHQL_URL, json={"query": VIEWER}, headers={"Authorization": "OAuth"})
    assert response.status_code == 401


async def test_tampered_query_string_and_form_body(client: httpx.AsyncClient) -> None:
    creds = await make_integration()
    query = urllib.parse.quote(VIEWER)
    signed = sign(creds.client(), f"{GRAPHQL_URL}?query={query}", "GET")
    ok = await client.get(f"{GRAPHQL_URL}?query={query}", headers=signed)
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["viewer"]["kind"] == "INTEGRATION"

    signed = sign(creds.client(), f"{GRAPHQL_URL}?query={query}", "GET")
    other = urllib.parse.quote("{ viewer { kind } }")
    tampered = await client.get(f"{GRAPHQL_URL}?query={other}", headers=signed)
    assert tampered.status_code == 401
    assert gql_problem(tampered.json()) == problems.SIGNATURE_INVALID

    form = urllib.parse.urlencode({"query": VIEWER})
    signed = sign(creds.client(), GRAPHQL_URL, "POST", body=form, form=True)
    tampered_body = urllib.parse.urlencode({"query": "{ viewer { name } }"})
    response = await client.post(GRAPHQL_URL, content=tampered_body, headers=signed)
    assert response.status_code == 401
    assert gql_problem(response.json()) == problems.SIGNATURE_INVALID
    signed = sign(creds.client(), GRAPHQL_URL, "POST", body=form, form=True)
    response = await client.post(GRAPHQL_URL, content=form, headers=signed)
    assert response.status_code != 401, response.text  # authenticated; the body reached the GraphQL view intact


async def test_revoked_token_inactive_and_deleted_integrations(guest: GraphQLClient) -> None:
    revoked = await make_integration("Revoked")
    await OAuthToken.filter(consumer_id=revoked.consumer_id).update(revoked=True)
    assert gql_problem(await signed_gql(guest, revoked, VIEWER, status=401)) == "Access token has been revoked"

    inactive = await make_integration("Inactive")
    await Integration.filter(id=inactive.integration_id).update(status=STATUS_INACTIVE)
    assert gql_problem(await signed_gql(guest, inactive, VIEWER, status=401)) == problems.INTEGRATION_INACTIVE

    deleted = await make_integration("Deleted")
    await Integration.filter(id=deleted.integration_id).delete()
    assert gql_problem(await signed_gql(guest, deleted, VIEWER, status=401)) == problems.CONSUMER_NOT_FOUND


async def test_trusted_proxy_headers_give_the_url_the_client_signed(settings: Settings) -> None:
    from main import create_app

    app = create_app(dataclasses.replace(settings, store_base_url="https://api.example.com/"))
    async with app.router.lifespan_context(app):
        await _proxied_requests(app)


async def _proxied_requests(app: object) -> None:
    creds = await make_integration()
    public_url = "https://api.example.com/graphql"
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com", "X-Forwarded-For": "198.51.100.7"}
    trusted = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=trusted, base_url="http://backend:8000") as behind_proxy:
        body = await signed_gql(
            GraphQLClient(behind_proxy),
            creds,
            VIEWER,
            url="http://backend:8000/graphql",
            headers=forwarded,
            oauth=creds.client(),
            status=401,
        )
        assert gql_problem(body) == problems.SIGNATURE_INVALID  # signed for the internal URL, not the public one
        signed = sign(creds.client(), public_url)
        response = await behind_proxy.post("/graphql", json={"query": VIEWER}, headers={**signed, **forwarded})
        assert response.status_code == 200, response.text
    untrusted = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=untrusted, base_url="http://backend:8000") as direct:
        signed = sign(creds.client(), public_url)
        response = await direct.post("/graphql", json={"query": VIEWER}, headers={**signed, **forwarded})
        assert response.status_code == 401
        assert gql_problem(response.json()) == HOST_NOT_ALLOWED  # the forwarded host is ignored: backend:8000


async def test_integration_token_as_bearer_only_while_enabled(guest: GraphQLClient, admin: GraphQLClient) -> None:
    creds = await make_integration()
    assert creds.token
    bearer = guest.with_token(creds.token)  # the integration's access token, sent as a bearer token
    body = await bearer.query(VIEWER, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "not accepted as bearer tokens" in body["errors"][0]["message"]

    switch = (
        "mutation($on: Boolean!) { updateOAuthConfig(input: {enableIntegrationAsBearer: $on}) { userErrors { code } } }"
    )
    await admin.query(switch, {"on": True})
    body = await bearer.query(VIEWER)
    assert body["data"]["viewer"]["kind"] == "INTEGRATION"
    forbidden = await bearer.query(OAUTH_CONFIG)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    await OAuthToken.filter(consumer_id=creds.consumer_id).update(revoked=True)
    assert (await bearer.query(VIEWER, expect_status=401))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await admin.query(switch, {"on": False})
    unknown = await guest.with_token("z" * 32).query(VIEWER, expect_status=401)
    assert unknown["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
