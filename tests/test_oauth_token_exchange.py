"""Token-exchange activation: the callback POST, /oauth/token/request, /oauth/token/access, and their errors."""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, Client

from auth.clock import clock
from auth.config import CLEANUP_PROBABILITY, POST_MAXREDIRECTS, POST_TIMEOUT, load_config, save_config
from auth.oauth import problems
from models import Integration, OAuthConsumer, OAuthNonce, OAuthToken
from models.integration import STATUS_ACTIVE, STATUS_INACTIVE
from resolvers.integrations.activation import TokenExchangeFailed, TokenExchangeStarted, start_token_exchange
from resolvers.integrations.callback import NOT_DELIVERED
from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.integrations import AUTHORIZE, GET, REAUTHORIZE, YOUR_PASSWORD, create
from tests.support.oauth import (
    ACCESS_TOKEN_URL,
    REQUEST_TOKEN_URL,
    VIEWER,
    Behaviour,
    CallbackServer,
    Creds,
    gql_problem,
    make_integration,
    problem,
    sign,
    signed_gql,
)
from tests.support.servers import free_port

IDENTITY_LINK = "https://partner.example/link?plan=pro#start"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, allow_private_callbacks=True)


async def exchange_ready(callback: CallbackServer, settings: Settings, name: str = "Partner") -> tuple[Creds, str]:
    """A token-exchange integration whose credentials were delivered; returns them and the verifier."""
    creds = await make_integration(
        name, endpoint=callback.url(), identity_link_url=IDENTITY_LINK, with_access_token=False
    )
    await start_token_exchange(creds.integration_id, settings, await load_config())
    posted = callback.received[-1].form
    assert posted["oauth_consumer_key"] == creds.consumer_key
    return creds, posted["oauth_verifier"]


