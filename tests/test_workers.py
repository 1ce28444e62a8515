"""Several workers on one PostgreSQL database: ``serve --workers 2``, and two separate server processes.

Start-up work (migrations, the first admin) happens once, in the parent; a change made through one
worker is seen by every worker on its next request; concurrent writes through different workers never
fail with a 500 or ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.database import POSTGRES_URL, create_admin_account, query
from tests.support.fuzzing import AUTHORIZE_INTEGRATION, CREATE_INTEGRATION
from tests.support.graphql import SyncGraphQLClient
from tests.support.oauth import shown_client
from tests.support.servers import ServerProcess, first_admin_password, running_server

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="several workers need DATABASE_URL pointing at PostgreSQL")

ADMIN = ("workers-admin", "workers-admin-password")
#: Your Password of that admin, as its integration writes send it.
PASSWORD = {"currentPassword": ADMIN[1]}
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
def two_workers(database_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, SyncGraphQLClient]]:
    """``serve --workers 2``, and its admin."""
    create_admin_account(database_url, *ADMIN)
    with running_server({"DATABASE_URL": database_url}, tmp_path / "server.log", args=("--workers", "2")) as server:
        yield server, SyncGraphQLClient(server.base_url).sign_in(*ADMIN)


def fresh_connections(
    caller: SyncGraphQLClient, count: int, document: str, variables: dict[str, Any] | None = None
) -> list[dict]:
    """``count`` requests, each on its own connection, so that the kernel spreads them over the workers."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: caller.query(document, variables), range(count)))


def worker_pids(server: Any) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_two_workers_bootstrap_once_in_the_parent(database_url: str, tmp_path: Path) -> None:
    with running_server({"DATABASE_URL": database_url}, tmp_path / "server.log", args=("--workers", "2")) as server:
        assert len(worker_pids(server)) >= 2, server.output()
        output = server.output()
        assert output.count("Created the first admin account") == 1, output
        password = first_admin_password(server)
        assert SyncGraphQLClient(server.base_url).sign_in("admin", password).token
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


def test_config_changes_reach_both_workers_on_the_next_request(
    two_workers: tuple[ServerProcess, SyncGraphQLClient],
) -> None:
    server, admin = two_workers
    guest = SyncGraphQLClient(server.base_url)
    answers = fresh_connections(guest, 24, GUEST_PRODUCTS)
    assert {a["data"]["products"] is not None for a in answers} == {False}
    for allow in (True, False, True):
        changed = admin.query(SET_GUEST, {"a": allow})
        assert changed["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is allow
        answers = fresh_connections(guest, 24, GUEST_PRODUCTS)
        assert {a["data"]["products"] is not None for a in answers} == {allow}
    for period in (600, 42):
        changed = admin.query(UPDATE_OAUTH, {"i": {"consumerExpirationPeriod": period}})
        assert changed["data"]["updateOAuthConfig"]["userErrors"] == [], changed
        answers = fresh_connections(admin, 24, OAUTH)
        assert {a["data"]["config"]["oauth"]["consumerExpirationPeriod"] for a in answers} == {period}


def test_two_server_processes_see_each_others_oauth_config(database_url: str, tmp_path: Path) -> None:
    create_admin_account(database_url, *ADMIN)
    env = {"DATABASE_URL": database_url}
    with running_server(env, tmp_path / "a.log") as first, running_server(env, tmp_path / "b.log") as second:
        admin = SyncGraphQLClient(first.base_url).sign_in(*ADMIN)
        for writer, reader, hours in ((first, second, 7), (second, first, 9)):
            changed = admin.at(writer.base_url).query(UPDATE_OAUTH, {"i": {"adminTokenLifetime": hours}})
            assert changed["data"]["updateOAuthConfig"]["oauth"]["adminTokenLifetime"] == hours
            read = admin.at(reader.base_url).query(OAUTH)
            assert read["data"]["config"]["oauth"]["adminTokenLifetime"] == hours


def test_failed_sign_ins_through_both_workers_are_all_counted(
    two_workers: tuple[ServerProcess, SyncGraphQLClient],
) -> None:
    """The lock-out counts every failure: concurrent attempts through different workers lose no update."""
    server, admin = two_workers
    disabled = admin.query(UPDATE_OAUTH, {"i": {"maxFailuresCount": 0}})
    assert disabled["data"]["updateOAuthConfig"]["userErrors"] == [], disabled
    attempt = 'mutation { generateAdminToken(username: "intruder", password: "guess") { token } }'
    answers = fresh_connections(SyncGraphQLClient(server.base_url), 16, attempt)
    assert all(a["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" for a in answers), answers
    counted = query(POSTGRES_URL, "SELECT failures_count FROM oauth_token_request_log WHERE user_name = $1", "intruder")
    assert counted == [{"failures_count": 16}]


def test_concurrent_config_writes_through_both_workers_never_fail(
    two_workers: tuple[ServerProcess, SyncGraphQLClient],
) -> None:
    _server, admin = two_workers
    requests = [
        (SET_GUEST, {"a": index % 2 == 0})
        if index % 3
        else (UPDATE_OAUTH, {"i": {"consumerExpirationPeriod": 100 + index}})
        for index in range(60)
    ]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda request: admin.post(*request), requests))
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


