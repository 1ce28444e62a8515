"""One set of hosts for the whole package (building it takes about ten seconds): three network namespaces serving
the app behind HAProxy and Varnish, on a PostgreSQL database of the run's own, whatever ``DATABASE_URL`` says.

Every test leaves it as it found it: each host running and in rotation, PostgreSQL and Redis reachable,
query-cost throttling off (the load tests send bursts of writes from one admin).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hosts.helpers import set_rate_limits
from tests.support.graphql import SyncGraphQLClient
from tests.support.hosts import ADMIN, Cluster, cluster, unavailable


@pytest.fixture(scope="package")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with cluster(tmp_path_factory.mktemp("hosts")) as built:
        yield built


@pytest.fixture
def cluster_ready(hosts: Cluster) -> Cluster:
    """The hosts, each running and in rotation (a test before may have stopped one)."""
    hosts.ensure_all_up()
    return hosts


@pytest.fixture(scope="package")
def signed_in(hosts: Cluster) -> SyncGraphQLClient:
    # Once: sign-ins are limited per client address (SIGN_IN_RATE_LIMIT), and every test is from loopback.
    admin = SyncGraphQLClient(hosts.lb_url, timeout=30).sign_in(*ADMIN)
    set_rate_limits(admin, throttlingEnabled=False)
    return admin


@pytest.fixture
def admin(cluster_ready: Cluster, signed_in: SyncGraphQLClient) -> SyncGraphQLClient:
    """The admin, signed in through the load balancer."""
    return signed_in
