"""The benchmark harness itself: the load generator, the bare baseline, the SQL statement, instruction and
bytecode counters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from bench import harness, instructions
from bench.loadgen import percentile
from tests.support.database import create_admin_account, store_guest_access
from tests.support.redis import TEST_REDIS_URL, redis_answers
from tests.support.servers import ROOT

#: The database is not what these tests are about: CI runs them once, on SQLite.
pytestmark = pytest.mark.once


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_loadgen_drives_a_real_server_and_counts_bad_bodies(tmp_path: Path) -> None:
    port = harness.free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with harness.serving("ceiling", env, port, pin=False, log_dir=tmp_path) as server:
        result = harness.run_loadgen(
            {
                "host": "127.0.0.1",
                "port": port,
                "connections": 4,
                "warmup": 0,
                "duration": 1,
                "server_pid": server.pid,
                "sample_rss": True,
                "templates": [
                    {"name": "good", "body": '{"query": "{ hello }"}', "expect": '"hello"'},
                    {"name": "bad", "body": '{"query": "{ hello }"}', "expect": "not in the body"},
                    {"name": "counted", "body": '{"n": "@N@", "m": "@M@"}', "modulo": 3},
                ],
            }
        )
    kinds = result["kinds"]
    assert kinds["good"]["requests"] > 10
    assert kinds["good"]["non_200"] == kinds["good"]["graphql_errors"] == 0
    assert kinds["bad"]["graphql_errors"] == kinds["bad"]["requests"] > 0
    assert result["errors"] == kinds["bad"]["requests"]
    assert result["socket_errors"] == 0
    assert result["server_cpu_s"] >= 0
    assert len(result["rss_kib"]) == 1 and result["rss_kib"][0] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]


def test_bare_baseline_and_statement_counts(database_url: str, tmp_path: Path) -> None:
    """The bare app has the server's extensions minus access control, and the counter sees the SQL."""
    spec = {
        "base_url": "http://127.0.0.1:8000",
        "admin_token": "unused",
        "credentials": None,
        "workloads": ["W4", "W1"],
        "page_sizes": [20],
        "repeat": 2,
        "query": "{ products(first: 2) { edges { node { sku } } } }",
    }
    (tmp_path / "in.json").write_text(json.dumps(spec))
    store_guest_access(database_url, True)  # W1 is the guest reading the catalog, as the benchmark runs it
    subprocess.run(
        [sys.executable, "-m", "bench.sqlcount", str(tmp_path / "in.json"), str(tmp_path / "out.json")],
        cwd=ROOT,
        env=_bench_env(database_url),
        check=True,
    )
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["extensions"]["same"], result["extensions"]
    assert "OperationControl" not in result["extensions"]["bare"]
    assert result["extensions"]["bare_guarded_fields"] == []  # the baseline carries no access control
    assert result["extensions"]["real_guarded_fields"] > 30
    bare, guest = result["workloads"]["W4"]["20"], result["workloads"]["W1"]["20"]
    assert bare["statements_per_request"] == len(bare["statements"])
    assert guest["statements_per_request"] == len(guest["statements"])
    # The guest's only extra statement is the access decision reading the guest-access switch.
    extra = list(guest["statements"])
    for statement in bare["statements"]:
        extra.remove(statement)
    assert len(extra) == 1 and "core_config_data" in extra[0], (bare, guest)


def _bench_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEY": "bench-test-key-material",
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }


