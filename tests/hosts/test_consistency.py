"""Three hosts behind HAProxy on one PostgreSQL and one Redis behave as one server: whatever host a request
reaches, it sees every change made through any other host at once, and the limits that protect the store
(nonces, revoked tokens, rate-limit buckets, webhook attempts) hold across hosts."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import time
from typing import Any

import httpx
import pytest

from tests.hosts.helpers import (
    ALL_HOSTS,
    PASSWORD,
    PRODUCTS,
    SET_GUEST,
    integration,
    oauth_headers,
    one_signed_request,
    over_every_host,
    set_rate_limits,
    update_grant,
)
from tests.support.database import query
from tests.support.graphql import SyncGraphQLClient
from tests.support.hosts import Cluster, served_by
from tests.support.webhooks import (
    CREATE_PRODUCT,
    CREATE_SUBSCRIPTION,
    UPDATE_PRODUCT,
    payload_of,
    receiving,
    subscription_input,
)

pytestmark = pytest.mark.once


def test_requests_are_spread_over_every_host_and_each_trusts_the_balancers_forwarded_headers(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    answers = over_every_host(lambda: httpx.post(f"{cluster_ready.lb_url}/graphql", json={"query": "{ __typename }"}))
    assert len(answers) == 3 and all(a.status_code == 200 for a in answers)
    # The client's own address (loopback, as HAProxy saw it), not the balancer's, is what the hosts record.
    signed_in = '{ auditEvents(filter: {action: "admin.sign_in_succeeded"}, first: 1) { edges { node { clientIp } } } }'
    events = admin.data(signed_in)
    [edge] = events["auditEvents"]["edges"]
    assert edge["node"]["clientIp"] == "127.0.0.1"


def test_a_guest_access_change_through_one_host_applies_to_the_next_request_on_every_host(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    guest = SyncGraphQLClient(cluster_ready.lb_url)
    try:
        for allow in (True, False, True):
            changed = admin.post(SET_GUEST, {"a": allow})
            assert changed.json()["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is allow
            answers = over_every_host(lambda: guest.post(PRODUCTS))
            for answer in answers:
                body = answer.json()
                if allow:
                    assert body["data"]["products"] is not None and "errors" not in body, (served_by(answer), body)
                else:
                    assert body["data"]["products"] is None, (served_by(answer), body)
                    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            # And each host asked directly, too.
            for host in cluster_ready.hosts:
                direct = guest.at(host.base_url).query(PRODUCTS)
                assert (direct["data"]["products"] is not None) is allow, (host.name, direct)
    finally:
        admin.data(SET_GUEST, {"a": False})


def test_a_grant_change_through_one_host_applies_to_the_next_request_on_every_host(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    made = integration(admin, "Grant across hosts", ["Magento_Catalog::products"])
    url = f"{cluster_ready.lb_url}/graphql"

    def signed() -> httpx.Response:
        return httpx.post(url, content=json.dumps({"query": PRODUCTS}), headers=oauth_headers(made["credentials"], url))

    for answer in over_every_host(signed):
        assert answer.status_code == 200 and answer.json()["data"]["products"] is not None, answer.text
    update_grant(admin, made["integration"]["id"], ["Magento_Cms::page"])
    for answer in over_every_host(signed):
        body = answer.json()
        assert body["data"]["products"] is None, (served_by(answer), body)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    update_grant(admin, made["integration"]["id"], ["Magento_Catalog::products"])
    for answer in over_every_host(signed):
        assert answer.json()["data"]["products"] is not None, answer.text


def test_an_oauth1_request_replayed_to_another_host_is_refused(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    url, body, headers = one_signed_request(admin, cluster_ready.lb_url, "Replay across hosts")
    first = httpx.post(url, content=body, headers=headers)
    assert first.status_code == 200, first.text
    replays = [httpx.post(url, content=body, headers=headers) for _ in range(3)]
    assert {served_by(r) for r in replays} | {served_by(first)} == ALL_HOSTS
    for replay in replays:
        assert replay.status_code == 401, replay.text
        assert "nonce is already being used" in replay.json()["errors"][0]["message"]


def test_twenty_concurrent_replays_spread_over_the_hosts_succeed_once(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    url, body, headers = one_signed_request(admin, cluster_ready.lb_url, "Concurrent replays")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: httpx.post(url, content=body, headers=headers, timeout=30), range(20)))
    assert sorted(a.status_code for a in answers) == [200] + [401] * 19, [a.text for a in answers]
    assert {served_by(a) for a in answers} == ALL_HOSTS


def test_an_oauth2_token_revoked_on_one_host_is_refused_on_every_host(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    made = integration(
        admin, "OAuth 2.0 across hosts", ["Magento_Catalog::products"], authMethods=["OAUTH2_CLIENT_CREDENTIALS"]
    )
    client = (made["credentials"]["consumerKey"], made["credentials"]["consumerSecret"])
    issued = httpx.post(f"{cluster_ready.lb_url}/oauth2/token", data={"grant_type": "client_credentials"}, auth=client)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    bearer = SyncGraphQLClient(cluster_ready.lb_url, token)
    for answer in over_every_host(lambda: bearer.post(PRODUCTS)):
        assert answer.status_code == 200 and answer.json()["data"]["products"] is not None, answer.text
    # Revoked through host 1, asked directly.
    revoked = httpx.post(f"{cluster_ready.hosts[0].base_url}/oauth2/revoke", data={"token": token}, auth=client)
    assert revoked.status_code == 200, revoked.text
    for answer in over_every_host(lambda: bearer.post(PRODUCTS)):
        assert answer.status_code == 401, (served_by(answer), answer.text)
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for host in cluster_ready.hosts:
        assert bearer.at(host.base_url).post(PRODUCTS).status_code == 401, host.name


def test_one_integrations_rate_limit_bucket_is_shared_by_every_host(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    made = integration(admin, "Shared bucket", ["Magento_Catalog::products"])
    url = f"{cluster_ready.lb_url}/graphql"
    body = json.dumps({"query": PRODUCTS})
    bucket, restore = 30, 1
    set_rate_limits(admin, throttlingEnabled=True, integrationBucketSize=bucket, integrationRestoreRate=restore)
    try:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(15) as pool:
            answers = list(
                pool.map(
                    lambda _: httpx.post(
                        url, content=body, headers=oauth_headers(made["credentials"], url), timeout=30
                    ),
                    range(45),
                )
            )
        elapsed = time.monotonic() - started
    finally:
        set_rate_limits(admin, throttlingEnabled=False)
    statuses = collections.Counter(a.status_code for a in answers)
    assert set(statuses) <= {200, 429}, [a.text for a in answers if a.status_code not in (200, 429)]
    cost = next(a.json()["extensions"]["cost"]["requestedQueryCost"] for a in answers if a.status_code == 200)
    assert cost >= 1
    allowed = statuses[200]
    # One bucket for all six processes: what it held, plus what it restored while the burst lasted.
    assert bucket // cost <= allowed <= (bucket + restore * elapsed) // cost + 1, (allowed, cost, elapsed)
    assert {served_by(a) for a in answers} == ALL_HOSTS
    print(f"\nshared bucket: {bucket} points, cost {cost}: {allowed} of 45 allowed in {elapsed:.2f} s over 3 hosts")


def test_each_webhook_event_is_delivered_once_per_attempt_whatever_host_claims_it(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    allowed = admin.data(
        "mutation($h: [String!]!) { updateOAuthConfig(input: {privateCallbackAllowList: $h}) { userErrors { code } } }",
        {"h": [cluster_ready.gateway]},
    )
    assert allowed["updateOAuthConfig"]["userErrors"] == []
    made = integration(admin, "Webhooks across hosts", ["Magento_Catalog::products"])
    with receiving(host=cluster_ready.gateway) as receiver:
        created = admin.data(
            CREATE_SUBSCRIPTION, {"input": {**subscription_input(made["integration"]["id"], receiver.url), **PASSWORD}}
        )["createWebhookSubscription"]
        assert created["userErrors"] == [], created
        secret = created["subscription"]["secret"]
        product = admin.data(CREATE_PRODUCT, {"input": {"sku": "hooked-1", "name": "Hooked", "price": 1}})
        product_id = product["createProduct"]["product"]["id"]
        updates = 30
        for n in range(updates):
            updated = admin.data(UPDATE_PRODUCT, {"input": {"id": product_id, "price": 100 + n}})
            assert updated["updateProduct"]["userErrors"] == []
        requests = receiver.wait_for(updates, timeout=90)
        time.sleep(2)  # any duplicate would arrive now
        requests = list(receiver.requests)
    ids = collections.Counter(r.webhook_id for r in requests)
    assert len(ids) == updates and set(ids.values()) == {1}, ids
    assert receiver.overlaps == []
    prices = sorted(payload_of(r, secret)["data"]["event"]["product"]["price"] for r in requests)
    assert prices == [100 + n for n in range(updates)]
    rows = query(
        cluster_ready.database_url,
        "SELECT d.status, d.attempts, COUNT(a.id) AS made FROM webhook_delivery d "
        "LEFT JOIN webhook_delivery_attempt a ON a.delivery_id = d.id GROUP BY d.id, d.status, d.attempts",
    )
    assert len(rows) == updates
    assert {(r["status"], r["attempts"], r["made"]) for r in rows} == {("DELIVERED", 1, 1)}
    senders = collections.Counter(r.peer for r in requests)
    print(f"\nwebhooks: {updates} events, each delivered once; senders {dict(senders)}")


def test_a_write_through_one_host_is_read_at_once_through_varnish_and_every_other_host(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    if cluster_ready.varnish is None:
        pytest.skip("needs Varnish (apt-get install varnish varnish-modules)")
    document = '{ products(filter: {skus: ["cached-1"]}, first: 1) { edges { node { sku price } } } }'
    admin.data(SET_GUEST, {"a": True})
    try:
        created = admin.data(CREATE_PRODUCT, {"input": {"sku": "cached-1", "name": "Cached", "price": 5}})
        product_id = created["createProduct"]["product"]["id"]
        cached = SyncGraphQLClient(cluster_ready.varnish_url)

        def read(client: SyncGraphQLClient) -> tuple[str, Any]:
            answer = client.get(document)
            assert answer.status_code == 200, answer.text
            return answer.headers.get("x-cache", ""), answer.json()["data"]["products"]["edges"][0]["node"]["price"]

        assert read(cached)[1] == 5
        assert read(cached) == ("HIT", 5)
        for price in (6, 7, 8):
            updated = admin.post(UPDATE_PRODUCT, {"input": {"id": product_id, "price": price}})
            writer = served_by(updated)
            # Varnish was purged before the write was answered, and every host's own cache is keyed by the data
            # version: the next read anywhere is fresh.
            assert read(cached) == ("MISS", price), writer
            for answer in over_every_host(lambda: SyncGraphQLClient(cluster_ready.lb_url).get(document)):
                assert answer.json()["data"]["products"]["edges"][0]["node"]["price"] == price, served_by(answer)
            assert read(cached) == ("HIT", price)
    finally:
        admin.data(SET_GUEST, {"a": False})
