"""Webhooks under load, and what one active subscription costs the write that emits its events.

    python bench/webhooks.py                                  # SQLite
    python bench/webhooks.py --database postgres://postgres@127.0.0.1:5432/bench   # that database is wiped
    python bench/webhooks.py --updates 1000 --rounds 5 --instructions

**Load.** A real server (uvicorn, one worker, its delivery worker started with the app) and a receiver on
loopback; ``--updates`` ``updateProduct`` mutations go through the API from 8 threads. Every delivery is
verified (Standard Webhooks signature) and counted by ``webhook-id``: delivered, lost (never arrived) and
duplicates. The lag of a delivery is from the event's ``timestamp`` in the payload (when its write recorded it)
to its arrival at the receiver; p50, p95 and the largest are reported.

**Cost.** The same ``updateProduct`` mutation (an admin bearer, the same product and price every time) with no
active subscription and with one, on a server that does not deliver (``WEBHOOK_DELIVERY=0``): what is
measured is the request path, where the outbox ``INSERT ... SELECT`` is the whole difference (deliveries run
off it, in a worker; their cost is the load test's). Timing: interleaved rounds of ``--seconds`` each
(bench/loadgen.py, 8 connections), the median of the per-round ratios of requests per second (one / none).
``--instructions`` adds instructions per request under callgrind (bench/instructions.py), the same count run
after run, for both mutations and for the ``products`` read with the delivery worker running idle and without
it (reads run no webhook code; the worker's look once a second is all).

Results: a table on stdout and JSON in bench/results/webhooks-<database>-<time>.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h
from bench import instructions
from resolvers.webhooks import signing

PRODUCTS = "Magento_Catalog::products"
ADMIN = "bench-hooks"
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"
CREATE_INTEGRATION = """mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id } userErrors { field message code } } }"""
AUTHORIZE = """mutation($id: ID!, $p: String) {
  authorizeIntegration(id: $id, currentPassword: $p) { userErrors { field message code } } }"""
SUBSCRIBE = """mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { subscription { id secret } userErrors { field message code } } }"""
SET_ACTIVE = """mutation($input: UpdateWebhookSubscriptionInput!) {
  updateWebhookSubscription(input: $input) { subscription { isActive } userErrors { field message code } } }"""
DELETE = """mutation($id: ID!, $p: String) {
  deleteWebhookSubscription(id: $id, currentPassword: $p) { deletedId userErrors { field message code } } }"""
UPDATE_PRODUCT = """mutation($input: UpdateProductInput!) {
  updateProduct(input: $input) { product { id price } userErrors { field code } } }"""
PRODUCT_IDS = "{ products(first: 50) { edges { node { id } } } }"
DOCUMENT = "subscription { event { ... on ProductUpdated { product { sku price } } } }"


# ------------------------------------------------------------------------------------------ the receiver


class Receiver:
    """A receiver on loopback: verifies each delivery's signature and keeps its ``webhook-id`` and lag."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.ids: Counter[str] = Counter()
        self.lags: list[float] = []
        self.bad_signatures = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                outer.received(dict(self.headers.items()), body, arrived)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, headers: dict[str, str], body: bytes, arrived: float) -> None:
        headers = {k.lower(): v for k, v in headers.items()}
        message_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
        expected = signing.signature(self.secret, message_id, timestamp, body)
        sent_at = dt.datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00")).timestamp()
        with self._lock:
            self.ids[message_id] += 1
            self.lags.append(arrived - sent_at)
            if expected not in headers["webhook-signature"].split(" "):
                self.bad_signatures += 1

    def unique(self) -> int:
        with self._lock:
            return len(self.ids)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------------------ the store


