"""Webhook tests: a real receiver on loopback, the GraphQL documents of subscriptions, and waiting for deliveries.

``Receiver`` is an HTTP server in a thread of the test process that records every request (headers and raw
body) and answers as told: a queue of statuses, a hang (no answer until released), or (stopped) a refused
connection. Deliveries are verified with the ``standardwebhooks`` package, as any receiver would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

from tests.support.integrations import YOUR_PASSWORD

USER_ERRORS = "userErrors { field message code }"
SUBSCRIPTION_FIELDS = (
    "id integrationId events targetUrl query isActive secret consecutiveFailures disabledAt disabledReason "
    "secretRotatedAt previousSecretExpiresAt"
)
CREATE_SUBSCRIPTION = f"""mutation($input: CreateWebhookSubscriptionInput!) {{
  createWebhookSubscription(input: $input) {{ subscription {{ {SUBSCRIPTION_FIELDS} }} {USER_ERRORS} }} }}"""
UPDATE_SUBSCRIPTION = f"""mutation($input: UpdateWebhookSubscriptionInput!) {{
  updateWebhookSubscription(input: $input) {{ subscription {{ {SUBSCRIPTION_FIELDS} }} {USER_ERRORS} }} }}"""
DELETE_SUBSCRIPTION = f"""mutation($id: ID!, $currentPassword: String) {{
  deleteWebhookSubscription(id: $id, currentPassword: $currentPassword) {{ deletedId {USER_ERRORS} }} }}"""
ROTATE_SECRET = f"""mutation($id: ID!, $overlap: Int, $currentPassword: String) {{
  rotateWebhookSecret(id: $id, overlapSeconds: $overlap, currentPassword: $currentPassword) {{
    subscription {{ {SUBSCRIPTION_FIELDS} }} {USER_ERRORS} }} }}"""
SUBSCRIPTIONS = f"query($id: ID!) {{ webhookSubscriptions(integrationId: $id) {{ {SUBSCRIPTION_FIELDS} }} }}"
DELIVERY_FIELDS = (
    "id subscriptionId event webhookId status attemptCount responseStatus latencyMs lastError nextAttemptAt "
    "occurredAt deliveredAt attempts { number responseStatus latencyMs error succeeded }"
)
DELIVERIES = f"""query($id: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String) {{
  webhookDeliveries(subscriptionId: $id, status: $status, first: $first, after: $after) {{
    edges {{ node {{ {DELIVERY_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} totalCount }} }}"""
REDELIVER = f"""mutation($id: ID!) {{
  redeliverWebhook(deliveryId: $id) {{ delivery {{ {DELIVERY_FIELDS} }} {USER_ERRORS} }} }}"""
SEND_TEST = f"""mutation($id: ID!) {{
  sendTestWebhook(subscriptionId: $id) {{ delivery {{ {DELIVERY_FIELDS} }} {USER_ERRORS} }} }}"""
UPDATE_WEBHOOK_CONFIG = f"""mutation($input: UpdateWebhookConfigInput!) {{
  updateWebhookConfig(input: $input) {{ webhooks {{ deliveryTimeout disableAfterFailures deliveryRetentionDays }}
  {USER_ERRORS} }} }}"""
ALLOW_LOOPBACK = """mutation { updateOAuthConfig(input: {privateCallbackAllowList: ["127.0.0.1"]}) {
  oauth { privateCallbackAllowList } userErrors { code } } }"""
CREATE_PRODUCT = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id sku price } userErrors { field code } } }"""
UPDATE_PRODUCT = """mutation($input: UpdateProductInput!) {
  updateProduct(input: $input) { product { id sku price } userErrors { field code } } }"""

PRODUCT_DOCUMENT = "subscription { event { ... on ProductUpdated { product { sku price } } } }"


@dataclasses.dataclass(frozen=True)
class Request:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    #: When it arrived (wall clock, seconds).
    at: float
    #: The sender's address.
    peer: str = ""

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def sent_at(self) -> float:
        """When its event was recorded (the payload's ``timestamp``), wall clock seconds."""
        stamp = json.loads(self.body)["timestamp"].replace("Z", "+00:00")
        return dt.datetime.fromisoformat(stamp).timestamp()

    def verified(self, secret: str) -> Any:
        """The JSON payload, after ``standardwebhooks`` checked the signature (raises if it does not verify)."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """A webhook receiver on 127.0.0.1, or ``host`` (see the module docstring)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[Request] = []
        #: Statuses to answer, in order; 200 once empty.
        self.statuses: list[int] = []
        #: Seconds to wait before answering (a slow receiver).
        self.delay = 0.0
        #: While set, requests are held unanswered until it is cleared (or the server stops).
        self.hang = threading.Event()
        self._released = threading.Event()
        #: Requests being handled right now, by ``webhook-id``: never two of one id at once, unless retried.
        self.in_flight: Counter[str] = Counter()
        self.overlaps: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: each answer closes its connection (the server opens one per delivery anyway).
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                webhook_id = headers.get("webhook-id", "")
                with outer._changed:
                    outer.in_flight[webhook_id] += 1
                    if outer.in_flight[webhook_id] > 1:
                        outer.overlaps.append(webhook_id)
                    outer.requests.append(Request(headers, body, time.time(), self.client_address[0]))
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer._changed.notify_all()
                try:
                    while outer.hang.is_set() and not outer._released.wait(0.05):
                        pass
                    if outer.delay:
                        time.sleep(outer.delay)
                    with contextlib.suppress(OSError):  # the sender gave up (timed out, or was killed)
                        self.send_response(status)
                        self.send_header("Content-Length", "2")
                        self.end_headers()
                        self.wfile.write(b"ok")
                finally:
                    with outer._changed:
                        outer.in_flight[webhook_id] -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._handler = Handler
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    def start(self) -> Receiver:
        self._released.clear()
        self.server = ThreadingHTTPServer((self.host, self.port), self._handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections to the port are refused from now on."""
        self._released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Request]:
        """The requests once at least ``count`` arrived (an AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.requests)} of {count} deliveries arrived"
                self._changed.wait(left)
            return list(self.requests)

    def ids(self) -> Counter[str]:
        with self._lock:
            return Counter(r.webhook_id for r in self.requests)


@contextlib.contextmanager
def receiving(port: int = 0, host: str = "127.0.0.1") -> Iterator[Receiver]:
    receiver = Receiver(port, host).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def user_errors(payload: dict[str, Any]) -> list[tuple[tuple[str, ...] | None, str]]:
    return [(tuple(e["field"]) if e["field"] else None, e["code"]) for e in payload["userErrors"]]


def subscription_input(integration_id: str, url: str, query: str = PRODUCT_DOCUMENT, **fields: Any) -> dict[str, Any]:
    return {
        "integrationId": integration_id,
        "events": fields.pop("events", ["PRODUCT_UPDATED"]),
        "targetUrl": url,
        "query": query,
        **YOUR_PASSWORD,
        **fields,
    }


def payload_of(request: Request, secret: str) -> dict[str, Any]:
    """A delivery's verified payload, decoded."""
    verified = request.verified(secret)
    assert verified == json.loads(request.body)
    return verified
