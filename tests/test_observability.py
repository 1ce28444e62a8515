"""Request ids, log lines, security events, metrics, liveness and readiness, and optional tracing.

What is about the process (its log, its workers, its metrics endpoint) runs against real server processes;
what is about one app's answers runs in-process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from observability.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, TextFormatter
from settings import Settings
from tests.support.database import POSTGRES_URL, create_admin_account
from tests.support.graphql import asgi_client
from tests.support.principals import serving
from tests.support.servers import LoopbackProcess, free_port, running
from tests.support.tcp_proxy import TcpProxy

ADMIN = ("admin", "Admin-password-1")
WRONG_PASSWORD = "Wrong-Secret-Password-42"
BAD_TOKEN = "not-a-real-token-but-secret-anyway-0123456789"
SIGN_IN = "mutation SignIn($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"
DENIED = "query ListIntegrations { integrations(first: 1) { totalCount } }"
HEX_ID = re.compile(r"[0-9a-f]{32}")


class LoggingServer(LoopbackProcess):
    """``python main.py serve`` with its access log on (the tests' usual server turns it off)."""

    ready_path = "/livez"

    def __init__(self, env: dict[str, str], log_path: Path, args: tuple[str, ...] = ()) -> None:
        port = free_port()
        command = [sys.executable, "main.py", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
        super().__init__(command, env, port, log_path)

    def wait_ready(self, timeout: float = 120.0) -> None:
        super().wait_ready(timeout)  # the machine is shared: start-up (migrations, the schema) may be slow

    def json_lines(self) -> list[dict[str, Any]]:
        """Every line the server logged after its start-up messages (each must be one JSON object)."""
        lines = [line for line in self.output().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]


def post(base_url: str, document: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    body = {"query": document, "variables": variables or {}}
    return httpx.post(f"{base_url}/graphql", json=body, headers=headers, timeout=60)


def counter(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample of the text exposition format (0 when absent)."""
    for line in exposition.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LoggingServer]:
    create_admin_account(database_url, *ADMIN)
    env = {"DATABASE_URL": database_url, "LOG_FORMAT": "json", "METRICS_ENABLED": "1", "LOG_LEVEL": "info"}
    with running(LoggingServer(env, tmp_path / "server.log")) as process:
        yield process


def test_request_ids_log_lines_security_events_and_metrics(server: LoggingServer) -> None:
    base = server.base_url
    generated = httpx.get(f"{base}/livez")
    assert generated.status_code == 200 and HEX_ID.fullmatch(generated.headers["x-request-id"])

    # The peer (loopback) is in FORWARDED_ALLOW_IPS: its id is kept; a malformed one is replaced.
    refused = post(base, SIGN_IN, {"u": "admin", "p": WRONG_PASSWORD}, **{"X-Request-Id": "edge-42.a"})
    assert refused.headers["x-request-id"] == "edge-42.a"
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for bad in ("has space", "x" * 129):
        assert HEX_ID.fullmatch(httpx.get(f"{base}/livez", headers={"X-Request-Id": bad}).headers["x-request-id"])

    # Six more wrong passwords lock the account (Magento's default: 6 failures).
    for _ in range(6):
        post(base, SIGN_IN, {"u": "admin", "p": WRONG_PASSWORD})
    denied = post(base, DENIED, **{"X-Request-Id": "denied-1"})
    assert denied.json()["errors"][0]["extensions"]["missingResources"] == ["Magento_Integration::integrations"]
    unauthenticated = post(base, DENIED, Authorization=f"Bearer {BAD_TOKEN}")
    assert unauthenticated.status_code == 401 and HEX_ID.fullmatch(unauthenticated.headers["x-request-id"])
    url = f"{base}/oauth/token/request"
    _uri, signed, _body = Client("k" * 32, client_secret="s" * 32, signature_method=SIGNATURE_HMAC_SHA256).sign(
        url, "POST"
    )
    oauth = httpx.post(url, headers={**signed, "X-Request-Id": "oauth-1"}, timeout=30)
    assert oauth.status_code == 401 and oauth.headers["x-request-id"] == "oauth-1"
    assert httpx.get(f"{base}/readyz").json() == {"status": "ok"}

    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert counter(text, "graphql_requests_total", operation="ListIntegrations", principal="guest", outcome="denied")
    assert counter(text, "graphql_requests_total", operation="SignIn", principal="guest", outcome="error") == 7
    assert counter(text, "graphql_request_duration_seconds_count", principal="guest") >= 8
    assert counter(text, "access_denials_total", resource="Magento_Integration::integrations") == 1
    assert counter(text, "admin_sign_in_failures_total", reason="wrong_password") == 6
    assert counter(text, "admin_sign_in_failures_total", reason="locked") == 1
    assert counter(text, "admin_lockouts_total") == 1
    assert counter(text, "oauth_failures_total", problem="consumer_not_found") == 1
    assert "database_errors_total 0.0" in text
    post(base, DENIED)
    after = httpx.get(f"{base}/metrics").text
    assert counter(after, "access_denials_total", resource="Magento_Integration::integrations") == 2

    lines = server.json_lines()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"]) for line in lines)
    by_id = [line for line in lines if line["request_id"] == "edge-42.a"]
    assert {line["logger"] for line in by_id} == {"security", "uvicorn.access"}, by_id
    sign_in = next(line for line in by_id if line["logger"] == "security")
    assert sign_in["event"] == "admin_sign_in_failed"
    assert (sign_in["username"], sign_in["reason"], sign_in["client"]) == ("admin", "wrong_password", "127.0.0.1")
    events = {line.get("event") for line in lines}
    assert {"admin_sign_in_failed", "admin_locked", "access_denied", "oauth_failed"} <= events
    access = next(line for line in lines if line.get("event") == "access_denied" and line["request_id"] == "denied-1")
    assert access["principal"] == "guest" and access["operation"] == "ListIntegrations"
    assert access["missing_resources"] == ["Magento_Integration::integrations"]
    problem = next(line for line in lines if line.get("event") == "oauth_failed")
    assert problem["oauth_problem"] == "consumer_not_found" and problem["request_id"] == "oauth-1"
    # Every access line carries its request's id; no secret reaches the log.
    assert all(line["request_id"] for line in lines if line["logger"] == "uvicorn.access")
    log = server.output()
    signature = dict(re.findall(r'(\w+)="([^"]*)"', signed["Authorization"]))["oauth_signature"]
    for secret in (WRONG_PASSWORD, ADMIN[1], BAD_TOKEN, signature, "s" * 32):
        assert secret not in log


def test_text_lines_have_iso_timestamps_and_the_request_id() -> None:
    record = logging.LogRecord("security", logging.WARNING, __file__, 1, "Access denied", None, None)
    record.fields = {"event": "access_denied", "missing_resources": ["A::a", "B::b"]}
    token = REQUEST_ID.set("req-7")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = TextFormatter().format(record)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING security \[req-7\] Access denied "
        r"event=access_denied missing_resources=A::a,B::b",
        line,
    ), line
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-7"


async def test_metrics_are_off_by_default(settings: Settings) -> None:
    async with serving(settings) as app, asgi_client(app) as http:
        assert (await http.get("/metrics")).status_code == 404
        assert HEX_ID.fullmatch((await http.get("/metrics")).headers["x-request-id"])


async def test_an_untrusted_peer_neither_sets_the_request_id_nor_reads_metrics(settings: Settings) -> None:
    settings = dataclasses.replace(
        settings,
        forwarded_allow_ips="10.1.1.1",
        metrics_enabled=True,
        metrics_allow_ips="10.0.0.0/8",
        metrics_token="scrape-token-1",
    )
    async with serving(settings) as app, asgi_client(app) as http:  # the in-process client is 127.0.0.1
        answer = await http.get("/livez", headers={"X-Request-Id": "chosen-by-client"})
        assert HEX_ID.fullmatch(answer.headers["x-request-id"])
        refused = await http.get("/metrics")
        assert refused.status_code == 403 and "METRICS_ALLOW_IPS" in refused.json()["error"]
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
        allowed = await http.get("/metrics", headers={"Authorization": "Bearer scrape-token-1"})
        assert allowed.status_code == 200 and "graphql_requests_total" in allowed.text


async def test_cors_exposes_the_request_id(settings: Settings) -> None:
    settings = dataclasses.replace(settings, cors_allow_origins=("https://app.example",))
    async with serving(settings) as app, asgi_client(app) as http:
        answer = await http.get("/livez", headers={"Origin": "https://app.example"})
        assert "X-Request-Id" in answer.headers["access-control-expose-headers"]


async def test_readyz_needs_the_latest_migration(settings: Settings) -> None:
    from health import LATEST_MIGRATION
    from models.sql import execute

    async with serving(settings) as app, asgi_client(app) as http:
        assert (await http.get("/readyz")).json() == {"status": "ok"}
        # As if this code were deployed before its migrations ran.
        assert await execute("DELETE FROM tortoise_migrations WHERE name = ?", LATEST_MIGRATION) == 1
        try:
            answer = await http.get("/readyz")
            assert answer.status_code == 503 and LATEST_MIGRATION in answer.json()["reason"]
            assert (await http.get("/livez")).status_code == 200
        finally:  # PostgreSQL tests share one migrated schema: put the record back
            await execute(
                "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES (?, ?, ?)",
                "models",
                LATEST_MIGRATION,
                dt.datetime.now(dt.UTC),
            )


@pytest.mark.skipif(not POSTGRES_URL, reason="needs DATABASE_URL pointing at PostgreSQL")
def test_readyz_answers_503_while_the_database_is_unreachable(database_url: str, tmp_path: Path) -> None:
    parts = urlsplit(database_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    env = {"DATABASE_URL": proxy.url_for(database_url), "METRICS_ENABLED": "1", "LOG_FORMAT": "json"}
    try:
        with running(LoggingServer(env, tmp_path / "server.log")) as server:
            assert httpx.get(f"{server.base_url}/readyz").status_code == 200
            with proxy.outage():
                answer = httpx.get(f"{server.base_url}/readyz", timeout=30)
                assert answer.status_code == 503
                assert answer.json() == {"status": "unavailable", "reason": "database unreachable"}
                assert httpx.get(f"{server.base_url}/livez").status_code == 200
                # The token is looked up before GraphQL runs: an outage met there is counted.
                assert post(server.base_url, DENIED, Authorization=f"Bearer {BAD_TOKEN}").status_code == 503
            metrics = httpx.get(f"{server.base_url}/metrics").text
            assert counter(metrics, "database_errors_total") >= 1
    finally:
        proxy.close()


@pytest.mark.once
def test_metrics_add_up_over_several_workers(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "METRICS_ENABLED": "1", "LOG_FORMAT": "json"}
    server = LoggingServer(env, tmp_path / "server.log", args=("--workers", "2"))
    try:
        server.wait_ready(timeout=180)  # two workers build the schema
        for _ in range(12):
            with httpx.Client() as fresh:  # a new connection each time, so both workers serve some
                fresh.post(f"{server.base_url}/graphql", json={"query": "query Ping { __typename }"})
        for _ in range(4):  # whichever worker answers, it reports the sum
            text = httpx.get(f"{server.base_url}/metrics").text
            assert counter(text, "graphql_requests_total", operation="Ping", principal="guest", outcome="ok") == 12
    finally:
        server.stop()


def test_no_tracing_without_an_endpoint(settings: Settings) -> None:
    from schema import schema_extensions

    names = [getattr(factory, "__name__", "") for factory in schema_extensions(settings, access_control=None)]
    assert "Tracing" not in names and "<lambda>" in names  # the limits' factories only
    assert "opentelemetry" not in " ".join(sys.modules) or "opentelemetry" in sys.modules


async def test_operations_become_spans_with_an_endpoint(settings: Settings) -> None:
    pytest.importorskip("opentelemetry.sdk")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from observability import tracing
    from schema import build_schema

    exporter = InMemorySpanExporter()
    settings = dataclasses.replace(settings, otel_endpoint="http://127.0.0.1:9/")
    schema = build_schema(settings)
    tracing.provider().add_span_processor(SimpleSpanProcessor(exporter))
    async with serving(settings, schema=schema) as app, asgi_client(app) as http:
        body = {"query": SIGN_IN, "variables": {"u": "admin", "p": WRONG_PASSWORD}, "operationName": "SignIn"}
        await http.post("/graphql", json=body)
    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert "GraphQL Query: SignIn" in names and "GraphQL Parsing" in names
    assert all(WRONG_PASSWORD not in json.dumps(dict(span.attributes or {})) for span in spans)