def race(
    callers: list[SyncGraphQLClient],
    document: str,
    variables: dict[str, Any],
    per_server: int,
    headers: dict[str, str] | None = None,
) -> list[httpx.Response]:
    """The same request sent at the same moment, ``per_server`` times through each caller (a connection each)."""
    targets = [caller for caller in callers for _ in range(per_server)]
    barrier = threading.Barrier(len(targets))

    def send(caller: SyncGraphQLClient) -> httpx.Response:
        barrier.wait()
        return caller.post(document, variables, headers=headers)

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
        admin = SyncGraphQLClient(servers[0].base_url).sign_in(*ADMIN)
        admins = [admin.at(server.base_url) for server in servers]
        for attempt in range(4):
            name = f"race {attempt}"
            created = admin.query(CREATE_INTEGRATION, {"input": {"name": name, "resourceAccess": "ALL", **PASSWORD}})
            integration_id = created["data"]["createIntegration"]["integration"]["id"]
            responses = race(admins, AUTHORIZE_INTEGRATION, {"id": integration_id, **PASSWORD}, 4)
            assert all(r.status_code == 200 and not r.json().get("errors") for r in responses), [
                r.text for r in responses
            ]
            payloads = [r.json()["data"]["authorizeIntegration"] for r in responses]
            winners = [p for p in payloads if p["credentials"] and not p["userErrors"]]
            assert len(winners) == 1, payloads
            losers = [p for p in payloads if p is not winners[0]]
            assert all(p["credentials"] is None and p["userErrors"] for p in losers), losers
            assert {e["code"] for p in losers for e in p["userErrors"]} <= {"ALREADY_ACTIVE", "IN_PROGRESS"}
            assert integrity_of_integration(name) == {"status": 1, "consumers": 1, "grants": 1, "access_tokens": 1}


def test_a_signed_request_replayed_at_once_through_two_workers_succeeds_once(
    two_workers: tuple[ServerProcess, SyncGraphQLClient],
) -> None:
    server, admin = two_workers
    fields = {"name": "replayed", "resourceAccess": "ALL", **PASSWORD}
    created = admin.query(CREATE_INTEGRATION, {"input": fields})["data"]["createIntegration"]
    authorized = admin.query(AUTHORIZE_INTEGRATION, {"id": created["integration"]["id"], **PASSWORD})
    credentials = authorized["data"]["authorizeIntegration"]["credentials"]
    _uri, signed, _body = shown_client(credentials).sign(f"{server.base_url}/graphql", "POST")
    responses = race([SyncGraphQLClient(server.base_url)], VIEWER, {}, 16, headers=signed)
    assert sorted(r.status_code for r in responses) == [200] + [401] * 15, [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.json()["data"]["viewer"]["kind"] == "INTEGRATION"
    assert {r.json()["errors"][0]["extensions"]["code"] for r in responses if r.status_code == 401} == {
        "UNAUTHENTICATED"
    }
