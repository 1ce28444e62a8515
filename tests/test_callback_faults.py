"""Token-exchange activation against a callback endpoint that misbehaves, through a real server process.

A callback that hangs past the timeout, refuses the connection, answers 500, or resolves to a private
address gives the userError ``CALLBACK_FAILED`` (what happened is in the server log only) and leaves the
integration ``INACTIVE`` with no token; a redirect counts as delivered and is not followed; activating
again once the callback behaves works, all the way to signed API calls. The server killed with SIGKILL
while it waits for a callback leaves nothing half-activated either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from examples.third_party_app import StoreLink, exchange_tokens
from resolvers.integrations.callback import NOT_DELIVERED
from tests.support.database import create_admin_account, integrity_problems, query
from tests.support.graphql import SyncGraphQLClient
from tests.support.oauth import Behaviour, CallbackServer
from tests.support.servers import free_port, kill_hard, running_server

ADMIN = ("callback-admin", "callback-admin-password")
#: Your Password of that admin, as its integration writes send it.
PASSWORD = {"currentPassword": ADMIN[1]}
CREATE = """mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id } userErrors { code message } } }"""
AUTHORIZE = """mutation($id: ID!, $currentPassword: String) {
  authorizeIntegration(id: $id, currentPassword: $currentPassword) {
    integration { status } identityLinkUrl userErrors { code message } } }"""
UPDATE = """mutation($input: UpdateIntegrationInput!) {
  updateIntegration(input: $input) { integration { id } userErrors { code message } } }"""
STATUS = "query($id: ID!) { integration(id: $id) { status } }"
SET_TIMEOUT = """mutation($s: Int!) {
  updateOAuthConfig(input: {consumerPostTimeout: $s}) { userErrors { code } } }"""


class Store:
    """A server process (private callbacks allowed: the callback server is on loopback) and its admin."""

    def __init__(self, server: Any, admin: SyncGraphQLClient, database_url: str) -> None:
        self.server, self.admin, self.database_url = server, admin, database_url

    def create(self, name: str, callback_url: str) -> str:
        fields = {
            "name": name,
            "callbackUrl": callback_url,
            "identityLinkUrl": "http://127.0.0.1:9/identity",
            "resourceAccess": "CUSTOM",
            "resources": ["Magento_Catalog::products"],
            **PASSWORD,
        }
        payload = self.admin.data(CREATE, {"input": fields})["createIntegration"]
        assert payload["userErrors"] == [], payload
        return payload["integration"]["id"]

    def authorize(self, integration_id: str, via: SyncGraphQLClient | None = None) -> dict:
        """Activate, through this store's server or ``via`` another caller."""
        return (via or self.admin).data(AUTHORIZE, {"id": integration_id, **PASSWORD})["authorizeIntegration"]

    def tokens_of(self, name: str) -> list[dict]:
        return query(
            self.database_url,
            "SELECT t.type, c.exchange_started_at FROM oauth_token t JOIN oauth_consumer c ON c.id = t.consumer_id "
            "JOIN integration i ON i.id = c.integration_id WHERE i.name = $1",
            name,
        )


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    create_admin_account(database_url, *ADMIN)
    port = free_port()
    env = {"DATABASE_URL": database_url, "ALLOW_PRIVATE_CALLBACKS": "1", "STORE_BASE_URL": f"http://127.0.0.1:{port}/"}
    with running_server(env, tmp_path / "server.log", port=port) as server:
        store = Store(server, SyncGraphQLClient(server.base_url).sign_in(*ADMIN), database_url)
        assert store.admin.data(SET_TIMEOUT, {"s": 1})["updateOAuthConfig"]["userErrors"] == []
        yield store