def test_the_measured_server_has_its_randomness_fixed() -> None:
    env = instructions.deterministic_env({**os.environ, "PYTHONPATH": str(ROOT), "UNRELATED": "1"})
    assert env["PYTHONHASHSEED"] == "0" and "UNRELATED" not in env
    command = [sys.executable, "-c", "import random; print(random.random())"]
    draws = {subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(draws) == 1 and draws != {""}  # random is seeded (bench/deterministic/sitecustomize.py)


@pytest.mark.skipif(instructions.missing() is not None, reason=f"no instruction counts: {instructions.missing()}")
def test_instruction_counter_on_a_tiny_batch(database_url: str, tmp_path: Path) -> None:
    """A bare-app server under callgrind answers a warm-up and a counted batch; the dump adds up."""
    template = harness.load_template("W4", json.dumps({"query": "{ viewer { kind } }"}))
    env = _bench_env(database_url)
    out = tmp_path / "W4.callgrind"
    dump = instructions.count("bare", env, template, out, port=harness.free_port(), warmup=2, requests=3)
    assert dump == out
    total = instructions.total(dump)
    objects = instructions.by_object(dump)
    assert total > 0
    assert sum(objects.values()) == pytest.approx(total, rel=0.05)
    assert any(name.startswith("libpython") for name in objects)
    assert any("(_json." in name for name in instructions.inclusive(dump))  # the response's JSON encoder


def test_bytecodes_per_request_are_counted_by_function(database_url: str) -> None:
    spec = {
        "base_url": "http://127.0.0.1:8000",
        "admin_token": "unused",
        "credentials": None,
        "workloads": ["W4", "W1"],
        "body": json.dumps({"query": "{ viewer { kind } }"}),
        "warmup": 1,
        "requests": 2,
        "top": 10,
    }
    result = harness.run_module("bench.bytecodes", spec, _bench_env(database_url))
    assert result["W4"]["bytecodes_per_request"] > 0
    guest = result["W1"]
    assert guest["bytecodes"] > 0  # authentication and access control run for the guest, not in the bare app
    assert any(row["function"].startswith("auth/") for row in guest["self"])


@pytest.mark.skipif(not redis_answers(TEST_REDIS_URL), reason=f"no Redis answers at {TEST_REDIS_URL}")
def test_throttling_on_takes_points_from_redis_buckets_that_never_run_dry(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--throttling on --redis-url``: the served store charges each request to a bucket in Redis under the
    run's prefix, as large as the settings allow; ``off`` takes nothing."""
    prefix = f"test-bench-{uuid.uuid4().hex}:"
    monkeypatch.setitem(harness.THROTTLING, "on", True)
    monkeypatch.setitem(harness.THROTTLING, "redis_url", TEST_REDIS_URL)
    monkeypatch.setitem(harness.THROTTLING, "redis_key_prefix", prefix)
    monkeypatch.setitem(harness.OBSERVABILITY, "on", False)
    create_admin_account(database_url, "bench", "bench-password-1")
    store_guest_access(database_url, True)
    env = harness.server_env(harness.Database(database_url, "test"), "bench-test-key-material")
    assert env["REDIS_KEY_PREFIX"] == prefix
    document = "{ products(first: 2) { edges { node { sku } } } }"
    try:
        with harness.serving("app", env, harness.free_port(), pin=False, log_dir=tmp_path) as server:
            token = harness.graphql(
                server.url,
                'mutation { generateAdminToken(username: "bench", password: "bench-password-1") { token } }',
            )["generateAdminToken"]["token"]
            harness.configure_throttling(server.url, token)
            body = httpx.post(server.url, json={"query": document}, timeout=30).json()
            harness.check_cost("W1", body)  # on, with a bucket of MAX_BUCKET_SIZE, points taken
            status = body["extensions"]["cost"]["throttleStatus"]
            assert status["maximumAvailable"] == 1_000_000 > status["currentlyAvailable"]
            assert harness.charges_redis(lambda: httpx.post(server.url, json={"query": document}, timeout=30))
            monkeypatch.setitem(harness.THROTTLING, "on", False)
            harness.configure_throttling(server.url, token)
            body = httpx.post(server.url, json={"query": document}, timeout=30).json()
            harness.check_cost("W1", body)
            with pytest.raises(SystemExit, match="should be on"):
                monkeypatch.setitem(harness.THROTTLING, "on", True)
                harness.check_cost("W1", body)
    finally:
        harness.bucket_keys(delete=True)
    assert harness.bucket_keys(delete=False) == 0