def token_pair(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    values = urllib.parse.parse_qsl(response.text)
    assert [k for k, _ in values] == ["oauth_token", "oauth_token_secret"]
    token, secret = values[0][1], values[1][1]
    assert (len(token) == len(secret) == 32 and token.isalnum() and token.islower()) or token.isdigit()
    return token, secret


async def post_signed(client: httpx.AsyncClient, url: str, oauth: Client) -> httpx.Response:
    return await client.post(url, headers=sign(oauth, url))


async def request_token(client: httpx.AsyncClient, creds: Creds, **overrides: object) -> httpx.Response:
    oauth = creds.client(resource_owner_key=None, resource_owner_secret=None, **overrides)
    return await post_signed(client, REQUEST_TOKEN_URL, oauth)


async def access_token(
    client: httpx.AsyncClient, creds: Creds, token: str, secret: str, verifier: str, **overrides: object
) -> httpx.Response:
    oauth = creds.client(resource_owner_key=token, resource_owner_secret=secret, verifier=verifier, **overrides)
    return await post_signed(client, ACCESS_TOKEN_URL, oauth)


async def test_full_exchange_delivers_credentials_and_activates(
    guest: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    creds = await make_integration(
        "Partner", endpoint=callback.url(), identity_link_url=IDENTITY_LINK, with_access_token=False
    )
    started = await start_token_exchange(creds.integration_id, settings, await load_config())

    [posted] = callback.received
    assert posted.method == "POST"
    assert posted.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(posted.form) == {"oauth_consumer_key", "oauth_consumer_secret", "store_base_url", "oauth_verifier"}
    assert posted.form["oauth_consumer_secret"] == creds.consumer_secret
    assert posted.form["store_base_url"] == "http://store.test/"
    assert len(posted.form["oauth_verifier"]) == 32
    assert posted.headers["Host"] == f"127.0.0.1:{callback.port}"

    assert started.success_callback_url == "http://store.test/admin/integration/success-callback"
    link = urllib.parse.urlsplit(started.identity_link_url)
    assert (link.scheme, link.netloc, link.path, link.fragment) == ("https", "partner.example", "/link", "start")
    assert urllib.parse.parse_qsl(link.query) == [
        ("plan", "pro"),
        ("oauth_consumer_key", creds.consumer_key),
        ("success_call_back", started.success_callback_url),
    ]
    assert (await Integration.get(id=creds.integration_id)).status == STATUS_INACTIVE

    token, secret = token_pair(await request_token(client, creds))
    access, access_secret = token_pair(await access_token(client, creds, token, secret, posted.form["oauth_verifier"]))
    assert access != token
    assert (await Integration.get(id=creds.integration_id)).status == STATUS_ACTIVE

    creds.token, creds.token_secret = access, access_secret
    body = await signed_gql(guest, creds, VIEWER)
    assert body["data"]["viewer"]["kind"] == "INTEGRATION"


async def test_request_token_errors(client: httpx.AsyncClient, callback: CallbackServer, settings: Settings) -> None:
    creds, _verifier = await exchange_ready(callback, settings)

    response = await client.post(REQUEST_TOKEN_URL)
    assert response.status_code == 400
    assert problem(response) == (
        '"oauth_consumer_key" is required. Enter and try again, "oauth_signature" is required. Enter and try again, '
        '"oauth_signature_method" is required. Enter and try again, "oauth_nonce" is required. Enter and try again, '
        '"oauth_timestamp" is required. Enter and try again'
    )
    response = await request_token(client, creds, signature_method=SIGNATURE_HMAC_SHA1)
    assert response.status_code == 400
    assert problem(response).startswith("Signature method HMAC-SHA1 is not supported: sign with HMAC-SHA256, ")
    assert "allowHmacSha1 in config.oauth" in problem(response)
    response = await request_token(client, creds, client_secret="0" * 32)
    assert (response.status_code, problem(response)) == (401, "The signature is invalid. Verify and try again.")
    response = await request_token(client, creds, client_key="k" * 32)
    assert (response.status_code, problem(response)) == (401, "A consumer having the specified key does not exist")
    response = await request_token(client, creds, timestamp=str(int(clock.time()) - 700))
    assert (response.status_code, problem(response)) == (400, problems.TIMESTAMP_REFUSED)
    response = await request_token(client, creds, timestamp=str(int(clock.time()) + 700))
    assert (response.status_code, problem(response)) == (400, problems.TIMESTAMP_REFUSED)
    assert (await client.get(REQUEST_TOKEN_URL)).status_code == 405

    first = await request_token(client, creds, nonce="samenonce")
    token_pair(first)
    replay = await request_token(client, creds, nonce="samenonce")
    assert (replay.status_code, problem(replay)) == (
        401,
        f"The nonce is already being used by the consumer with ID {creds.consumer_id}",
    )
    again = await request_token(client, creds)
    assert (again.status_code, problem(again)) == (401, problems.NOT_A_VERIFIER_TOKEN)


async def test_consumer_key_expires_after_the_expiration_period(
    client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    creds, _ = await exchange_ready(callback, settings)
    clock.advance(301)
    response = await request_token(client, creds)
    assert (response.status_code, problem(response)) == (401, "Consumer key has expired")

    creds2, _ = await exchange_ready(callback, settings, "Second")
    clock.advance(299)
    token_pair(await request_token(client, creds2))


async def test_access_token_errors(client: httpx.AsyncClient, callback: CallbackServer, settings: Settings) -> None:
    creds, verifier = await exchange_ready(callback, settings)
    token, secret = token_pair(await request_token(client, creds))

    cases = [
        ({"verifier": "v" * 32}, 401, "Token verifier and verifier token do not match"),
        ({"verifier": "short"}, 401, "Verifier is not the correct length"),
        ({"resource_owner_secret": "0" * 32}, 401, "The signature is invalid. Verify and try again."),
        ({"client_secret": "0" * 32}, 401, "The signature is invalid. Verify and try again."),
        ({"resource_owner_key": "t" * 32}, 401, "Specified token does not exist"),
        ({"resource_owner_key": "t" * 31}, 400, problems.TOKEN_LENGTH_INVALID),
    ]
    for overrides, status, message in cases:
        values = {"resource_owner_key": token, "resource_owner_secret": secret, "verifier": verifier, **overrides}
        response = await post_signed(client, ACCESS_TOKEN_URL, creds.client(**values))
        assert (response.status_code, problem(response)) == (status, message), overrides

    no_verifier = creds.client(resource_owner_key=token, resource_owner_secret=secret)
    response = await post_signed(client, ACCESS_TOKEN_URL, no_verifier)
    assert (response.status_code, problem(response)) == (400, '"oauth_verifier" is required. Enter and try again.')
    assert (await Integration.get(id=creds.integration_id)).status == STATUS_INACTIVE

    other, _ = await exchange_ready(callback, settings, "Other")
    foreign = other.client(resource_owner_key=token, resource_owner_secret=secret, verifier=verifier)
    response = await post_signed(client, ACCESS_TOKEN_URL, foreign)
    assert (response.status_code, problem(response)) == (401, problems.REQUEST_TOKEN_NOT_OF_CONSUMER)

    token_pair(await access_token(client, creds, token, secret, verifier))
    reused = await access_token(client, creds, token, secret, verifier)
    assert (reused.status_code, problem(reused)) == (401, "Specified token does not exist")
    # The access token cannot be traded again either.
    row = await OAuthToken.get(consumer_id=creds.consumer_id)
    assert row.type == "access"


async def test_reauthorize_keeps_the_old_token_until_the_new_exchange_completes(
    guest: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    creds, old_verifier = await exchange_ready(callback, settings)
    token, secret = token_pair(await request_token(client, creds))
    creds.token, creds.token_secret = token_pair(await access_token(client, creds, token, secret, old_verifier))
    assert (await signed_gql(guest, creds, VIEWER))["data"]["viewer"]["kind"] == "INTEGRATION"

    await start_token_exchange(creds.integration_id, settings, await load_config())
    # The live connection keeps working while the third party completes the new exchange.
    assert (await Integration.get(id=creds.integration_id)).status == STATUS_ACTIVE
    assert (await signed_gql(guest, creds, VIEWER))["data"]["viewer"]["kind"] == "INTEGRATION"

    new_verifier = callback.received[-1].form["oauth_verifier"]
    assert new_verifier != old_verifier
    token, secret = token_pair(await request_token(client, creds))
    assert (await signed_gql(guest, creds, VIEWER))["data"]["viewer"]["kind"] == "INTEGRATION"
    stale = await access_token(client, creds, token, secret, old_verifier)
    assert (stale.status_code, problem(stale)) == (401, "Token verifier and verifier token do not match")
    new = Creds(**{**dataclasses.asdict(creds), "token": None, "token_secret": None})
    new.token, new.token_secret = token_pair(await access_token(client, creds, token, secret, new_verifier))
    assert (await Integration.get(id=creds.integration_id)).status == STATUS_ACTIVE
    # Only now is the old access token revoked, and the new one works.
    assert gql_problem(await signed_gql(guest, creds, VIEWER, status=401)) == "Specified token does not exist"
    assert (await signed_gql(guest, new, VIEWER))["data"]["viewer"]["kind"] == "INTEGRATION"


async def _failed(creds: Creds, settings: Settings) -> str:
    """Start an exchange that must fail; nothing half-made stays behind. Returns the detail for the log."""
    status = (await Integration.get(id=creds.integration_id)).status
    tokens_before = await OAuthToken.filter(consumer_id=creds.consumer_id).values_list("id", "type", "token_hash")
    with pytest.raises(TokenExchangeFailed) as failure:
        await start_token_exchange(creds.integration_id, settings, await load_config())
    # The caller learns only that delivery failed: no port-scan or DNS oracle, no secret.
    assert failure.value.message == NOT_DELIVERED
    assert creds.consumer_secret not in failure.value.detail
    assert (await Integration.get(id=creds.integration_id)).status == status
    # No exchange token is left; an access token the integration had is untouched.
    tokens = await OAuthToken.filter(consumer_id=creds.consumer_id).values_list("id", "type", "token_hash")
    assert tokens == [t for t in tokens_before if t[1] == "access"]
    consumer = await OAuthConsumer.get(id=creds.consumer_id)
    assert consumer.exchange_started_at is None and consumer.activation_started_at is None
    return failure.value.detail


async def test_2xx_and_3xx_count_as_delivered_and_errors_fail_cleanly(
    client: httpx.AsyncClient, callback: CallbackServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    creds = await make_integration("Partner", endpoint=callback.url(), identity_link_url=IDENTITY_LINK)
    callback.behaviour["/callback"] = Behaviour(status=500)
    assert "answered HTTP 500" in await _failed(creds, settings)
    assert "answered HTTP 500" in caplog.text  # the detail is in the log
    callback.behaviour["/callback"] = Behaviour(status=404)
    assert "answered HTTP 404" in await _failed(creds, settings)
    # A POST/redirect/GET handler answers 303 after storing: delivered, and the redirect is not followed.
    for status in (302, 303):
        callback.behaviour["/callback"] = Behaviour(status=status, location="/elsewhere")
        await start_token_exchange(creds.integration_id, settings, await load_config())
        assert [r.path for r in callback.received[-1:]] == ["/callback"]
        assert "oauth_verifier" in callback.received[-1].form

    await save_config({POST_MAXREDIRECTS: "1"})
    callback.behaviour["/callback"] = Behaviour(status=307, location="/second")
    callback.behaviour["/second"] = Behaviour(status=307, location="/third")
    received = len(callback.received)
    await start_token_exchange(creds.integration_id, settings, await load_config())
    assert [r.path for r in callback.received[received:]] == ["/callback", "/second"]  # one redirect followed
    callback.behaviour["/second"] = Behaviour(status=204)
    started = await start_token_exchange(creds.integration_id, settings, await load_config())
    assert isinstance(started, TokenExchangeStarted)
    assert callback.received[-1].path == "/second" and callback.received[-1].method == "POST"
    assert "oauth_verifier" in callback.received[-1].form

    callback.behaviour["/callback"] = Behaviour(status=301, location=f"http://0.0.0.0:{callback.port}/second")
    assert "callbacks never go there" in await _failed(creds, settings)  # a followed redirect is checked too
    assert creds.consumer_secret not in caplog.text


async def test_timeout_and_refused_connection(
    client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    await save_config({POST_TIMEOUT: "1"})
    creds = await make_integration("Slow", endpoint=callback.url(), identity_link_url=IDENTITY_LINK)
    callback.behaviour["/callback"] = Behaviour(delay=2.5)
    assert "did not answer within 1 s" in await _failed(creds, settings)

    closed = await make_integration(
        "Closed", endpoint=f"http://127.0.0.1:{free_port()}/cb", identity_link_url=IDENTITY_LINK
    )
    assert "could not be reached" in await _failed(closed, settings)


async def test_private_and_forbidden_callback_addresses(
    client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    strict = dataclasses.replace(settings, allow_private_callbacks=False)
    for host in ("127.0.0.1", "localhost"):
        creds = await make_integration(
            f"Local {host}", endpoint=callback.url(host=host), identity_link_url=IDENTITY_LINK
        )
        message = await _failed(creds, strict)
        assert "private or loopback address" in message and "ALLOW_PRIVATE_CALLBACKS=1" in message
    forbidden = await make_integration(
        "Unspecified", endpoint=f"http://0.0.0.0:{callback.port}/callback", identity_link_url=IDENTITY_LINK
    )
    assert "callbacks never go there" in await _failed(forbidden, settings)
    assert callback.received == []

    pinned = await make_integration("Pinned", endpoint=callback.url(host="localhost"), identity_link_url=IDENTITY_LINK)
    await start_token_exchange(pinned.integration_id, settings, await load_config())
    assert callback.received[-1].headers["Host"] == f"localhost:{callback.port}"


async def test_success_callback_page_closes_the_popup_under_a_strict_csp(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/integration/success-callback")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert '<script src="success-callback.js"' in page.text and "<script>" not in page.text
    script = await client.get("/admin/integration/success-callback.js")
    assert script.status_code == 200
    assert "window.close()" in script.text


async def test_cleanup_of_old_nonces_and_expired_request_tokens(
    guest: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    signer = await make_integration("Signer")
    creds, _ = await exchange_ready(callback, settings)
    token_pair(await request_token(client, creds))

    await save_config({CLEANUP_PROBABILITY: "0"})
    clock.advance(121 * 60)
    now = int(clock.time())
    await OAuthNonce.create(consumer_id=signer.consumer_id, nonce="ancient", timestamp=now - 121 * 60)
    await OAuthNonce.create(consumer_id=signer.consumer_id, nonce="recent", timestamp=now - 60)
    await signed_gql(guest, signer, VIEWER)
    assert await OAuthNonce.filter(nonce="ancient").exists()

    await save_config({CLEANUP_PROBABILITY: "1"})
    await signed_gql(guest, signer, VIEWER)
    assert not await OAuthNonce.filter(nonce="ancient").exists()
    assert await OAuthNonce.filter(nonce="recent").exists()
    assert await OAuthToken.filter(consumer_id=creds.consumer_id, type="request").exists()

    other, _ = await exchange_ready(callback, settings, "Other")
    token_pair(await request_token(client, other))  # a token save runs the cleanup
    assert not await OAuthToken.filter(consumer_id=creds.consumer_id).exists()
    assert await OAuthToken.filter(consumer_id=other.consumer_id, type="request").exists()


# ----------------------------------------------------------------------------------- through GraphQL


async def test_authorize_and_reauthorize_through_graphql(
    guest: GraphQLClient,
    admin: GraphQLClient,
    client: httpx.AsyncClient,
    callback: CallbackServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    integration = await create(
        admin,
        name="Partner",
        callbackUrl=callback.url(),
        identityLinkUrl="https://partner.example/link",
        resourceAccess="CUSTOM",
        resources=["Magento_Catalog::products"],
    )
    callback.behaviour["/callback"] = Behaviour(status=503)
    failed = (await admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["data"]["authorizeIntegration"]
    assert admin.user_errors(failed) == [(("id",), "CALLBACK_FAILED")]
    assert failed["userErrors"][0]["message"] == NOT_DELIVERED
    assert "answered HTTP 503" in caplog.text
    assert failed["integration"]["status"] == "INACTIVE"
    assert failed["identityLinkUrl"] is None and failed["credentials"] is None

    callback.behaviour["/callback"] = Behaviour(status=200)
    payload = (await admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["data"]["authorizeIntegration"]
    assert payload["userErrors"] == []
    assert payload["credentials"] is None
    assert payload["integration"]["status"] == "INACTIVE"
    assert payload["successCallbackUrl"] == "http://store.test/admin/integration/success-callback"
    link = urllib.parse.urlsplit(payload["identityLinkUrl"])
    consumer_key = dict(urllib.parse.parse_qsl(link.query))["oauth_consumer_key"]
    posted = callback.received[-1].form
    assert posted["oauth_consumer_key"] == consumer_key

    consumer = await OAuthConsumer.get(key=consumer_key)
    creds = Creds(consumer.integration_id, consumer.id, consumer_key, posted["oauth_consumer_secret"])  # type: ignore[attr-defined]
    token, secret = token_pair(await request_token(client, creds))
    creds.token, creds.token_secret = token_pair(
        await access_token(client, creds, token, secret, posted["oauth_verifier"])
    )
    shown = (await admin.query(GET, {"id": integration["id"]}))["data"]["integration"]
    assert shown["status"] == "ACTIVE"
    assert shown["credentials"]["accessToken"] == creds.token
    body = await signed_gql(guest, creds, VIEWER)
    assert body["data"]["viewer"]["resources"] == ["Magento_Catalog::edit_product_design", "Magento_Catalog::products"]

    again = (await admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["data"]["authorizeIntegration"]
    assert admin.user_errors(again) == [(("id",), "ALREADY_ACTIVE")]

    redo = (await admin.query(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["data"][
        "reauthorizeIntegration"
    ]
    assert redo["userErrors"] == []
    assert redo["integration"]["status"] == "ACTIVE"  # the old token works until the new exchange completes
    assert (await signed_gql(guest, creds, VIEWER))["data"]["viewer"]["kind"] == "INTEGRATION"
    assert callback.received[-1].form["oauth_verifier"] != posted["oauth_verifier"]

    callback.behaviour["/callback"] = Behaviour(status=503)
    failed_again = (await admin.query(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}))["data"][
        "reauthorizeIntegration"
    ]
    assert admin.user_errors(failed_again) == [(("id",), "CALLBACK_FAILED")]
    # A failing callback never cuts the live connection.
    assert failed_again["integration"]["status"] == "ACTIVE"
    assert (await signed_gql(guest, creds, VIEWER))["data"]["viewer"]["kind"] == "INTEGRATION"


ROTATE = """mutation($id: ID!, $overlap: Int!, $currentPassword: String) {
  rotateIntegrationSecret(id: $id, overlapSeconds: $overlap, currentPassword: $currentPassword) {
    credentials { consumerSecret } userErrors { code }
  }
}"""


async def test_exchange_signed_with_the_previous_secret_works_until_the_overlap_ends(
    admin: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer, settings: Settings
) -> None:
    """A third party that received the credentials just before a rotation completes the exchange with them."""
    from resolvers.integrations.service import global_id

    creds, verifier = await exchange_ready(callback, settings)
    rotated = await admin.data(ROTATE, {"id": global_id(creds.integration_id), "overlap": 60, **YOUR_PASSWORD})
    new_secret = rotated["rotateIntegrationSecret"]["credentials"]["consumerSecret"]
    clock.advance(59)
    token, secret = token_pair(await request_token(client, creds))
    token_pair(await access_token(client, creds, token, secret, verifier))
    assert (await Integration.get(id=creds.integration_id)).status == STATUS_ACTIVE

    other, _ = await exchange_ready(callback, settings, "Other")
    await admin.data(ROTATE, {"id": global_id(other.integration_id), "overlap": 60, **YOUR_PASSWORD})
    clock.advance(60)
    late = await request_token(client, other)
    assert (late.status_code, problem(late)) == (401, "The signature is invalid. Verify and try again.")
    assert new_secret != creds.consumer_secret
