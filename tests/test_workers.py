"""Several workers on one PostgreSQL database: ``serve --workers 2``, and two separate server processes.

Start-up work (migrations, the first admin) happens once, in the parent; a change made through one
worker is seen by every worker on its next request; concurrent writes through different workers never
fail with a 500 or ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.fuzzing import AUTHORIZE_INTEGRATION, CREATE_INTEGRATION
from tests.servers import create_admin_account, gql, query, running_server, sign_in

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="several workers need DATABASE_URL pointing at PostgreSQL")

ADMIN = ("workers-admin", "workers-admin-password")
VIEWER = "{ viewer { kind } }"
#: A guest's read of a guest-eligible field: null (UNAUTHENTICATED) unless guest access is on.
GUEST_PRODUCTS = "{ products(first: 1) { pageInfo { hasNextPage } } }"
SET_GUEST = "mutation($a: Boolean!) { setGuestAccess(allow: $a) { webApiSecurity { allowAnonymousGuestAccess } } }"
OAUTH = "{ config { oauth { consumerExpirationPeriod adminTokenLifetime } } }"
UPDATE_OAUTH = (
    "mutation($i: UpdateOAuthConfigInput!) { updateOAuthConfig(input: $i) "
    "{ oauth { consumerExpirationPeriod adminTokenLifetime } userErrors { code } } }"
)


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    create_admin_account(database_url, *ADMIN)
    with running_server({"DATABASE_URL": database_url}, tmp_path / "server.log", args=("--workers", "2")) as server:
        yield server, sign_in(server.base_url, *ADMIN)


def fresh_connections(base_url: str, count: int, body: dict[str, Any], token: str | None = None) -> list[dict]:
    """``count`` requests, each on its own connection, so that the kernel spreads them over the workers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def one(_: int) -> dict:
        with httpx.Client(timeout=30) as client:
            response = client.post(f"{base_url}/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def worker_pids(server: Any) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_two_workers_bootstrap_once_in_the_parent(database_url: str, tmp_path: Path) -> None:
    with running_server({"DATABASE_URL": database_url}, tmp_path / "server.log", args=("--workers", "2")) as server:
        assert len(worker_pids(server)) >= 2, server.output()
        output = server.output()
        assert output.count("Created the first admin account.") == 1, output
        password = re.search(r"password: (\S+)", output).group(1)  # type: ignore[union-attr]
        assert sign_in(server.base_url, "admin", password)
        assert "Traceback" not in output, output
    assert query(database_url, "SELECT COUNT(*) AS n FROM admin_user")[0]["n"] == 1
    assert query(database_url, "SELECT name FROM tortoise_migrations GROUP BY app, name HAVING COUNT(*) > 1") == []


def test_two_workers_apply_the_integrations_file_once(database_url: str, tmp_path: Path) -> None:
    declared = tmp_path / "integrations.toml"
    declared.write_text(
        "\n".join(
            f'[[integrations]]\nname = "Declared {n}"\nresources = ["Magento_Catalog::products"]\n' for n in range(3)
        )
    )
    env = {"DATABASE_URL": database_url, "INTEGRATIONS_FILE": str(declared), "LOG_LEVEL": "info"}
    with running_server(env, tmp_path / "first.log", args=("--workers", "2")) as server:
        log = server.output()
        assert len(worker_pids(server)) >= 2
    assert all(log.count(f"Integration 'Declared {n}' created from") == 1 for n in range(3)), log
    assert "not applied here" not in log
    assert log.rindex("created from") < log.index("GraphiQL:")  # by the parent, before any worker started
    declared.write_text(declared.read_text().replace("Magento_Catalog::products", "Magento_Sales::sales"))
    with running_server(env, tmp_path / "second.log", args=("--workers", "2")) as server:
        log = server.output()
    assert all(log.count(f"Integration 'Declared {n}' was re-created") == 1 for n in range(3)), log
    rows = query(database_url, "SELECT name, status FROM integration ORDER BY name")
    assert rows == [{"name": f"Declared {n}", "status": 2} for n in range(3)]  # each re-created once, RESET


def test_config_changes_reach_both_workers_on_the_next_request(two_workers: tuple[Any, str]) -> None:
    server, token = two_workers
    answers = fresh_connections(server.base_url, 24, {"query": GUEST_PRODUCTS})
    assert {a["data"]["products"] is not None for a in answers} == {False}
    for allow in (True, False, True):
        changed = gql(server.base_url, SET_GUEST, {"a": allow}, token=token).json()
        assert changed["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is allow
        answers = fresh_connections(server.base_url, 24, {"query": GUEST_PRODUCTS})
        assert {a["data"]["products"] is not None for a in answers} == {allow}
    for period in (600, 42):
        changed = gql(server.base_url, UPDATE_OAUTH, {"i": {"consumerExpirationPeriod": period}}, token=token).json()
        assert changed["data"]["updateOAuthConfig"]["userErrors"] == [], changed
        answers = fresh_connections(server.base_url, 24, {"query": OAUTH}, token=token)
        assert {a["data"]["config"]["oauth"]["consumerExpirationPeriod"] for a in answers} == {period}


def test_two_server_processes_see_each_others_oauth_config(database_url: str, tmp_path: Path) -> None:
    create_admin_account(database_url, *ADMIN)
    env = {"DATABASE_URL": database_url}
    with running_server(env, tmp_path / "a.log") as first, running_server(env, tmp_path / "b.log") as second:
        token = sign_in(first.base_url, *ADMIN)
        for writer, reader, hours in ((first, second, 7), (second, first, 9)):
            changed = gql(writer.base_url, UPDATE_OAUTH, {"i": {"adminTokenLifetime": hours}}, token=token).json()
            assert changed["data"]["updateOAuthConfig"]["oauth"]["adminTokenLifetime"] == hours
            read = gql(reader.base_url, OAUTH, token=token).json()
            assert read["data"]["config"]["oauth"]["adminTokenLifetime"] == hours


def test_failed_sign_ins_through_both_workers_are_all_counted(two_workers: tuple[Any, str]) -> None:
    """The lock-out counts every failure: concurrent attempts through different workers lose no update."""
    server, token = two_workers
    disabled = gql(server.base_url, UPDATE_OAUTH, {"i": {"maxFailuresCount": 0}}, token=token).json()
    assert disabled["data"]["updateOAuthConfig"]["userErrors"] == [], disabled
    attempt = {"query": 'mutation { generateAdminToken(username: "intruder", password: "guess") { token } }'}
    answers = fresh_connections(server.base_url, 16, attempt)
    assert all(a["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" for a in answers), answers
    counted = query(POSTGRES_URL, "SELECT failures_count FROM oauth_token_request_log WHERE user_name = $1", "intruder")
    assert counted == [{"failures_count": 16}]


def test_concurrent_config_writes_through_both_workers_never_fail(two_workers: tuple[Any, str]) -> None:
    server, token = two_workers
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [
        {"query": SET_GUEST, "variables": {"a": index % 2 == 0}}
        if index % 3
        else {"query": UPDATE_OAUTH, "variables": {"i": {"consumerExpirationPeriod": 100 + index}}}
        for index in range(60)
    ]

    def send(body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            return client.post(f"{server.base_url}/graphql", json=body, headers=headers)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(send, bodies))
    problems = [r.text for r in responses if r.status_code != 200 or r.json().get("errors")]
    assert problems == [], problems[:5]
    assert query(POSTGRES_URL, "SELECT path FROM core_config_data GROUP BY path HAVING COUNT(*) > 1") == []


def integrity_of_integration(name: str) -> dict[str, int]:
    """Rows that hang off one integration, counted in the database."""
    rows = query(
        POSTGRES_URL,
        """SELECT i.status,
                  (SELECT COUNT(*) FROM oauth_consumer c WHERE c.integration_id = i.id) AS consumers,
                  (SELECT COUNT(*) FROM integration_grant g WHERE g.integration_id = i.id) AS grants,
                  (SELECT COUNT(*) FROM oauth_token t JOIN oauth_consumer c ON c.id = t.consumer_id
                    WHERE c.integration_id = i.id AND t.type = 'access') AS access_tokens
           FROM integration i WHERE i.name = $1""",
        name,
    )
    assert len(rows) == 1, rows
    return rows[0]


def race(base_urls: list[str], token: str, body: dict[str, Any], per_url: int) -> list[httpx.Response]:
    """The same request sent at the same moment, ``per_url`` times to each server."""
    targets = [url for url in base_urls for _ in range(per_url)]
    barrier = threading.Barrier(len(targets))

    def send(url: str) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(f"{url}/graphql", json=body, headers={"Authorization": f"Bearer {token}"})

    with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
        return list(pool.map(send, targets))


@pytest.mark.parametrize("layout", ["two processes", "two workers"])
def test_concurrent_activation_gives_one_consumer_and_one_access_token(
    layout: str, database_url: str, tmp_path: Path
) -> None:
    create_admin_account(database_url, *ADMIN)
    env = {"DATABASE_URL": database_url}
    with contextlib.ExitStack() as stack:
        if layout == "two processes":
            servers = [stack.enter_context(running_server(env, tmp_path / f"{n}.log")) for n in "ab"]
        else:
            servers = [stack.enter_context(running_server(env, tmp_path / "w.log", args=("--workers", "2")))]
        base_urls = [server.base_url for server in servers]
        token = sign_in(base_urls[0], *ADMIN)
        for attempt in range(4):
            name = f"race {attempt}"
            created = gql(base_urls[0], CREATE_INTEGRATION, {"input": {"name": name, "resourceAccess": "ALL"}}, token)
            integration_id = created.json()["data"]["createIntegration"]["integration"]["id"]
            responses = race(base_urls, token, {"query": AUTHORIZE_INTEGRATION, "variables": {"id": integration_id}}, 4)
            assert all(r.status_code == 200 and not r.json().get("errors") for r in responses), [
                r.text for r in responses
            ]
            payloads = [r.json()["data"]["authorizeIntegration"] for r in responses]
            winners = [p for p in payloads if p["credentials"] and not p["userErrors"]]
            assert len(winners) == 1, payloads
            losers = [p for p in payloads if p is not winners[0]]
            assert all(p["credentials"] is None and p["userErrors"] for p in losers), losers
            assert {e["code"] for p in losers for e in p["userErrors"]} <= {"ALREADY_ACTIVE", "INVALID"}
            assert integrity_of_integration(name) == {"status": 1, "consumers": 1, "grants": 1, "access_tokens": 1}


def test_a_signed_request_replayed_at_once_through_two_workers_succeeds_once(two_workers: tuple[Any, str]) -> None:
    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

    server, token = two_workers
    fields = {"name": "replayed", "resourceAccess": "ALL"}
    created = gql(server.base_url, CREATE_INTEGRATION, {"input": fields}, token).json()["data"]["createIntegration"]
    authorized = gql(server.base_url, AUTHORIZE_INTEGRATION, {"id": created["integration"]["id"]}, token).json()
    credentials = authorized["data"]["authorizeIntegration"]["credentials"]
    client = Client(
        credentials["consumerKey"],
        client_secret=credentials["consumerSecret"],
        resource_owner_key=credentials["accessToken"],
        resource_owner_secret=credentials["accessTokenSecret"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    _uri, signed, _body = client.sign(f"{server.base_url}/graphql", "POST")
    headers = {**signed, "Content-Type": "application/json"}
    barrier = threading.Barrier(16)

    def send(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as http:  # a connection each, so both workers take some
            barrier.wait()
            return http.post(f"{server.base_url}/graphql", json={"query": VIEWER}, headers=headers)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(send, range(16)))
    assert sorted(r.status_code for r in responses) == [200] + [401] * 15, [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.json()["data"]["viewer"]["kind"] == "INTEGRATION"
    assert {r.json()["errors"][0]["extensions"]["code"] for r in responses if r.status_code == 401} == {
        "UNAUTHENTICATED"
    }
