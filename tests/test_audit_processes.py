"""The audit trail through real server processes: concurrent writers on two processes never fork the chain, and an
event names the client as the trusted-proxy rules see it."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx

from tests.support.database import create_admin_account, query
from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import create_on_server
from tests.support.servers import run_cli

ADMIN = ("auditor", "auditor-password-1")
SHOW = "{ integrations { edges { node { name credentials { consumerKey } } } } }"
READS = 20


def signed_in(base_url: str) -> SyncGraphQLClient:
    return SyncGraphQLClient(base_url).sign_in(*ADMIN)


def test_concurrent_writers_on_two_processes_make_one_unbroken_chain(database_url: str, server_factory: Any) -> None:
    create_admin_account(database_url, *ADMIN)
    env = {"DATABASE_URL": database_url}
    servers = [server_factory(env), server_factory(env)]
    admin = signed_in(servers[0].base_url)
    callers = [admin, admin.at(servers[1].base_url)]
    for name in ("One", "Two", "Three"):
        create_on_server(admin, ADMIN[1], name=name, resourceAccess="ALL")
    before = query(database_url, "SELECT COUNT(*) AS n FROM audit_event")[0]["n"]

    # Each read shows three integrations' credentials: three events, appended at once by one process, while
    # the other process appends its own; nothing else these requests write could queue them one behind another.
    def show(n: int) -> int:
        edges = callers[n % 2].data(SHOW)["integrations"]["edges"]
        return sum(1 for edge in edges if edge["node"]["credentials"]["consumerKey"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        shown = sum(pool.map(show, range(READS)))
    assert shown == 3 * READS

    rows = query(database_url, "SELECT id, prev_hash, hash, action FROM audit_event ORDER BY id")
    assert len(rows) == before + shown  # one event each, none lost
    assert {row["action"] for row in rows[before:]} == {"integration.credentials_shown"}
    assert [row["id"] for row in rows] == list(range(1, len(rows) + 1))
    assert [row["prev_hash"] for row in rows[1:]] == [row["hash"] for row in rows[:-1]]  # one chain, no fork
    verified = run_cli("verify-audit-log", env=env)
    assert verified.returncode == 0, verified.stderr
    assert f"{len(rows)} event(s)" in verified.stdout


def test_events_name_the_client_behind_a_trusted_proxy_only(database_url: str, server_factory: Any) -> None:
    create_admin_account(database_url, *ADMIN)
    forwarded = {"X-Forwarded-For": "198.51.100.7", "User-Agent": "ops-browser/3", "X-Request-Id": "proxy-req-77"}
    sign_in = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"
    for allowed, expected in (("127.0.0.1", ("198.51.100.7", "proxy-req-77")), ("10.9.9.9", ("127.0.0.1", None))):
        server = server_factory({"DATABASE_URL": database_url, "FORWARDED_ALLOW_IPS": allowed})
        response = httpx.post(
            f"{server.base_url}/graphql",
            json={"query": sign_in, "variables": {"u": ADMIN[0], "p": "wrong-password-3"}},
            headers=forwarded,
            timeout=30,
        )
        [event] = query(
            database_url,
            "SELECT client_ip, user_agent, request_id FROM audit_event WHERE action = $1 ORDER BY id DESC LIMIT 1",
            "admin.sign_in_failed",
        )
        client_ip, request_id = expected
        assert (event["client_ip"], event["user_agent"]) == (client_ip, "ops-browser/3")
        # An untrusted peer's X-Request-Id is replaced by one of the server's own, which it answers.
        assert event["request_id"] == (request_id or response.headers["x-request-id"])
        assert event["request_id"] == response.headers["x-request-id"]
        server.stop()
