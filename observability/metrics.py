"""Prometheus metrics (``METRICS_ENABLED``): one registry per app, counted through a context variable.

The app's ``Metrics`` is made current for each request by ``middleware.RequestId``; code in any room counts
through ``current()`` and counts nothing when metrics are off (``current()`` is None). A registry per app,
not the library's global one, so that tests building several apps in one process do not collide.

Under ``serve --workers N`` each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(``serve`` sets a fresh one when it starts several workers with metrics on) every worker writes its values
there and ``/metrics`` answers the sum over all workers, whichever worker is asked.

Labels stay bounded: operation names are the first ``MAX_OPERATION_NAMES`` distinct names of operations
that ran (truncated), later ones count as ``other``; resources, OAuth problems and callback results are
fixed vocabularies.
"""

from __future__ import annotations

import contextvars
import ipaddress
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension

from settings import parse_networks

#: Distinct operation names kept as label values; the rest count as ``other``.
MAX_OPERATION_NAMES = 100
#: Longest operation name kept as it is (longer ones are cut).
MAX_OPERATION_NAME_LENGTH = 64
#: Seconds: from a cached guest read to a slow signed mutation with a callback.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# The ``*_created`` series (a timestamp per label set) double what a scrape carries and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The server's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "graphql_requests",
            "GraphQL operations by operation name, principal kind and outcome (ok, error, denied, rejected).",
            ["operation", "principal", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "graphql_request_duration_seconds",
            "Time from parsing to the result of a GraphQL operation, by principal kind.",
            ["principal"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.denials = Counter(
            "access_denials", "Fields refused to a caller, by resource missing.", ["resource"], registry=registry
        )
        self.sign_in_failures = Counter(
            "admin_sign_in_failures", "Refused admin sign-ins, by reason.", ["reason"], registry=registry
        )
        self.lockouts = Counter("admin_lockouts", "Admin accounts locked after failed sign-ins.", registry=registry)
        self.oauth_failures = Counter(
            "oauth_failures", "Refused OAuth requests, by oauth_problem.", ["problem"], registry=registry
        )
        self.callbacks = Counter(
            "integration_callbacks",
            "Activation callbacks, by result (delivered, or why not).",
            ["result"],
            registry=registry,
        )
        self.database_errors = Counter(
            "database_errors", "Database outages met while serving (lost connections, locks).", registry=registry
        )
        self.rate_limit_store_failures = Counter(
            "rate_limit_store_failures",
            "Failed calls to the shared rate-limit store (Redis); those requests were served and throttled by "
            "this process's own buckets.",
            registry=registry,
        )
        self.webhook_deliveries = Counter(
            "webhook_deliveries",
            "Webhook delivery attempts by result (delivered, retry, failed, skipped), and subscriptions disabled.",
            ["result"],
            registry=registry,
        )
        self._operation_names: set[str] = set()

    def operation_label(self, name: str | None, *, ran: bool) -> str:
        """The label for an operation name: bounded in length and in distinct values."""
        if not name:
            return "anonymous"
        name = name[:MAX_OPERATION_NAME_LENGTH]
        if name in self._operation_names:
            return name
        if ran and len(self._operation_names) < MAX_OPERATION_NAMES:
            self._operation_names.add(name)
            return name
        return "other"

    def exposition(self) -> bytes:
        """The text format of every metric: this process's, or all workers' in multiprocess mode."""
        if os.environ.get(MULTIPROCESS_DIR):
            from prometheus_client import multiprocess

            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
            return generate_latest(combined)
        return generate_latest(self.registry)


#: The metrics of the app serving the current request (None: metrics are off, or no request).
CURRENT: contextvars.ContextVar[Metrics | None] = contextvars.ContextVar("metrics", default=None)


def current() -> Metrics | None:
    return CURRENT.get()


class MetricsExtension(SchemaExtension):
    """Counts each operation and its duration once, when it ends: no per-field work."""

    def on_operation(self) -> Iterator[None]:
        metrics = CURRENT.get()
        if metrics is None:
            yield
            return
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        execution = self.execution_context
        context: Any = execution.context
        principal = getattr(getattr(context, "principal", None), "kind", None)
        kind = principal.value.lower() if principal is not None else "unknown"
        outcome = _outcome(execution.result, execution.pre_execution_errors, getattr(context, "denied", None))
        try:
            name = execution.operation_name
        except Exception:  # a document that did not parse has no operations to name
            name = None
        label = metrics.operation_label(name, ran=outcome != "rejected")
        metrics.requests.labels(label, kind, outcome).inc()
        metrics.duration.labels(kind).observe(elapsed)


def _address_allowed(host: str | None, allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


FORBIDDEN = "Metrics are served only to the addresses in METRICS_ALLOW_IPS or with the METRICS_TOKEN bearer token."


def _outcome(result: Any, errors: list[Any] | None, denied: object) -> str:
    """``denied`` (a field was refused), ``rejected`` (the operation never ran: parse, validation, limits),
    ``error`` (some field failed), else ``ok``."""
    if denied:
        return "denied"
    errors = (result.errors if result is not None else None) or errors
    if not errors:
        return "ok"
    if (result is None or result.data is None) and not any(getattr(error, "path", None) for error in errors):
        return "rejected"
    return "error"


def metrics_route(metrics: Metrics, allow_ips: str, token: str | None) -> Route:
    """``GET /metrics`` for a client whose address is in ``allow_ips`` or that sends ``Bearer <token>``; 403
    otherwise. The address is the client's as ``auth.proxy`` sees it (X-Forwarded-For from trusted proxies)."""
    allowed = parse_networks(allow_ips, name="METRICS_ALLOW_IPS")
    expected = f"Bearer {token}".encode() if token else None

    async def endpoint(request: Request) -> Response:
        client = request.client.host if request.client else None
        by_address = allowed is None or _address_allowed(client, allowed)
        presented = request.headers.get("authorization", "").encode()
        by_token = expected is not None and secrets.compare_digest(presented, expected)
        if not (by_address or by_token):
            return JSONResponse({"error": FORBIDDEN}, 403)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", endpoint, methods=["GET"])
