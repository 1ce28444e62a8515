"""SQL statements per request, for each workload and page size, counted in-process.

Each workload is sent through the ASGI app (the bare app for W4) with httpx, while the execute methods of
Tortoise's database clients (and BEGIN/COMMIT/ROLLBACK of its transactions) are wrapped with a counter.
The wrapping exists only in this benchmark process; the server code is not touched.

Run by ``bench/run.py`` as ``python -m bench.sqlcount IN.json OUT.json`` with the benchmark's environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import statistics
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from bench.harness import GET_WORKLOADS, OAuthCredentials, get_path, module_main, products_document, signed_headers

EXECUTE_METHODS = ("execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script")
TRANSACTION_METHODS = ("begin", "commit", "rollback")


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self._inside: contextvars.ContextVar[bool] = contextvars.ContextVar("inside", default=False)

    def wrap(self, method: Callable[..., Any], label: str | None) -> Callable[..., Any]:
        counter = self

        @functools.wraps(method)
        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            if counter._inside.get():
                return await method(self, *args, **kwargs)
            token = counter._inside.set(True)
            try:
                statement = label or (str(args[0]) if args else str(kwargs.get("query", "")))
                counter.statements.append(" ".join(statement.split()))
                return await method(self, *args, **kwargs)
            finally:
                counter._inside.reset(token)

        return counted

    def install(self) -> None:
        """Wrap the methods on every Tortoise client class that defines them (SQLite and asyncpg)."""
        from tortoise.backends.asyncpg.client import AsyncpgDBClient
        from tortoise.backends.asyncpg.client import TransactionWrapper as AsyncpgTransaction
        from tortoise.backends.base_postgres.client import BasePostgresClient
        from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

        for cls in (SqliteClient, SqliteTransactionWrapper, BasePostgresClient, AsyncpgDBClient, AsyncpgTransaction):
            for name in EXECUTE_METHODS:
                if name in cls.__dict__:
                    setattr(cls, name, self.wrap(cls.__dict__[name], None))
            for name in TRANSACTION_METHODS:
                if name in cls.__dict__:
                    setattr(cls, name, self.wrap(cls.__dict__[name], name.upper()))


def _extension_check(real_schema: Any, bare_schema: Any) -> dict[str, Any]:
    """The bare schema must have the real one's extensions minus access control, and no field guards
    (else the ratio is unfair). Cost control counts as access control here: it is the caller's budget, and it
    reads the access analysis (the cost comes from the same walk), which the bare schema does not make."""
    from auth.control import OperationControl
    from bench.bare_app import guarded_fields

    def kinds(schema: Any) -> list[str]:
        return [type(factory()).__name__ for factory in schema.extensions]

    policy = {OperationControl.__name__}
    real = [k for k in kinds(real_schema) if k not in policy]
    bare = kinds(bare_schema)
    return {
        "real_minus_access_control": real,
        "bare": bare,
        "same": real == bare,
        "bare_guarded_fields": guarded_fields(bare_schema),
        "real_guarded_fields": len(guarded_fields(real_schema)),
    }


@dataclasses.dataclass
class InProcess:
    """The server and the bare app in this process, each behind an httpx client, and each workload's headers."""

    real: httpx.AsyncClient
    bare: httpx.AsyncClient
    url: str
    admin_token: str
    credentials: OAuthCredentials | None
    #: W5's OAuth 2.0 bearer token (None for a checkout without OAuth 2.0).
    oauth2_token: str | None
    #: The bare schema's extensions against the real one's (see ``_extension_check``).
    extensions: dict[str, Any]

    def client(self, workload: str) -> httpx.AsyncClient:
        return self.bare if workload == "W4" else self.real

    def headers(self, workload: str) -> dict[str, str]:
        """W2 the admin token, W3 freshly signed (a new nonce on every call), W1 and W4 nothing."""
        if workload == "W2":
            return {"Authorization": f"Bearer {self.admin_token}"}
        if workload == "W5" and self.oauth2_token:
            return {"Authorization": f"Bearer {self.oauth2_token}"}
        if workload == "W3":
            assert self.credentials is not None
            return {"Authorization": signed_headers(self.credentials, self.url, 1)[0]}
        return {}

    async def send(self, workload: str, document: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """``document`` as the workload sends it: a GET (W6) or a POST, with its headers."""
        client, sent = self.client(workload), {**self.headers(workload), **(headers or {})}
        if workload in GET_WORKLOADS:
            return await client.get(get_path(document), headers=sent)
        return await client.post("/graphql", json={"query": document}, headers=sent)


def _view_of(app: Any) -> Any:
    """The GraphQL view served at the app's first route."""
    return app.routes[0].endpoint


@contextlib.asynccontextmanager
async def in_process(spec: dict[str, Any], wrap: Callable[[Any], Any] = lambda app: app) -> AsyncIterator[InProcess]:
    """Both apps from the environment's settings, started (lifespan) for the block; ``wrap`` goes around each."""
    from bench.bare_app import create_bare_app
    from main import create_app
    from settings import Settings

    base_url = spec["base_url"]
    # Signed requests must name the store's own host: the base URL the requests are sent to. No webhook delivery
    # worker: its look for due deliveries (once a second) would land in the statements counted per request.
    settings = dataclasses.replace(Settings.from_env(), store_base_url=f"{base_url}/", webhook_delivery=False)
    bare = create_bare_app(settings)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=wrap(app)), base_url=base_url) as real,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=wrap(bare)), base_url=base_url) as baseline,
    ):
        yield InProcess(
            real,
            baseline,
            f"{base_url}/graphql",
            spec["admin_token"],
            OAuthCredentials(**spec["credentials"]) if spec.get("credentials") else None,
            spec.get("oauth2_token"),
            _extension_check(app.state.schema, _view_of(bare).schema),
        )


async def count(spec: dict[str, Any]) -> dict[str, Any]:
    counter = Counter()
    counter.install()
    workloads: dict[str, Any] = {}
    async with in_process(spec) as apps:
        results: dict[str, Any] = {"extensions": apps.extensions}
        for workload in spec["workloads"]:
            per_size: dict[str, Any] = {}
            for first in spec["page_sizes"]:
                document = spec.get("query") or products_document(first)
                counts = []
                statements: list[str] = []
                for attempt in range(1 + spec["repeat"]):
                    counter.statements.clear()
                    response = await apps.send(workload, document)
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        raise SystemExit(f"{workload} first={first}: {response.status_code} {response.text[:500]}")
                    if attempt:  # the first request warms caches (and may run one-time work)
                        counts.append(len(counter.statements))
                        statements = list(counter.statements)
                products = body["data"].get("products")
                edges = len(products["edges"]) if products else None
                per_size[str(first)] = {
                    # The median: W3 runs Magento's nonce cleanup on a random 1 in 100 requests.
                    "statements_per_request": statistics.median(counts),
                    "min": min(counts),
                    "max": max(counts),
                    "edges": edges,
                    "statements": statements,
                }
                if spec.get("query"):
                    break
            workloads[workload] = per_size
    results["workloads"] = workloads
    return results


if __name__ == "__main__":
    sys.exit(module_main(sys.argv[1:], count))
