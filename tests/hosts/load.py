"""A load through the load balancer: 64 connections, each sending reads (GraphQL GET, as the admin) and every
fourth request a write (``createProduct``, a SKU of its own), until stopped, in a thread of its own.

Every answer is recorded: when it was sent and answered, its status, whether it said when to retry, which host
answered; every acknowledged write (200, the product returned, no error) is kept to be looked for afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import threading
import time

import httpx

from tests.support.database import query

READ = "{ products(first: 3) { edges { node { sku price } } } }"
WRITE = "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { sku } userErrors { code } } }"
_runs = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class Answer:
    sent: float
    answered: float
    write: bool
    #: The HTTP status, or the transport error's name.
    outcome: str
    retry_after: bool
    host: str

    @property
    def ok(self) -> bool:
        return self.outcome == "200"


@dataclasses.dataclass
class Report:
    answers: list[Answer]
    acknowledged: list[str]
    seconds: float

    @property
    def requests(self) -> int:
        return len(self.answers)

    @property
    def failed(self) -> list[Answer]:
        return [a for a in self.answers if not a.ok]

    def outcomes(self) -> dict[str, int]:
        return dict(collections.Counter(a.outcome for a in self.answers))

    def lost(self, database_url: str) -> list[str]:
        """Acknowledged writes that the database does not hold."""
        found: set[str] = set()
        for start in range(0, len(self.acknowledged), 500):
            chunk = self.acknowledged[start : start + 500]
            rows = query(database_url, "SELECT sku FROM catalog_product WHERE sku = ANY($1::text[])", chunk)
            found.update(row["sku"] for row in rows)
        return [sku for sku in self.acknowledged if sku not in found]

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.1f} s ({len(self.acknowledged)} acknowledged writes), "
            f"outcomes {self.outcomes()}"
        )


class Load:
    """``with Load(url, token) as load: ...; report = load.stop()``."""

    def __init__(self, base_url: str, token: str, connections: int = 64, max_seconds: float = 180.0) -> None:
        self.base_url = base_url
        self.token = token
        self.connections = connections
        self.max_seconds = max_seconds
        self.run = next(_runs)
        self._stop = threading.Event()
        self._answers: list[Answer] = []
        self._acknowledged: list[str] = []
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._started = 0.0
        self._stopped = 0.0

    def __enter__(self) -> Load:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> Report:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive(), "the load did not stop"
        self._stopped = self._stopped or time.monotonic()
        return Report(list(self._answers), list(self._acknowledged), self._stopped - self._started)

    async def _main(self) -> None:
        limits = httpx.Limits(max_connections=self.connections, max_keepalive_connections=self.connections)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=30, headers=headers) as http:
            await asyncio.gather(*(self._connection(http, n) for n in range(self.connections)))

    async def _connection(self, http: httpx.AsyncClient, number: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        for i in itertools.count():
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            write = i % 4 == 3
            sku = f"load-{self.run}-{number}-{i}"
            sent = time.monotonic()
            try:
                if write:
                    variables = {"input": {"sku": sku, "name": "Load", "price": 1}}
                    response = await http.post("/graphql", json={"query": WRITE, "variables": variables})
                else:
                    response = await http.get("/graphql", params={"query": READ})
            except httpx.HTTPError as error:
                self._answers.append(Answer(sent, time.monotonic(), write, type(error).__name__, False, ""))
                await asyncio.sleep(0.05)
                continue
            outcome = str(response.status_code)
            if response.status_code == 200:
                body = response.json()
                if body.get("errors"):
                    outcome = f"200 with {body['errors'][0].get('extensions', {}).get('code')}"
                elif write:
                    payload = body["data"]["createProduct"]
                    if payload["userErrors"] or payload["product"] is None:
                        outcome = f"200 with {payload['userErrors']}"
                    else:
                        self._acknowledged.append(sku)
            self._answers.append(
                Answer(
                    sent,
                    time.monotonic(),
                    write,
                    outcome,
                    bool(response.headers.get("retry-after")),
                    response.headers.get("x-served-by", ""),
                )
            )
            if response.status_code != 200:
                await asyncio.sleep(0.05)  # a client backing off a little, not a tight loop of failures