class Store:
    """A fresh database with an admin, a few products, and an active integration holding products."""

    def __init__(self, database: h.Database) -> None:
        self.database = database
        self.password = secrets.token_urlsafe(12) + "a1"
        self.env = {**h.server_env(database, secrets.token_urlsafe(32)), "ALLOW_PRIVATE_CALLBACKS": "1"}
        database.reset()
        h.run_cli(self.env, "migrate")
        h.run_cli(self.env, "create-admin", "--username", ADMIN, "--password", self.password)
        h.run_cli(self.env, "seed-demo", "--products", "50")
        self.token = ""
        self.integration_id = ""
        self.products: list[int] = []

    def call(self, url: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return h.graphql(url, document, variables, token=self.token or None)

    def prepare(self, url: str) -> None:
        """Sign in, throttling as ``--throttling`` says (off), and the integration (once)."""
        self.token = ""
        self.token = self.call(url, SIGN_IN, {"u": ADMIN, "p": self.password})["generateAdminToken"]["token"]
        h.configure_throttling(url, self.token)
        if not self.integration_id:
            created = self.call(
                url,
                CREATE_INTEGRATION,
                {"input": {"name": "Hooks", "resources": [PRODUCTS], "currentPassword": self.password}},
            )
            self.integration_id = h.check_payload(created, "createIntegration")["integration"]["id"]
            authorized = self.call(url, AUTHORIZE, {"id": self.integration_id, "p": self.password})
            h.check_payload(authorized, "authorizeIntegration")
            edges = self.call(url, PRODUCT_IDS)["products"]["edges"]
            self.products = [edge["node"]["id"] for edge in edges]

    def subscribe(self, url: str, target: str) -> dict[str, Any]:
        variables = {
            "input": {
                "integrationId": self.integration_id,
                "events": ["PRODUCT_UPDATED"],
                "targetUrl": target,
                "query": DOCUMENT,
                "currentPassword": self.password,
            }
        }
        return h.check_payload(self.call(url, SUBSCRIBE, variables), "createWebhookSubscription")["subscription"]

    def delete(self, url: str, subscription_id: str) -> None:
        """Delete a subscription (its deliveries go with it)."""
        deleted = self.call(url, DELETE, {"id": subscription_id, "p": self.password})
        h.check_payload(deleted, "deleteWebhookSubscription")

    def set_active(self, url: str, subscription_id: str, active: bool) -> None:
        variables = {"input": {"id": subscription_id, "isActive": active, "currentPassword": self.password}}
        h.check_payload(self.call(url, SET_ACTIVE, variables), "updateWebhookSubscription")


@contextlib.contextmanager
def server(store: Store, *, deliver: bool) -> Iterator[h.Server]:
    env = {**store.env, "WEBHOOK_DELIVERY": "1" if deliver else "0"}
    with h.serving("app", env, h.free_port()) as running:
        store.prepare(running.url)
        yield running


# ------------------------------------------------------------------------------------------ load


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def load(store: Store, updates: int, threads: int = 8, timeout: float = 300) -> dict[str, Any]:
    """``updates`` product updates through the API; every delivery counted by ``webhook-id``."""
    receiver = Receiver()
    try:
        with server(store, deliver=True) as running:
            subscription = store.subscribe(running.url, receiver.url)
            receiver.secret = subscription["secret"]
            started = time.monotonic()
            cpu_before = h.cpu_ticks(running.pid)

            # One client for every thread: a new one per request would build its TLS settings each time, which
            # takes longer than the request.
            client = httpx.Client(headers={"Authorization": f"Bearer {store.token}"}, timeout=30)

            def update(n: int) -> None:
                product = store.products[n % len(store.products)]
                variables = {"input": {"id": product, "price": 1 + n / 100}}
                response = client.post(running.url, json={"query": UPDATE_PRODUCT, "variables": variables})
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"updateProduct: {response.status_code} {response.text[:300]}")
                h.check_payload(body["data"], "updateProduct")

            with client, concurrent.futures.ThreadPoolExecutor(threads) as pool:
                list(pool.map(update, range(updates)))
            written = time.monotonic() - started
            deadline = time.monotonic() + timeout
            while receiver.unique() < updates and time.monotonic() < deadline:
                time.sleep(0.05)
            drained = time.monotonic() - started
            server_cpu = (h.cpu_ticks(running.pid) - cpu_before) / h.CLOCK_TICKS
            time.sleep(1)  # any duplicate would have arrived by now
            store.delete(running.url, subscription["id"])
    finally:
        receiver.close()
    total = sum(receiver.ids.values())
    return {
        "updates": updates,
        "delivered": receiver.unique(),
        "lost": updates - receiver.unique(),
        "duplicates": total - receiver.unique(),
        "bad_signatures": receiver.bad_signatures,
        "writes_s": round(written, 2),
        "all_delivered_s": round(drained, 2),
        "server_cpu_s": round(server_cpu, 2),
        "lag_p50_ms": round(percentile(receiver.lags, 50) * 1000, 1),
        "lag_p95_ms": round(percentile(receiver.lags, 95) * 1000, 1),
        "lag_max_ms": round(max(receiver.lags, default=0) * 1000, 1),
    }


# ------------------------------------------------------------------------------------------ cost


def update_body(store: Store) -> str:
    return json.dumps({"query": UPDATE_PRODUCT, "variables": {"input": {"id": store.products[0], "price": 9.5}}})


def cost_timing(store: Store, rounds: int, seconds: int) -> dict[str, Any]:
    """Requests per second of the mutation with no active subscription and with one, interleaved by round."""
    per_round: list[dict[str, float]] = []
    with server(store, deliver=False) as running:
        subscription = store.subscribe(running.url, "http://127.0.0.1:9/never-delivered")
        for number in range(rounds):
            measured: dict[str, float] = {}
            # Each round starts with the other variant, so neither always runs on a warmer (or busier) machine.
            for variant in ("none", "one") if number % 2 == 0 else ("one", "none"):
                store.set_active(running.url, subscription["id"], variant == "one")
                result = h.measure_python(
                    running,
                    update_body(store),
                    connections=8,
                    warmup=1,
                    duration=seconds,
                    authorization=f"Bearer {store.token}",
                )
                if result.errors:
                    raise SystemExit(f"{variant}: {result.errors} errors")
                measured[variant] = result.rps
            h.log(f"round {number + 1}: none {measured['none']:.0f} req/s, one {measured['one']:.0f} req/s")
            per_round.append(measured)
        store.delete(running.url, subscription["id"])  # and the deliveries it left pending
    ratios = [r["one"] / r["none"] for r in per_round]
    return {
        "rounds": per_round,
        "ratio_median": round(statistics.median(ratios), 3),
        "none_rps_median": round(statistics.median(r["none"] for r in per_round), 1),
        "one_rps_median": round(statistics.median(r["one"] for r in per_round), 1),
    }


