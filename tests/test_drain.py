"""``DRAIN_SECONDS``: after SIGTERM a server keeps serving while ``/readyz`` answers 503, so that a load balancer's
health check takes it out of rotation, and only then shuts down gracefully; with one worker or several."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import pytest

DOCUMENT = {"query": "{ __typename }"}
#: How a server ends after SIGTERM: uvicorn shuts down gracefully, then re-raises the signal it caught.
ENDED_BY_ITSELF = {0, -signal.SIGTERM}


def _readyz(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/readyz", timeout=5)


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_for_drain_seconds_then_stops(database_url: str, server_factory: Any, workers: int) -> None:
    server = server_factory({"DATABASE_URL": database_url, "DRAIN_SECONDS": "3"}, args=("--workers", str(workers)))
    assert _readyz(server.base_url).status_code == 200
    sent = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    # Out of rotation at once (a worker may take up to the parent's half-second tick to hear of it) ...
    deadline = sent + 2.5
    while (answer := _readyz(server.base_url)).status_code == 200:
        assert time.monotonic() < deadline, "readyz still answers 200 after SIGTERM"
        time.sleep(0.05)
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "reason": "draining: shutting down"}
    # ... while everything else is still served, to the end of the drain.
    while time.monotonic() < sent + 2.5:
        with httpx.Client(timeout=5) as http:
            assert http.post(f"{server.base_url}/graphql", json=DOCUMENT).json()["data"] == {"__typename": "Query"}
            assert http.get(f"{server.base_url}/healthz").status_code == 200
            assert http.get(f"{server.base_url}/livez").status_code == 200
        time.sleep(0.1)
    assert server.process.poll() is None, server.output()
    # Then the graceful shutdown: the process ends on its own, soon after the drain.
    server.process.wait(20)
    stopped = time.monotonic() - sent
    assert 3.0 <= stopped < 15, stopped
    assert server.process.returncode in ENDED_BY_ITSELF, server.output()
    assert "Traceback" not in server.output(), server.output()


def test_without_drain_seconds_sigterm_stops_at_once(database_url: str, server_factory: Any) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    sent = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(20)
    assert time.monotonic() - sent < 3
    assert server.process.returncode in ENDED_BY_ITSELF, server.output()


def test_a_second_sigterm_during_the_drain_changes_nothing(database_url: str, server_factory: Any) -> None:
    server = server_factory({"DATABASE_URL": database_url, "DRAIN_SECONDS": "2"})
    sent = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    assert _readyz(server.base_url).status_code == 503
    server.process.wait(20)
    assert time.monotonic() - sent >= 2.0
    assert server.process.returncode in ENDED_BY_ITSELF, server.output()
