"""Short fuzzing runs against a real server process (the long run is ``python bench/fuzz.py``).

Generated GraphQL operations (schemathesis, from the server's own schema) as a guest, as an admin and as
an integration with a Custom grant (OAuth 1.0a-signed requests), over a small demo store; then malformed
and random HTTP requests against ``/graphql`` and the OAuth token endpoints. The bar: no HTTP 5xx, no
``INTERNAL_SERVER_ERROR``, no stack trace in a body, and nothing logged as an unhandled exception;
malformed requests get a 4xx.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.database import create_admin_account, fresh_database, seed_demo_store, throttling_off
from tests.support.fuzzing import (
    Caller,
    FuzzReport,
    KnownIds,
    allow_guest_access,
    fuzz_graphql,
    integration_ids,
    make_caller,
    named_probes,
    random_probes,
    seed_integrations,
    send_probes,
)
from tests.support.graphql import SyncGraphQLClient
from tests.support.servers import running_server

pytest.importorskip("schemathesis")

#: Fixed so that CI runs are reproducible; set FUZZ_SEED to explore other inputs.
SEED = int(os.environ.get("FUZZ_SEED", "7"))
FUZZ_ADMIN = ("fuzz-admin-7q2x", "fuzz-admin-password-1")


def assert_clean(report: FuzzReport, server: Any, minimum: int) -> None:
    assert report.operations >= minimum, report.summary()
    assert not report.problems, f"{report.summary()}\n" + "\n".join(map(str, report.problems[:15]))
    log = server.output()
    assert "Exception in ASGI application" not in log, log[-3000:]
    assert "Unexpected error" not in log, log[-3000:]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path | None) -> Iterator[Any]:
    """One server for the whole module: the fuzzers only add to its state, and start-up is the slow part."""
    directory = tmp_path_factory.mktemp("fuzz")
    database_url = fresh_database(directory, migrated_template)
    create_admin_account(database_url, *FUZZ_ADMIN)
    seed_demo_store(database_url)
    throttling_off(database_url)  # throttling is tested on its own (tests/test_rate_limits.py)
    # Every test signs the admin in afresh, and the generated operations sign in too: the per-address sign-in
    # and token-endpoint limits (tested on their own) would otherwise refuse the module's later tests.
    env = {"DATABASE_URL": database_url, "SIGN_IN_RATE_LIMIT": "0", "OAUTH_TOKEN_RATE_LIMIT": "0"}
    with running_server(env, directory / "server.log") as server:
        seed_integrations(signed_in(server), FUZZ_ADMIN[1])
        yield server


def signed_in(server: Any) -> SyncGraphQLClient:
    """The fuzzing admin, freshly signed in (the admin's generated operations may revoke earlier tokens)."""
    return SyncGraphQLClient(server.base_url).sign_in(*FUZZ_ADMIN)


@pytest.fixture(scope="module")
def known_ids(fuzz_server: Any) -> KnownIds:
    """Generated ``id:`` arguments point at existing integrations half of the time (looked up by an admin signed
    in afresh: the admin's generated ``revokeAdminToken`` signs out every session of the admin)."""
    return KnownIds(lambda: integration_ids(signed_in(fuzz_server)))


def test_generated_operations_as_guest(fuzz_server: Any, known_ids: KnownIds) -> None:
    allow_guest_access(signed_in(fuzz_server))
    report = fuzz_graphql(f"{fuzz_server.base_url}/graphql", Caller("guest"), 120, seed=SEED, known_ids=known_ids)
    assert_clean(report, fuzz_server, 120)
    assert report.codes["UNAUTHENTICATED"] > 0  # the guest was refused the guarded fields, cleanly


def test_generated_operations_as_admin(fuzz_server: Any, known_ids: KnownIds) -> None:
    caller = make_caller("admin", signed_in(fuzz_server), FUZZ_ADMIN)
    report = fuzz_graphql(f"{fuzz_server.base_url}/graphql", caller, 200, seed=SEED, known_ids=known_ids)
    assert_clean(report, fuzz_server, 200)


def test_generated_operations_as_an_integration_with_a_custom_grant(fuzz_server: Any, known_ids: KnownIds) -> None:
    caller = make_caller("integration", signed_in(fuzz_server), FUZZ_ADMIN)
    report = fuzz_graphql(f"{fuzz_server.base_url}/graphql", caller, 150, seed=SEED, known_ids=known_ids)
    assert_clean(report, fuzz_server, 150)
    assert report.codes["FORBIDDEN"] > 0  # signed requests were authenticated, and refused what is not granted
    assert report.statuses[401] == 0, report.summary()


def test_generated_operations_as_an_oauth2_bearer(fuzz_server: Any, known_ids: KnownIds) -> None:
    caller = make_caller("oauth2", signed_in(fuzz_server), FUZZ_ADMIN)
    report = fuzz_graphql(f"{fuzz_server.base_url}/graphql", caller, 150, seed=SEED, known_ids=known_ids)
    assert_clean(report, fuzz_server, 150)
    assert report.codes["FORBIDDEN"] > 0  # bearer requests were authenticated, and refused what is not granted
    assert report.statuses[401] == 0, report.summary()


def test_a_narrow_grant_never_receives_data_of_resources_it_does_not_hold(
    fuzz_server: Any, known_ids: KnownIds
) -> None:
    """Every answer to an integration holding only products is walked: no field of another resource has data
    (guest access off: while it is on, catalog, CMS and store fields are open to every caller)."""
    allow_guest_access(signed_in(fuzz_server), False)
    caller = make_caller("narrow", signed_in(fuzz_server), FUZZ_ADMIN)
    assert caller.leak_check is not None and "Product.categories" in caller.leak_check.forbidden
    report = fuzz_graphql(f"{fuzz_server.base_url}/graphql", caller, 150, seed=SEED, known_ids=known_ids)
    assert_clean(report, fuzz_server, 150)
    assert report.leak_checked >= 150
    assert report.codes["FORBIDDEN"] > 0


def test_a_restricted_admin_never_receives_data_its_role_does_not_hold(fuzz_server: Any, known_ids: KnownIds) -> None:
    """An admin whose role holds sales, products and integration management: every answer is walked, and no
    field of customers, users, roles, settings or the guest fields (guest access off) carries data."""
    allow_guest_access(signed_in(fuzz_server), False)
    caller = make_caller("restricted", signed_in(fuzz_server), FUZZ_ADMIN)
    assert caller.leak_check is not None
    assert {"Order.customer", "Product.categories"} <= caller.leak_check.forbidden
    report = fuzz_graphql(f"{fuzz_server.base_url}/graphql", caller, 150, seed=SEED, known_ids=known_ids)
    assert_clean(report, fuzz_server, 150)
    assert report.leak_checked >= 150
    assert report.codes["FORBIDDEN"] > 0


def test_malformed_requests_get_a_clean_4xx(fuzz_server: Any) -> None:
    probes = named_probes()
    report = send_probes(fuzz_server.base_url, probes)
    assert_clean(report, fuzz_server, len(probes))
    assert report.statuses[413] >= 1  # the huge body was refused by size


def test_random_requests_never_fail(fuzz_server: Any) -> None:
    report = send_probes(fuzz_server.base_url, random_probes(random.Random(SEED), 300))
    assert_clean(report, fuzz_server, 300)


def test_the_leak_check_finds_data_the_caller_may_not_read() -> None:
    """The check itself: categories read through products by a products-only caller are a leak."""
    from auth.acl import TREE
    from tests.support.leaks import TYPE_KEY, for_grant

    held, _partial = TREE.expand_selection(["Magento_Catalog::products"])
    check = for_grant(held)
    document = check.prepare(
        "query { p: products { edges { node { ...N } } } } fragment N on Product { sku categories { name } }"
    )
    assert document is not None and TYPE_KEY in document
    node = {TYPE_KEY: "Product", "sku": "a", "categories": [{TYPE_KEY: "Category", "name": "Gear"}]}
    leaked = {"data": {"p": {TYPE_KEY: "ProductConnection", "edges": [{TYPE_KEY: "ProductEdge", "node": node}]}}}
    assert check.leaks(document, leaked) == ["Product.categories at data.p.edges.0.node.categories"]
    node["categories"] = None
    assert check.leaks(document, leaked) == []