def cost_instructions(store: Store, requests: int, warmup: int) -> dict[str, Any]:
    """Instructions per request under callgrind: the mutation without and with one active subscription, and the
    ``products`` read with and without the delivery worker."""
    out = h.RESULTS / "callgrind" / f"webhooks-{store.database.label}"
    counted: dict[str, float] = {}
    read = json.dumps({"query": h.products_document()})
    # The reads first, while nothing is pending: an idle worker only looks (once a second).
    cases = [
        ("products read, no delivery worker", None, False, read),
        ("products read, delivery worker idle", None, True, read),
        ("mutation, no active subscription", False, False, update_body(store)),
        ("mutation, one active subscription", True, False, update_body(store)),
    ]
    subscription: dict[str, Any] = {}
    for name, active, deliver, body in cases:
        if active is not None:
            with server(store, deliver=False) as running:
                subscription = subscription or store.subscribe(running.url, "http://127.0.0.1:9/never-delivered")
                store.set_active(running.url, subscription["id"], active)
        template = h.load_template(name, body, f"Bearer {store.token}")
        env = {**store.env, "WEBHOOK_DELIVERY": "1" if deliver else "0"}
        dump = instructions.count(
            "app", env, template, out / f"{len(counted)}.out", port=h.free_port(), warmup=warmup, requests=requests
        )
        counted[name] = instructions.total(dump) / requests
        h.log(f"{name}: {counted[name] / 1e6:.2f} M instructions per request")
    with server(store, deliver=False) as running:
        store.delete(running.url, subscription["id"])
    none, one = counted["mutation, no active subscription"], counted["mutation, one active subscription"]
    idle, off = counted["products read, delivery worker idle"], counted["products read, no delivery worker"]
    return {
        "per_request": {k: round(v) for k, v in counted.items()},
        "mutation_ratio": round(none / one, 3),
        "read_ratio": round(off / idle, 3),
    }


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a postgres:// URL (wiped)")
    parser.add_argument("--updates", type=int, default=1000, help="product updates of the load test (0: none)")
    parser.add_argument("--threads", type=int, default=8, help="threads sending the load test's updates")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds of the cost (0: none)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per variant and round")
    parser.add_argument("--instructions", action="store_true", help="also instructions per request (callgrind)")
    parser.add_argument("--requests", type=int, default=instructions.REQUESTS, help="requests counted under callgrind")
    args = parser.parse_args(argv)
    if args.instructions and (problem := instructions.missing()):
        raise SystemExit(problem)
    store = Store(h.Database.choose(args.database, "webhooks"))
    results: dict[str, Any] = {"database": store.database.label, "at": dt.datetime.now(dt.UTC).isoformat()}
    if args.updates:
        results["load"] = load(store, args.updates, args.threads)
        h.log(f"load: {json.dumps(results['load'])}")
    if args.rounds:
        results["cost_timing"] = cost_timing(store, args.rounds, args.seconds)
    if args.instructions:
        results["cost_instructions"] = cost_instructions(store, args.requests, instructions.WARMUP)
    h.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = h.RESULTS / f"webhooks-{store.database.label}-{stamp}.json"
    path.write_text(json.dumps(results, indent=1))
    print(report(results))
    print(f"\n{path}")
    failed = results.get("load", {}).get("lost") or results.get("load", {}).get("bad_signatures")
    return 1 if failed else 0


def report(results: dict[str, Any]) -> str:
    lines = [f"Webhooks on {results['database']}"]
    if "load" in results:
        r = results["load"]
        lines.append(
            f"load: {r['updates']} updates, {r['delivered']} delivered, {r['lost']} lost, {r['duplicates']} duplicates,"
            f" {r['bad_signatures']} bad signatures; lag p50 {r['lag_p50_ms']} ms, p95 {r['lag_p95_ms']} ms,"
            f" max {r['lag_max_ms']} ms; writes took {r['writes_s']} s, all delivered after {r['all_delivered_s']} s"
        )
    if "cost_timing" in results:
        r = results["cost_timing"]
        lines.append(
            f"updateProduct req/s, one active subscription / none: {r['ratio_median']} (median of"
            f" {len(r['rounds'])} rounds; {r['one_rps_median']} / {r['none_rps_median']} req/s)"
        )
    if "cost_instructions" in results:
        r = results["cost_instructions"]
        for name, value in r["per_request"].items():
            lines.append(f"  {name}: {value / 1e6:.3f} M instructions per request")
        lines.append(
            f"instructions, none / one (mutation): {r['mutation_ratio']}; read without / with idle worker:"
            f" {r['read_ratio']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
