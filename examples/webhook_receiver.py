"""A reference webhook receiver: verifies the store's deliveries with the ``standardwebhooks`` package.

What it does:

1. ``POST /webhooks``: a delivery. The body is verified, unchanged, against the ``webhook-id``,
   ``webhook-timestamp`` and ``webhook-signature`` headers with the subscription's secret (``whsec_...``, from
   ``WEBHOOK_SECRET``), by ``standardwebhooks.Webhook.verify``: a bad or missing signature, or a timestamp more
   than five minutes away from this machine's clock, is answered 400 and never processed. A ``webhook-id`` seen
   before is acknowledged (204) without being processed again: the store delivers at least once, so after a
   crash or a lost answer the same event may come twice, always with the same id. Anything else is kept in the
   state file and answered 204 at once (the store counts only a 2xx answer within its timeout as delivered,
   and retries on its schedule otherwise).
2. ``GET /``: the events received, newest first.

During a secret rotation with an overlap (``rotateWebhookSecret``) each delivery carries two signatures, made with
the new and the previous secret: set ``WEBHOOK_SECRET`` to the new one whenever convenient within the overlap.
Several secrets may be given, comma-separated; a delivery that verifies with any of them is accepted.

Run it: ``WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py serve --port 9100`` and subscribe the
integration with ``targetUrl: "http://127.0.0.1:9100/webhooks"`` (a store reaching loopback needs
``127.0.0.1`` in its private callback allow-list, or ``ALLOW_PRIVATE_CALLBACKS=1`` in development). Events are
kept in ``WEBHOOK_STATE`` (default ``webhook_events.json``), readable only by its owner.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

#: Events kept in the state file (the oldest go first).
MAX_EVENTS = 1000


class Events:
    """The events received, by ``webhook-id``, in a JSON file only its owner can read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> list[dict[str, Any]]:
        return json.loads(self.path.read_text()) if self.path.exists() else []

    def add(self, webhook_id: str, payload: dict[str, Any]) -> bool:
        """Keep the event; False when this ``webhook-id`` was kept already (a redelivery)."""
        with self._lock:
            events = self.load()
            if any(event["webhook_id"] == webhook_id for event in events):
                return False
            events.append({"webhook_id": webhook_id, "payload": payload})
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                json.dump(events[-MAX_EVENTS:], file, indent=1)
            return True


def verifiers() -> list[Webhook]:
    secrets = [s.strip() for s in os.environ.get("WEBHOOK_SECRET", "").split(",") if s.strip()]
    if not secrets:
        raise SystemExit("Set WEBHOOK_SECRET to the subscription's secret (whsec_...).")
    return [Webhook(secret) for secret in secrets]


def verified(body: bytes, headers: dict[str, str], webhooks: list[Webhook]) -> dict[str, Any] | None:
    """The payload if the delivery verifies with one of the secrets, else None."""
    for webhook in webhooks:
        try:
            payload: dict[str, Any] = webhook.verify(body, headers)
        except WebhookVerificationError:
            continue
        return payload
    return None


def build_app(webhooks: list[Webhook], events: Events) -> Starlette:
    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        payload = verified(body, headers, webhooks)
        if payload is None:
            return PlainTextResponse("signature or timestamp does not verify", status_code=400)
        if events.add(headers["webhook-id"], payload):
            print(f"{payload['type']} {headers['webhook-id']}: {json.dumps(payload['data'])}", flush=True)
        return Response(status_code=204)

    async def listing(_request: Request) -> Response:
        return JSONResponse(list(reversed(events.load())))

    return Starlette(routes=[Route("/webhooks", receive, methods=["POST"]), Route("/", listing, methods=["GET"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive deliveries")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9100)
    args = parser.parse_args(argv)
    import uvicorn

    app = build_app(verifiers(), Events(Path(os.environ.get("WEBHOOK_STATE", "webhook_events.json"))))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
