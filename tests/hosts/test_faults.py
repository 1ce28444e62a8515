"""Faults under load (64 connections of reads and writes through HAProxy): a host killed, a rolling restart of
every host, PostgreSQL away from every host, Redis away. The numbers each test measures are printed (``-s``) and
recorded in docs/deploy.md."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.hosts.helpers import set_rate_limits
from tests.hosts.load import Load, Report
from tests.support.database import query
from tests.support.graphql import SyncGraphQLClient
from tests.support.hosts import DRAIN_SECONDS, POOL_SIZE, Cluster

pytestmark = pytest.mark.once

CONNECTIONS = 64


def report(title: str, load: Report, **numbers: object) -> None:
    extra = ", ".join(
        f"{k.replace('_', ' ')} {v:.2f}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
        for k, v in numbers.items()
    )
    print(f"\n{title}: {load.summary()}; {extra}")


def test_a_host_killed_under_load_is_taken_out_and_no_acknowledged_write_is_lost(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    assert admin.token is not None
    assert cluster_ready.haproxy is not None
    victim = cluster_ready.hosts[1]
    try:
        with Load(cluster_ready.lb_url, admin.token, CONNECTIONS) as load:
            time.sleep(3)
            connections = query(
                cluster_ready.database_url,
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                cluster_ready.database,
            )[0]["n"]
            killed = time.monotonic()
            victim.kill_all()
            cluster_ready.haproxy.wait_for({victim.name: "DOWN"}, timeout=10)
            out_of_rotation = time.monotonic() - killed
            time.sleep(4)
            result = load.stop()
    finally:
        cluster_ready.restart(2)
    lost = result.lost(cluster_ready.database_url)
    failed = result.failed
    report(
        "SIGKILL of one host",
        result,
        errors=len(failed),
        lost_writes=len(lost),
        out_of_rotation_s=out_of_rotation,
        postgresql_connections=connections,
    )
    assert lost == []
    assert out_of_rotation < 2, out_of_rotation
    # Each of the six workers holds at most its pool's connections.
    assert connections <= len(cluster_ready.hosts) * 2 * POOL_SIZE, connections
    assert result.requests > 200
    # Only what was in flight on the killed host fails (about a third of the connections at most), and only
    # until HAProxy has taken the host out.
    assert len(failed) <= CONNECTIONS // 3 + 1, result.outcomes()
    assert all(killed - 0.5 <= a.answered <= killed + out_of_rotation + 2 for a in failed), failed
    assert not [a for a in result.answers if a.sent > killed + out_of_rotation + 1 and not a.ok]
    assert not [a for a in result.answers if a.sent > killed + out_of_rotation + 0.5 and a.host == victim.name]


def test_a_rolling_restart_of_every_host_under_load_fails_no_request(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    assert admin.token is not None
    assert cluster_ready.haproxy is not None
    drains: list[float] = []
    outs: list[float] = []
    with Load(cluster_ready.lb_url, admin.token, CONNECTIONS) as load:
        time.sleep(2)
        for n in range(1, len(cluster_ready.hosts) + 1):
            host = cluster_ready.hosts[n - 1]
            sent = time.monotonic()
            host.process.send_signal(signal.SIGTERM)
            outs.append(cluster_ready.haproxy.wait_for({host.name: "DOWN"}, timeout=10))
            host.process.wait(60)
            drains.append(time.monotonic() - sent)
            cluster_ready.restart(n)
            time.sleep(1)
        result = load.stop()
    lost = result.lost(cluster_ready.database_url)
    report(
        f"rolling restart, DRAIN_SECONDS={DRAIN_SECONDS}",
        result,
        errors=len(result.failed),
        lost_writes=len(lost),
        out_of_rotation_s=", ".join(f"{o:.2f}" for o in outs),
        drain_to_exit_s=", ".join(f"{d:.2f}" for d in drains),
    )
    assert lost == []
    assert result.failed == [], result.outcomes()
    assert all(DRAIN_SECONDS <= d < DRAIN_SECONDS + 20 for d in drains), drains
    assert all(o < DRAIN_SECONDS for o in outs), outs


def test_postgresql_away_from_every_host_gives_503s_with_retry_after_and_they_recover_alone(
    cluster_ready: Cluster, admin: SyncGraphQLClient
) -> None:
    assert admin.token is not None
    pids = [host.process.pid for host in cluster_ready.hosts]
    outage = 5.0
    with Load(cluster_ready.lb_url, admin.token, CONNECTIONS) as load:
        time.sleep(2)
        with cluster_ready.forwarders["postgres"].outage():
            cut = time.monotonic()
            # A host answers 503 itself while HAProxy still has it; once every host's /readyz fails, HAProxy does.
            direct = httpx.post(f"{cluster_ready.hosts[0].base_url}/graphql", json={"query": "{ __typename }"})
            assert direct.status_code == 503 and direct.headers["retry-after"], direct.text
            assert httpx.get(f"{cluster_ready.hosts[0].base_url}/readyz").status_code == 503
            assert cluster_ready.haproxy is not None
            cluster_ready.haproxy.wait_for({host.name: "DOWN" for host in cluster_ready.hosts}, timeout=outage)
            from_haproxy = httpx.post(f"{cluster_ready.lb_url}/graphql", json={"query": "{ __typename }"})
            assert from_haproxy.status_code == 503 and from_haproxy.headers["retry-after"] == "5"
            assert from_haproxy.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            time.sleep(max(0.0, cut + outage - time.monotonic()))
        back = time.monotonic()
        time.sleep(6)
        result = load.stop()
    assert [host.process.pid for host in cluster_ready.hosts] == pids  # nothing was restarted
    assert all(host.process.poll() is None for host in cluster_ready.hosts)
    failed = result.failed
    # Every failure is a 503 that says when to try again (from a host, or from HAProxy with no host ready).
    assert {a.outcome for a in failed} <= {"503"}, result.outcomes()
    assert all(a.retry_after for a in failed)
    during = [a for a in result.answers if cut + 1 <= a.sent and a.answered <= back]
    assert during and not [a for a in during if a.ok], "the outage was not seen"
    recovered = min(a.answered for a in result.answers if a.ok and a.sent >= back) - back
    assert not [a for a in result.answers if a.sent > back + recovered + 1 and not a.ok]
    lost = result.lost(cluster_ready.database_url)
    assert lost == []
    from_hosts = sum(1 for a in failed if a.host)
    report(
        f"PostgreSQL away for {outage:.0f} s",
        result,
        answered_503=len(failed),
        by_hosts=from_hosts,
        by_haproxy=len(failed) - from_hosts,
        recovery_s=recovered,
        lost_writes=len(lost),
    )


def test_redis_away_every_request_is_still_served(cluster_ready: Cluster, admin: SyncGraphQLClient) -> None:
    assert admin.token is not None
    # Throttling on, every bucket at its largest: each request takes from a bucket in Redis, none is refused.
    set_rate_limits(
        admin,
        throttlingEnabled=True,
        adminBucketSize=1_000_000,
        adminRestoreRate=100_000,
        guestBucketSize=1_000_000,
        guestRestoreRate=100_000,
    )
    marks = cluster_ready.log_marks()
    try:
        with Load(cluster_ready.lb_url, admin.token, CONNECTIONS) as load:
            time.sleep(2)
            with cluster_ready.forwarders["redis"].outage():
                time.sleep(4)
            time.sleep(3)
            result = load.stop()
    finally:
        set_rate_limits(admin, throttlingEnabled=False)
    lost = result.lost(cluster_ready.database_url)
    report("Redis away for 4 s", result, errors=len(result.failed), lost_writes=len(lost))
    assert result.failed == [], result.outcomes()
    assert lost == []
    logged = cluster_ready.logs_since(marks)
    assert "Traceback" not in logged and "Redis" in logged, logged