def finish_exchange(store: Store, callback: CallbackServer, integration_id: str) -> None:
    """Play the third party: take the delivered credentials, trade the verifier, call the API signed."""
    delivered = callback.received[-1].form
    link = exchange_tokens(
        StoreLink(
            consumer_key=delivered["oauth_consumer_key"],
            consumer_secret=delivered["oauth_consumer_secret"],
            store_base_url=delivered["store_base_url"],
            verifier=delivered["oauth_verifier"],
        )
    )
    assert store.admin.data(STATUS, {"id": integration_id})["integration"]["status"] == "ACTIVE"
    signer = OAuth1(
        link.consumer_key,
        client_secret=link.consumer_secret,
        resource_owner_key=link.access_token,
        resource_owner_secret=link.access_token_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    viewer = requests.post(
        f"{store.server.base_url}/graphql", json={"query": "{ viewer { kind } }"}, auth=signer, timeout=30
    )
    assert viewer.json()["data"]["viewer"]["kind"] == "INTEGRATION", viewer.text


def assert_failed_cleanly(store: Store, name: str, payload: dict, words: str, log: str | None = None) -> None:
    assert [e["code"] for e in payload["userErrors"]] == ["CALLBACK_FAILED"], payload
    assert payload["userErrors"][0]["message"] == NOT_DELIVERED, payload  # no port-scan or DNS oracle
    assert words in (log if log is not None else store.server.output())  # the admin's details are in the log
    assert payload["integration"]["status"] == "INACTIVE" and payload["identityLinkUrl"] is None
    assert store.tokens_of(name) == []  # no verifier, no request or access token left behind
    assert integrity_problems(store.database_url) == []


CASES = {
    "hangs past the timeout": (Behaviour(delay=2.5), "did not answer within 1 s"),
    "answers 500": (Behaviour(status=500), "answered HTTP 500"),
    "answers 404": (Behaviour(status=404), "answered HTTP 404"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_misbehaving_callback_fails_cleanly_and_a_retry_works(
    case: str, store: Store, callback: CallbackServer
) -> None:
    behaviour, words = CASES[case]
    path = f"/{case.replace(' ', '-')}"
    callback.behaviour[path] = behaviour
    integration_id = store.create(case, callback.url(path))
    assert_failed_cleanly(store, case, store.authorize(integration_id), words)
    assert callback.received[-1].path == path  # it was tried

    callback.behaviour[path] = Behaviour()  # the third party fixes its endpoint
    retried = store.authorize(integration_id)
    assert retried["userErrors"] == [] and retried["identityLinkUrl"], retried
    finish_exchange(store, callback, integration_id)


def test_a_redirect_counts_as_delivered_and_is_not_followed(store: Store, callback: CallbackServer) -> None:
    callback.behaviour["/post-redirect-get"] = Behaviour(status=303, location="/stored")
    integration_id = store.create("redirects", callback.url("/post-redirect-get"))
    payload = store.authorize(integration_id)
    assert payload["userErrors"] == [] and payload["identityLinkUrl"], payload
    assert [r.path for r in callback.received] == ["/post-redirect-get"]
    finish_exchange(store, callback, integration_id)


def test_refused_connection_fails_cleanly_and_a_retry_works(store: Store, callback: CallbackServer) -> None:
    integration_id = store.create("refused", f"http://127.0.0.1:{free_port()}/callback")
    assert_failed_cleanly(store, "refused", store.authorize(integration_id), "could not be reached")

    fixed = store.admin.data(UPDATE, {"input": {"id": integration_id, "callbackUrl": callback.url(), **PASSWORD}})
    assert fixed["updateIntegration"]["userErrors"] == []
    assert store.authorize(integration_id)["userErrors"] == []
    finish_exchange(store, callback, integration_id)


def test_private_callback_address_is_refused_without_a_request(
    store: Store, callback: CallbackServer, tmp_path: Path
) -> None:
    """A second server process on the same database, with the default ALLOW_PRIVATE_CALLBACKS=0."""
    integration_id = store.create("private", callback.url(host="localhost"))
    env = {"DATABASE_URL": store.database_url}
    with running_server(env, tmp_path / "strict.log") as strict:
        payload = store.authorize(integration_id, via=store.admin.at(strict.base_url))
        log = strict.output()
    assert_failed_cleanly(store, "private", payload, "private or loopback address", log)
    assert callback.received == []  # nothing was sent

    assert store.authorize(integration_id)["userErrors"] == []  # the server that allows loopback callbacks
    finish_exchange(store, callback, integration_id)


def test_sigkill_while_waiting_for_the_callback_leaves_nothing_half_activated(
    store: Store, callback: CallbackServer, tmp_path: Path
) -> None:
    assert store.admin.data(SET_TIMEOUT, {"s": 60})["updateOAuthConfig"]["userErrors"] == []
    callback.behaviour["/slow"] = Behaviour(delay=30)
    integration_id = store.create("killed", callback.url("/slow"))
    answers: list[Any] = []
    pending = threading.Thread(
        target=lambda: answers.append(_swallow(lambda: store.authorize(integration_id))), daemon=True
    )
    pending.start()
    deadline = time.monotonic() + 20
    while not callback.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert callback.received, "the server never called back"
    kill_hard(store.server)  # in the middle of the activation
    pending.join(30)
    assert answers and isinstance(answers[0], httpx.HTTPError)  # the admin got no answer

    assert integrity_problems(store.database_url) == []
    status = query(store.database_url, "SELECT status FROM integration WHERE name = $1", "killed")
    assert status == [{"status": 0}]  # INACTIVE, not half-active
    assert [t["type"] for t in store.tokens_of("killed")] in ([], ["verifier"])  # at most the unused verifier

    port = int(store.server.base_url.rsplit(":", 1)[1])
    env = {
        "DATABASE_URL": store.database_url,
        "ALLOW_PRIVATE_CALLBACKS": "1",
        "STORE_BASE_URL": f"http://127.0.0.1:{port}/",
    }
    with running_server(env, tmp_path / "restarted.log", port=port) as again:
        store.server = again
        callback.behaviour["/slow"] = Behaviour()
        # The killed process's claim on the delivery lapses after the post timeout plus a margin.
        assert store.admin.data(SET_TIMEOUT, {"s": 1})["updateOAuthConfig"]["userErrors"] == []
        deadline = time.monotonic() + 30
        while (retried := store.authorize(integration_id))["userErrors"] and time.monotonic() < deadline:
            assert [e["code"] for e in retried["userErrors"]] == ["IN_PROGRESS"], retried
            time.sleep(0.5)
        assert retried["userErrors"] == [], retried
        finish_exchange(store, callback, integration_id)
        assert integrity_problems(store.database_url) == []


def _swallow(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:  # the connection dies with the server
        return exc
