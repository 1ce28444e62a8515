"""Benchmark: the authenticated ``products`` query against a bare baseline, measured in the same run.

    python bench/run.py                         # SQLite: W1-W4 and the ceiling, 5 interleaved rounds
    python bench/run.py --database postgres://postgres@127.0.0.1:5432/bench   # that database is wiped
    python bench/run.py --scale                 # W1 (and W3) on 1,000 against 100,000 products
    python bench/run.py --soak                  # 64 connections, 60 s of mixed reads and writes

Workloads (all the same document, ``products(first: 20)`` with SKU, name, price and category names):
W1 guest (guest access on), W2 admin bearer token, W3 integration signed with OAuth 1.0a (HMAC-SHA256,
every request with its own nonce, pre-signed), W4 the bare app (bench/bare_app.py: same types and
resolvers, no authentication or access checks), W5 the W3 integration with an OAuth 2.0 bearer token, W6 the
W1 document as a cacheable GET answered from the server's response cache, W7 the same GET through Varnish
(docs/varnish.vcl) in front of the server (needs varnishd). The others are reported as a ratio to W4 of the same
round, median over the rounds. The ceiling is a bare Starlette endpoint with a fixed body.

The store is seeded with ``python main.py seed-demo`` into a fresh database. Each app (the server, the bare
app, the ceiling) runs as a real uvicorn process (one worker, uvloop, httptools, no access log) pinned to
CPU 0 and kept for a round, so that the workloads of a round are measured seconds apart; the load
comes from wrk (or bench/loadgen.py) pinned to CPU 1, over loopback. Run as root, both get nice -20 in
their own session, so other work on the machine disturbs the measurements less. Results: a table on stdout and JSON in
bench/results/ (``--save-latest`` also writes bench/latest-<database>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h
from bench import instructions, profile

NAMES = {
    "W1": "guest",
    "W2": "admin bearer",
    "W3": "integration OAuth 1.0a",
    "W4": "bare baseline",
    "W5": "integration OAuth 2.0 bearer",
    "W6": "guest GET, response cache",
    "W7": "guest GET through Varnish",
    "ceiling": "ceiling (Starlette)",
}
#: Ratios to W4 (W6: 20 times W4's requests per second, issue 17).
TARGETS = {"W1": 0.95, "W2": 0.95, "W3": 0.85, "W5": 0.9, "W6": 20.0}
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7")
PAGE_SIZES = (5, 20, 100)
INTEGRATION_NAME = "Benchmark catalog reader"


# ------------------------------------------------------------------------------------------ the store


class Store:
    """A seeded benchmark database with an admin token, guest access on and an active integration."""

    def __init__(self, database: h.Database, products: int, port: int) -> None:
        self.database = database
        self.products = products
        self.port = port
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.env = h.server_env(database, secrets.token_urlsafe(32))
        self.admin_token = ""
        #: The bench admin's password: its integration writes ask for it (Your Password).
        self.admin_password = ""
        self.credentials: h.OAuthCredentials | None = None
        #: W5's bearer token (OAuth 2.0 client credentials of the same integration), when the checkout has them.
        self.oauth2_token: str | None = None
        self.body_dir = Path(tempfile.mkdtemp(prefix="bench-bodies-"))
        self.counts: dict[str, int] = {}
        #: Each workload's ``data`` in the start-up check, compared with the bare baseline's.
        self.answers: dict[str, Any] = {}
        self.seeded = ""
        self.document = h.products_document()

    def prepare(self, *, integrations: int = 0, nonces: int = 0, query: str | None = None) -> Store:
        started = time.monotonic()
        h.log(f"preparing a fresh {self.database.label} database with {self.products:,} products ...")
        self.database.reset()
        h.run_cli(self.env, "migrate")
        if h.has_command(self.env, "seed-demo"):
            self.seeded = h.run_cli(self.env, "seed-demo", "--products", str(self.products)).strip()
            self._show_everything_to_guests()
        else:
            h.log("  WARNING: this checkout has no `main.py seed-demo`: the store stays empty")
        password = self.admin_password = secrets.token_urlsafe(18) + "-b3"  # letters and digits
        h.run_cli({**self.env, "ADMIN_PASSWORD": password}, "create-admin", "--username", "bench")
        if integrations or nonces:
            out = subprocess.run(
                [sys.executable, "-m", "bench.scale", "--integrations", str(integrations), "--nonces", str(nonces)],
                cwd=h.ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                raise SystemExit(f"bulk seeding failed:\n{out.stdout}{out.stderr}")
            self.counts = json.loads(out.stdout)
            h.log(f"  bulk rows: {self.counts}")
        self.document = query or h.products_document()
        with h.serving("app", self.env, self.port, pin=False):
            data = h.graphql(
                self.url,
                "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }",
                {"u": "bench", "p": password},
            )
            self.admin_token = data["generateAdminToken"]["token"]
            h.graphql(
                self.url,
                "mutation { setGuestAccess(allow: true) { webApiSecurity { allowAnonymousGuestAccess } } }",
                token=self.admin_token,
            )
            h.configure_throttling(self.url, self.admin_token)
            try:
                self.credentials = self._create_integration()
            except SystemExit as problem:
                h.log(f"  WARNING: no integration could be created, so no W3 ({str(problem)[:200]})")
            if self.credentials is not None:
                try:
                    self.oauth2_token = self._fetch_oauth2_token(self.credentials)
                except SystemExit as problem:
                    h.log(f"  WARNING: no OAuth 2.0 token, so no W5 ({str(problem)[:200]})")
            self._check_workloads(query is None)
        with h.serving("bare", self.env, self.port, pin=False):
            response = self._post("W4")
            (self.body_dir / "ceiling.json").write_bytes(response.content)
        baseline = response.json().get("data")
        for workload, data in self.answers.items():
            if data != baseline:
                raise SystemExit(f"{workload} answers other data than the bare baseline W4: the ratio would be unfair")
        self._maintain()
        h.log(f"  ready in {time.monotonic() - started:.0f} s")
        return self

    def _create_integration(self) -> h.OAuthCredentials:
        """createIntegration (Custom: the products resource, no URLs), then authorizeIntegration."""
        created = h.check_payload(
            h.graphql(
                self.url,
                "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) "
                "{ integration { id } userErrors { field message code } } }",
                {
                    "input": {
                        "name": INTEGRATION_NAME,
                        "resources": h.CATALOG_RESOURCES,
                        "currentPassword": self.admin_password,
                        **({"authMethods": ["OAUTH1", "OAUTH2_CLIENT_CREDENTIALS"]} if self.has_oauth2 else {}),
                    }
                },
                token=self.admin_token,
            ),
            "createIntegration",
        )
        authorized = h.check_payload(
            h.graphql(
                self.url,
                "mutation($id: ID!, $p: String) { authorizeIntegration(id: $id, currentPassword: $p) "
                "{ credentials { consumerKey consumerSecret accessToken accessTokenSecret } "
                "userErrors { field message code } } }",
                {"id": created["integration"]["id"], "p": self.admin_password},
                token=self.admin_token,
            ),
            "authorizeIntegration",
        )
        c = authorized["credentials"]
        return h.OAuthCredentials(c["consumerKey"], c["consumerSecret"], c["accessToken"], c["accessTokenSecret"])

    @property
    def has_oauth2(self) -> bool:
        """Whether this checkout serves OAuth 2.0 (W5): it has the ``auth/oauth2`` package."""
        return (h.ROOT / "auth" / "oauth2").is_dir()

    def _fetch_oauth2_token(self, credentials: h.OAuthCredentials) -> str | None:
        """The W3 integration's client credentials traded for a bearer token that outlives the run (W5)."""
        if not self.has_oauth2:
            return None
        import httpx

        h.graphql(
            self.url,
            "mutation { updateOAuthConfig(input: {oauth2AccessTokenLifetime: 86400}) { userErrors { message } } }",
            token=self.admin_token,
        )
        base = self.url.rsplit("/graphql", 1)[0]
        response = httpx.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials.consumer_key, credentials.consumer_secret),
            timeout=30,
        )
        if response.status_code != 200:
            raise SystemExit(f"/oauth2/token: {response.status_code} {response.text[:300]}")
        return str(response.json()["access_token"])

    def get_path(self, workload: str) -> str | None:
        """The path a GET workload requests (None: the workload POSTs its body)."""
        return h.get_path(self.document) if workload in h.GET_WORKLOADS else None

    def body_file(self, document: str) -> Path:
        path = self.body_dir / f"body-{abs(hash(document))}.json"
        if not path.exists():
            path.write_text(json.dumps({"query": document}))
        return path

    def in_process_spec(self) -> dict[str, Any]:
        """What bench/sqlcount.py's ``in_process`` needs to send each workload's requests to the apps."""
        return {
            "base_url": f"http://127.0.0.1:{self.port}",
            "admin_token": self.admin_token,
            "oauth2_token": self.oauth2_token,
            "credentials": self.credentials.__dict__ if self.credentials else None,
        }

    def bearer(self, workload: str) -> str | None:
        """The fixed Authorization value of a workload (W2's admin token, W5's OAuth 2.0 token); W3 signs each
        request instead."""
        if workload == "W5":
            return f"Bearer {self.oauth2_token}"
        return f"Bearer {self.admin_token}" if workload == "W2" else None

    def headers(self, workload: str) -> dict[str, str]:
        bearer = self.bearer(workload)
        if bearer:
            return {"Authorization": bearer}
        if workload == "W3":
            assert self.credentials is not None
            return {"Authorization": h.signed_headers(self.credentials, self.url, 1)[0]}
        return {}

    def _post(self, workload: str, headers: dict[str, str] | None = None) -> Any:
        import httpx

        return httpx.post(
            self.url,
            content=self.body_file(self.document).read_bytes(),
            headers={"Content-Type": "application/json", **(self.headers(workload) if headers is None else headers)},
            timeout=30,
        )

    def _check_workloads(self, products: bool) -> None:
        """Each workload answers the document with a full page and no errors; a replayed signature is refused."""
        expected = min(h.DEFAULT_FIRST, self.products)
        for workload in ("W1", "W2", *(("W3",) if self.credentials else ()), *(("W5",) if self.oauth2_token else ())):
            headers = self.headers(workload)
            response = self._post(workload, headers)
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise SystemExit(f"{workload} check failed: {response.status_code} {response.text[:500]}")
            edges = body["data"]["products"]["edges"] if products else None
            if edges is not None and len(edges) != expected:
                raise SystemExit(f"{workload} check: {len(edges)} products instead of {expected}")
            if workload == "W3":
                replay = self._post(workload, headers)
                if replay.status_code != 401:
                    raise SystemExit(f"a replayed OAuth request got {replay.status_code}, not 401")
            h.check_cost(workload, body)
            self.answers[workload] = body["data"]
        self._check_cached_get(products)
        if h.THROTTLING["on"] and h.THROTTLING["redis_url"] and not h.charges_redis(lambda: self._post("W1")):
            raise SystemExit("throttling is on with --redis-url, but no bucket was written to Redis")

    def _check_cached_get(self, products: bool) -> None:
        """W6's GET answers as W1's POST does, and is public (cacheable) and served again from the cache."""
        import httpx

        url = self.url.removesuffix("/graphql") + h.get_path(self.document)
        first, again = httpx.get(url, timeout=30), httpx.get(url, timeout=30)
        body = first.json()
        if first.status_code != 200 or body.get("errors") or again.content != first.content:
            raise SystemExit(f"W6 check failed: {first.status_code} {first.text[:500]}")
        if not first.headers.get("cache-control", "").startswith("public"):
            raise SystemExit(f"W6 check: the answer is not cacheable ({first.headers.get('cache-control')})")
        if products and body["data"] != self._post("W1").json()["data"]:
            raise SystemExit("W6 check: the GET answer differs from W1's")
        self.answers["W6"] = body["data"]

    def _show_everything_to_guests(self) -> None:
        """Every product enabled and visible, every category active: the guest's filters (W1, and the bare
        baseline W4, which runs as the guest) then keep the rows an admin or an integration reads, so every
        workload reads and answers the same page and the ratios measure access control, not a different page.
        The filters still run; they just remove nothing."""
        statements = (
            "UPDATE catalog_product SET status = 1, visibility = 4",  # enabled; visible in catalog and search
            "UPDATE catalog_category SET is_active = TRUE",
        )
        if self.database.is_sqlite:
            with sqlite3.connect(self.database.url.removeprefix("sqlite://")) as conn:
                for statement in statements:
                    conn.execute(statement)
            return
        import asyncio

        import asyncpg

        async def update() -> None:
            conn = await asyncpg.connect(self.database.url.replace("postgres://", "postgresql://", 1))
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        asyncio.run(update())

    def _maintain(self) -> None:
        """Settle the freshly loaded database, so that no background maintenance lands inside a measurement."""
        if self.database.is_sqlite:
            path = self.database.url.removeprefix("sqlite://")
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        import asyncio

        import asyncpg

        async def vacuum() -> None:
            conn = await asyncpg.connect(self.database.url.replace("postgres://", "postgresql://", 1))
            try:
                await conn.execute("VACUUM ANALYZE")
            finally:
                await conn.close()

        asyncio.run(vacuum())


# ------------------------------------------------------------------------------------------ measuring


class Bench:
    def __init__(self, args: argparse.Namespace, generator: str) -> None:
        self.args = args
        self.generator = generator
        #: Highest rate seen per workload, to size the signed corpora.
        self.rates: dict[str, float] = {}
        self.work_dir = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
        #: When profiling: where py-spy writes the stacks of each workload's server.
        self.profile_outputs: dict[str, Path] = {}
        #: The servers, started on first use and kept for a round: the workloads of a round are then measured
        #: seconds apart, on equally warm processes.
        self.servers: dict[tuple[int, str], h.Server] = {}
        #: W7's Varnish, in front of the round's server.
        self.cache: h.Varnish | None = None

    def server(self, store: Store, app: str) -> h.Server | h.Varnish:
        if app == "varnish":
            return self.varnish(store)
        key = (id(store), app)
        server = self.servers.get(key)
        if server is None or server.process.poll() is not None:
            env = dict(store.env)
            if app == "ceiling":
                env["BENCH_CEILING_BODY"] = str(store.body_dir / "ceiling.json")
            # The app keeps the store's port: the OAuth corpus is signed for that URL.
            port = store.port if app == "app" else h.free_port()
            server = self.servers[key] = h.Server(app, env, port)
        return server

    def varnish(self, store: Store) -> h.Varnish:
        """Varnish in front of the store's server (W7), kept for the round like the servers."""
        backend = self.server(store, "app")
        if self.cache is None or self.cache.process.poll() is not None:
            self.cache = h.Varnish(backend.port, h.free_port())
        return self.cache

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        if self.cache is not None:
            self.cache.stop()
            self.cache = None

    def _corpus_size(self, seconds: float, factor: float = 1.6) -> int:
        rate = self.rates.get("W3") or max(self.rates.values(), default=1500.0)
        return int(rate * seconds * factor) + 500

    def measure(self, store: Store, workload: str, *, connections: int | None = None) -> dict[str, Any]:
        args = self.args
        connections = connections or args.connections
        app = h.app_of(workload)
        body_file = store.body_file(store.document)
        authorization = store.bearer(workload)
        path = store.get_path(workload)
        for attempt in range(2):
            warm_corpus = corpus = None
            if workload == "W3":
                assert store.credentials is not None
                factor = 1.6 * (attempt + 1)
                if self.generator == "wrk":
                    warm_corpus = h.sign_corpus(
                        store.credentials, store.url, self._corpus_size(args.warmup, factor), self.work_dir / "warm"
                    )
                    corpus = h.sign_corpus(
                        store.credentials, store.url, self._corpus_size(args.duration, factor), self.work_dir / "run"
                    )
                else:
                    corpus = h.sign_corpus(
                        store.credentials,
                        store.url,
                        self._corpus_size(args.warmup + args.duration, factor),
                        self.work_dir / "run",
                    )
            loadavg_before = os.getloadavg()[0]
            server = self.server(store, app)
            sampler = None
            if workload in self.profile_outputs:
                sampler = profile.record(server.pid, args.warmup + args.duration, self.profile_outputs[workload])
            if self.generator == "wrk":
                load = h.measure_wrk(
                    server,
                    body_file,
                    connections=connections,
                    warmup=args.warmup,
                    duration=args.duration,
                    authorization=authorization,
                    warm_corpus=warm_corpus,
                    corpus=corpus,
                    check_body=workload != "ceiling",
                    path=path,
                )
            else:
                load = h.measure_python(
                    server,
                    body_file.read_text(),
                    connections=connections,
                    warmup=args.warmup,
                    duration=args.duration,
                    authorization=authorization,
                    corpus=corpus,
                    check_body=workload != "ceiling",
                    path=path,
                )
            if sampler is not None:
                _out, problems = sampler.communicate(timeout=60)
                if sampler.returncode:
                    raise SystemExit(f"py-spy failed: {problems.decode(errors='replace')[-500:]}")
            if not load.detail.get("signed_headers_wrapped"):
                break
            h.log(f"  {workload}: the signed corpus ran out; measuring again with a larger one")
        self.rates[workload] = max(self.rates.get(workload, 0.0), load.rps)
        result: dict[str, Any] = {
            "workload": workload,
            "rps": load.rps,
            "p50_ms": load.p50_ms,
            "p99_ms": load.p99_ms,
            "cpu_ms_per_request": load.cpu_ms_per_request,
            "server_cpu_s": load.server_cpu_s,
            "server_cpu_share": load.server_cpu_s / load.seconds if load.seconds else 0.0,
            "loadavg_1min": [round(loadavg_before, 2), round(os.getloadavg()[0], 2)],
            "requests": load.requests,
            "seconds": load.seconds,
            "errors": load.errors,
            "detail": load.detail,
        }
        h.log(
            f"  {workload:<8} {load.rps:9.1f} req/s  p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  "
            f"CPU {load.cpu_ms_per_request:5.2f} ms/req ({result['server_cpu_share']:.2f} of a core)  "
            f"load {result['loadavg_1min'][1]:.1f}  errors {load.errors}"
        )
        return result


def rounds_order(workloads: list[str], round_index: int) -> list[str]:
    """Rotate the order each round, so no workload always runs first or last (W4 first in round 1)."""
    shift = round_index % len(workloads)
    return workloads[shift:] + workloads[:shift]


def count_statements(store: Store, workloads: list[str], query: str | None) -> dict[str, Any]:
    h.log("counting SQL statements per request (in-process) ...")
    spec = {
        **store.in_process_spec(),
        "workloads": workloads,
        "page_sizes": list(PAGE_SIZES),
        "repeat": 9,
        "query": query,
    }
    counted = h.run_module("bench.sqlcount", spec, store.env)
    if not counted["extensions"]["same"]:
        raise SystemExit(f"the bare app's extensions differ from the server's: {counted['extensions']}")
    return counted


def summarise(runs: list[dict[str, Any]], workloads: list[str], sql: dict[str, Any] | None) -> dict[str, Any]:
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["workload"]] = run
    summary: dict[str, Any] = {}
    for workload in workloads:
        mine = [r for r in runs if r["workload"] == workload]
        rounds = [rnd for rnd in by_round.values() if workload in rnd and "W4" in rnd and rnd["W4"]["rps"]]
        ratios = [rnd[workload]["rps"] / rnd["W4"]["rps"] for rnd in rounds]
        cpu_ratios = [
            rnd["W4"]["cpu_ms_per_request"] / rnd[workload]["cpu_ms_per_request"]
            for rnd in rounds
            if rnd[workload]["cpu_ms_per_request"]
        ]
        entry: dict[str, Any] = {
            "name": NAMES[workload],
            "rps": statistics.median(r["rps"] for r in mine),
            "rps_per_round": [round(r["rps"], 1) for r in mine],
            "p50_ms": statistics.median(r["p50_ms"] for r in mine),
            "p99_ms": statistics.median(r["p99_ms"] for r in mine),
            "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in mine),
            "server_cpu_share": statistics.median(r["server_cpu_share"] for r in mine),
            "errors": sum(r["errors"] for r in mine),
        }
        if workload != "ceiling" and ratios:
            entry["ratio_to_w4"] = statistics.median(ratios)
            entry["ratio_per_round"] = [round(x, 3) for x in ratios]
            entry["cpu_ratio_to_w4"] = statistics.median(cpu_ratios)
        if workload in TARGETS and "ratio_to_w4" in entry:
            entry["target"] = TARGETS[workload]
            entry["meets_target"] = entry["ratio_to_w4"] >= TARGETS[workload]
        if sql and workload in sql["workloads"]:
            per_size = sql["workloads"][workload]
            entry["sql_per_request"] = {size: v["statements_per_request"] for size, v in per_size.items()}
        summary[workload] = entry
    return summary


def print_table(title: str, summary: dict[str, Any]) -> None:
    print(f"\n{title}")
    header = (
        f"{'workload':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'ratio to W4':>11} "
        f"{'per round':<22} {'target':>9} {'CPU ratio':>9} {'SQL/req (first 5/20/100)':<25} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for workload, e in summary.items():
        ratio = f"{e['ratio_to_w4']:.3f}" if "ratio_to_w4" in e else "-"
        per_round = " ".join(f"{x:.3f}" for x in e.get("ratio_per_round", [])) if workload != "W4" else ""
        target = ""
        if "target" in e:
            target = f"{'ok' if e['meets_target'] else 'MISS'} {e['target']:.2f}"
        sql = "/".join(_number(v) for v in e.get("sql_per_request", {}).values()) or "-"
        cpu_ratio = f"{e['cpu_ratio_to_w4']:.3f}" if "cpu_ratio_to_w4" in e else "-"
        print(
            f"{workload + ' ' + e['name']:<30} {e['rps']:>8.1f} {e['p50_ms']:>8.2f} {e['p99_ms']:>8.2f} "
            f"{e['cpu_ms_per_request']:>10.2f} {ratio:>11} {per_round:<22} {target:>9} {cpu_ratio:>9} "
            f"{sql:<25} {e['errors']:>6}"
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


# ------------------------------------------------------------------------------------------ environment


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def environment(store: Store, generator: str) -> dict[str, Any]:
    cpu_model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory_kib = int(meminfo.readline().split()[1])
    generator_version = "bench/loadgen.py (asyncio, uvloop)"
    if generator == "wrk":
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        first_line = (out.stdout or out.stderr).splitlines()[0].split("Copyright")[0]
        generator_version = "wrk " + first_line.strip().removeprefix("wrk ").removeprefix("debian/")
    database_version = f"SQLite {sqlite3.sqlite_version}"
    if not store.database.is_sqlite:
        import asyncio

        import asyncpg

        async def version() -> str:
            conn = await asyncpg.connect(store.database.url.replace("postgres://", "postgresql://", 1))
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        database_version = f"PostgreSQL {asyncio.run(version())}"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=h.ROOT, capture_output=True, text=True)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model,
            "memory_gib": round(memory_kib / 2**20, 1),
            "kernel": platform.release(),
        },
        "python": platform.python_version(),
        "database": database_version,
        "generator": generator_version,
        "pinning": {"server": h.pinned(h.SERVER_CPU), "generator": h.pinned(h.GENERATOR_CPU)},
        "loadavg_at_end": os.getloadavg(),
        "packages": {
            p: _version(p)
            for p in (
                "strawberry-graphql",
                "graphql-core",
                "starlette",
                "uvicorn",
                "uvloop",
                "httptools",
                "tortoise-orm",
                "aiosqlite",
                "asyncpg",
                "oauthlib",
            )
        },
        "commit": commit.stdout.strip() or None,
    }


def save(kind: str, store: Store, payload: dict[str, Any], save_latest: bool) -> Path:
    h.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = "" if kind == "main" else f"-{kind}"
    path = h.RESULTS / f"{stamp}{suffix}-{store.database.label}.json"
    path.write_text(json.dumps(payload, indent=1) + "\n")
    if save_latest:
        shutil.copyfile(path, h.BENCH / f"latest{suffix}-{store.database.label}.json")
    return path


# ------------------------------------------------------------------------------------------ modes


def run_main(args: argparse.Namespace, generator: str) -> int:
    database = h.Database.choose(args.database, "bench")
    store = Store(database, args.products, args.port or h.free_port()).prepare(query=args.query)
    available = {
        "W3": store.credentials is not None,
        "W5": store.oauth2_token is not None,
        "W7": h.varnishd() is not None,
    }
    if "W7" in args.workloads and not available["W7"]:
        h.log("  no varnishd here, so no W7 (apt-get install -y varnish varnish-modules)")
    first = ("W4", "W1", "W2", "W3", "W5", "W6", "W7")
    workloads = [w for w in first if w in args.workloads and available.get(w, True)]
    in_process = [w for w in workloads if w != "W7"]  # Varnish is no part of the app
    sql = count_statements(store, in_process, args.query) if not args.no_sql_count else None
    bench = Bench(args, generator)
    runs: list[dict[str, Any]] = []
    try:
        for index in range(args.rounds):
            h.log(f"round {index + 1} of {args.rounds}")
            order = rounds_order(workloads, index) + ([] if args.no_ceiling else ["ceiling"])
            for workload in order:
                runs.append({"round": index + 1, **bench.measure(store, workload)})
            bench.close()  # fresh processes each round: a process's memory layout shifts it by a few %
    finally:
        bench.close()
    summary = summarise(runs, [*workloads, *([] if args.no_ceiling else ["ceiling"])], sql)
    counted = None
    if args.instructions:
        counted = instructions.measure(
            store,
            in_process,
            runs=args.instruction_runs,
            warmup=args.instruction_warmup,
            requests=args.instruction_requests,
        )
        for workload, entry in counted["workloads"].items():
            summary[workload]["instructions_per_request"] = entry["instructions_per_request"]
            summary[workload]["instruction_ratio_to_w4"] = entry["ratio_to_w4"]
    env = environment(store, generator)
    title = (
        f"{env['database']}, throttling {_throttling_label()}, activity counting {args.activity}, "
        f"{args.products:,} products, {args.connections} connections, {args.rounds} rounds "
        f"x {args.duration} s (+{args.warmup} s warm-up), generator: {env['generator']}, "
        f"server on CPU {h.SERVER_CPU}, generator on CPU {h.GENERATOR_CPU}, {env['date']}"
    )
    print_table(title, summary)
    if counted is not None:
        print(instructions.report(counted, summary))
    if args.compare_to:
        print(compare(summary, json.loads(Path(args.compare_to).read_text())))
    payload = {
        "kind": "main",
        "environment": env,
        "settings": _settings(args, generator),
        "seeded": store.seeded,
        "summary": summary,
        "sql": sql,
        "instructions": counted,
        "runs": runs,
    }
    path = save("main", store, payload, args.save_latest)
    print(f"\nJSON: {path.relative_to(h.ROOT)}")
    missed = [w for w, e in summary.items() if e.get("meets_target") is False]
    errors = sum(e["errors"] for e in summary.values())
    if errors:
        print(f"ERRORS during the measured windows: {errors}")
    if missed:
        print(f"Below target: {', '.join(missed)}")
    return 1 if errors else 0


def _throttling_label() -> str:
    if not h.THROTTLING["on"]:
        return "off"
    where = "Redis" if h.THROTTLING["redis_url"] else "in-process buckets"
    return f"on (buckets that never run dry, {where})"


def compare(summary: dict[str, Any], other: dict[str, Any]) -> str:
    """Each workload of this run against the same workload of an earlier run's JSON (``--compare-to``): its
    instructions per request over this run's, and its median req/s over this run's (1.0: costs the same)."""
    theirs = other["summary"]
    settings = other.get("settings", {})
    lines = [
        "",
        f"Against the run of {other['environment']['date']} (commit {other['environment'].get('commit')}, "
        f"throttling {settings.get('throttling', 'off')}, activity counting {settings.get('activity', 'on')}): "
        "that run's cost over this run's (1.0: the same)",
        f"{'workload':<30} {'instructions':>12} {'req/s':>8}",
    ]
    for workload, entry in summary.items():
        if workload not in theirs:
            continue
        mine_ir, their_ir = entry.get("instructions_per_request"), theirs[workload].get("instructions_per_request")
        ir = f"{their_ir / mine_ir:.3f}" if mine_ir and their_ir else "-"
        rps = f"{entry['rps'] / theirs[workload]['rps']:.3f}" if theirs[workload].get("rps") else "-"
        lines.append(f"{workload + ' ' + entry['name']:<30} {ir:>12} {rps:>8}")
    return "\n".join(lines)


def run_scale(args: argparse.Namespace, generator: str) -> int:
    base = h.Database.choose(args.database, "scale")
    sizes = (args.scale_small, args.scale_large)
    stores = {
        size: Store(base.sibling(str(size)), size, h.free_port()).prepare(
            integrations=args.integrations, nonces=args.nonces
        )
        for size in sizes
    }
    workloads = [w for w in ("W1", "W3") if w in args.workloads] or ["W1"]
    bench = Bench(args, generator)
    runs: list[dict[str, Any]] = []
    try:
        for index in range(args.rounds):
            h.log(f"round {index + 1} of {args.rounds}")
            for size in sizes if index % 2 == 0 else sizes[::-1]:
                for workload in workloads:
                    h.log(f"  {size:,} products:")
                    runs.append({"round": index + 1, "products": size, **bench.measure(stores[size], workload)})
            bench.close()
    finally:
        bench.close()
    summary: dict[str, Any] = {}
    small, large = sizes
    for workload in workloads:
        per_round = []
        for index in range(1, args.rounds + 1):
            pick = {r["products"]: r for r in runs if r["round"] == index and r["workload"] == workload}
            per_round.append(pick[large]["p50_ms"] / pick[small]["p50_ms"])
        entry: dict[str, Any] = {"p50_ratio_large_to_small": statistics.median(per_round), "per_round": per_round}
        for size in sizes:
            mine = [r for r in runs if r["products"] == size and r["workload"] == workload]
            entry[str(size)] = {
                "rps": statistics.median(r["rps"] for r in mine),
                "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in mine),
                "errors": sum(r["errors"] for r in mine),
            }
        summary[workload] = entry
    env = environment(stores[small], generator)
    print(
        f"\nScale: {env['database']}, {args.integrations:,} integrations and {args.nonces:,} stored nonces in both, "
        f"{args.connections} connections, {args.rounds} rounds x {args.duration} s, generator: {env['generator']}"
    )
    print(f"{'workload':<26} {'products':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'errors':>6}")
    for workload, entry in summary.items():
        for size in sizes:
            e = entry[str(size)]
            print(
                f"{workload + ' ' + NAMES[workload]:<26} {size:>9,} {e['rps']:>8.1f} {e['p50_ms']:>8.2f} "
                f"{e['p99_ms']:>8.2f} {e['cpu_ms_per_request']:>10.2f} {e['errors']:>6}"
            )
        ratio = entry["p50_ratio_large_to_small"]
        verdict = "ok" if ratio <= 1.2 else "MISS"
        rounds_text = " ".join(f"{x:.3f}" for x in entry["per_round"])
        print(f"  p50 {large:,} / {small:,}: {ratio:.3f} (rounds {rounds_text}), target <= 1.20: {verdict}")
    payload = {
        "kind": "scale",
        "environment": env,
        "settings": _settings(args, generator),
        "counts": {str(size): stores[size].counts for size in sizes},
        "seeded": {str(size): stores[size].seeded for size in sizes},
        "summary": summary,
        "runs": runs,
    }
    path = save("scale", stores[small], payload, args.save_latest)
    print(f"\nJSON: {path.relative_to(h.ROOT)}")
    return 0


def run_profile(args: argparse.Namespace, generator: str) -> int:
    database = h.Database.choose(args.database, "profile")
    store = Store(database, args.products, args.port or h.free_port()).prepare(query=args.query)
    bench = Bench(args, generator)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    h.RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        for workload in args.profile:
            out = h.RESULTS / f"{stamp}-profile-{workload}-{database.label}.txt"
            bench.profile_outputs[workload] = out
            h.log(f"profiling {workload} for {args.duration} s ...")
            bench.measure(store, workload)
            print(f"\n{workload} {NAMES[workload]}: {out.relative_to(h.ROOT)}")
            print(profile.summarise(out, h.ROOT, args.profile_top))
    finally:
        bench.close()
    return 0


SOAK_DOCUMENTS = {
    "updateProduct": (
        'mutation { updateProduct(input: {id: @M@, price: 21.5, description: "Updated by the soak @N@"}) '
        "{ product { id price } userErrors { field message code } } }"
    ),
    "createCmsPage": (
        'mutation { createCmsPage(input: {identifier: "soak-@RUN@-@N@", title: "Soak page @N@", '
        'content: "<p>Written during the soak.</p>"}) { cmsPage { id } userErrors { field message code } } }'
    ),
}


def run_soak(args: argparse.Namespace, generator: str) -> int:
    database = h.Database.choose(args.database, "soak")
    store = Store(database, args.products, args.port or h.free_port()).prepare()
    assert store.credentials is not None
    document = json.dumps({"query": h.products_document()})
    admin = {"Authorization": f"Bearer {store.admin_token}"}
    work_dir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    with h.serving("app", store.env, store.port) as server:
        # A short unmeasured probe sizes the signed corpus for the mixed load.
        probe = h.run_loadgen(_soak_spec(server, store, document, admin, None, args.soak_connections, 0, 3))
        signed_share = 3 / 11
        count = int(probe["rps"] * signed_share * args.soak_duration * 1.8) + 1000
        h.log(f"signing {count:,} OAuth requests for the soak ...")
        corpus = h.sign_corpus(store.credentials, store.url, count, work_dir / "soak")
        rss_before = _rss(server.pid)
        h.log(f"soak: {args.soak_connections} connections for {args.soak_duration} s ...")
        raw = h.run_loadgen(
            _soak_spec(server, store, document, admin, corpus, args.soak_connections, 0, args.soak_duration)
        )
    rss = raw.get("rss_kib", [])
    at_10 = rss[9] if len(rss) >= 10 else rss[0]
    at_end = rss[-1]
    growth = at_end / at_10 - 1
    errors = raw["errors"]
    wrapped = raw["kinds"]["W3"]["signed_headers_wrapped"]
    ok = errors == 0 and growth < 0.10 and not wrapped
    env = environment(store, "python")
    print(
        f"\nSoak: {env['database']}, {args.products:,} products, {args.soak_connections} connections, "
        f"{args.soak_duration} s, mixed W1/W2/W3 and admin writes (3:3:3:1:1), generator: {env['generator']}"
    )
    print(f"{'kind':<16} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, k in raw["kinds"].items():
        print(
            f"{name:<16} {k['requests']:>9} {k['rps']:>8.1f} {k['p50_ms']:>8.2f} {k['p99_ms']:>8.2f} "
            f"{k['non_200'] + k['graphql_errors']:>7}"
        )
    print(f"total {raw['requests']} requests, {raw['rps']:.1f} req/s, errors {errors} (socket {raw['socket_errors']})")
    print(
        f"server RSS: {rss_before / 1024:.1f} MiB before, {at_10 / 1024:.1f} MiB at 10 s, {at_end / 1024:.1f} MiB at "
        f"{len(rss)} s: growth {growth * 100:+.1f}% (limit +10%) -> {'ok' if ok else 'FAIL'}"
    )
    for name, k in raw["kinds"].items():
        if k["first_error"]:
            print(f"first error of {name}: {k['first_error']}")
    payload = {
        "kind": "soak",
        "environment": env,
        "settings": _settings(args, "python"),
        "rss_kib_before": rss_before,
        "rss_growth_10s_to_end": growth,
        "ok": ok,
        "result": raw,
    }
    path = save("soak", store, payload, args.save_latest)
    print(f"\nJSON: {path.relative_to(h.ROOT)}")
    return 0 if ok else 1


def _soak_spec(
    server: h.Server,
    store: Store,
    document: str,
    admin: dict[str, str],
    corpus: Path | None,
    connections: int,
    warmup: int,
    duration: int,
) -> dict[str, Any]:
    templates: list[dict[str, Any]] = [
        {"name": "W1", "weight": 3, "body": document},
        {"name": "W2", "weight": 3, "body": document, "headers": admin},
    ]
    if corpus is not None:
        templates.append({"name": "W3", "weight": 3, "body": document, "auth_file": str(corpus)})
    run = secrets.token_hex(4)  # identifiers stay unique across the probe and the soak
    for name, mutation in SOAK_DOCUMENTS.items():
        templates.append(
            {
                "name": name,
                "weight": 1,
                "body": json.dumps({"query": mutation.replace("@RUN@", run)}),
                "headers": admin,
                "expect": '"userErrors":[]',
                "modulo": min(1000, store.products),
            }
        )
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "connections": connections,
        "warmup": warmup,
        "duration": duration,
        "server_pid": server.pid,
        "sample_rss": True,
        "check_body": True,
        "templates": templates,
    }


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _settings(args: argparse.Namespace, generator: str) -> dict[str, Any]:
    return {**{k: v for k, v in vars(args).items() if k != "database"}, "generator": generator}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="sqlite", help="sqlite (a file under bench/data/) or a postgres:// URL")
    parser.add_argument("--products", type=int, default=10_000, help="products seeded (default 10000)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per run (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--workloads",
        type=lambda s: [w.strip() for w in s.split(",")],
        default=list(WORKLOADS),
        help="comma-separated subset of W1,W2,W3,W4,W5,W6,W7 (W4 is needed for the ratios)",
    )
    parser.add_argument("--no-ceiling", action="store_true", help="skip the bare Starlette ceiling")
    parser.add_argument("--no-sql-count", action="store_true", help="skip counting SQL statements per request")
    parser.add_argument("--query", help="another document than products(first: 20) (harness self-tests)")
    parser.add_argument("--port", type=int, help="server port (default: a free one)")
    parser.add_argument(
        "--no-priority",
        dest="priority",
        action="store_false",
        help="do not raise the server's and generator's priority (by default nice -20 when run as root)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per request under callgrind (bench/instructions.py; slow, deterministic)",
    )
    parser.add_argument("--instruction-runs", type=int, default=2, help="instructions: runs per workload (default 2)")
    parser.add_argument(
        "--instruction-warmup", type=int, default=instructions.WARMUP, help="instructions: warm-up requests"
    )
    parser.add_argument(
        "--instruction-requests", type=int, default=instructions.REQUESTS, help="instructions: measured requests"
    )
    parser.add_argument(
        "--no-observability",
        dest="observability",
        action="store_false",
        help="servers without JSON access logs and metrics (by default every server, W4 too, runs with them)",
    )
    parser.add_argument(
        "--throttling",
        choices=("off", "on"),
        default="off",
        help="query-cost throttling in the store (graphql/throttling/enabled): off (default; W4 has no cost "
        "control), or on with every bucket as large as allowed, so nothing is ever refused",
    )
    parser.add_argument(
        "--activity",
        choices=("on", "off"),
        default="on",
        help="per-integration activity counting in the servers (ACTIVITY_TRACKING): on (default, as served), or "
        "off to measure what it costs (compare the two runs with --compare-to)",
    )
    parser.add_argument(
        "--redis-url",
        help="keep the rate-limit buckets in this Redis (REDIS_URL), e.g. redis://127.0.0.1:6379/0; "
        "default: in-process buckets",
    )
    parser.add_argument(
        "--redis-key-prefix",
        help="REDIS_KEY_PREFIX of the bucket keys (default: bench:<random>:, deleted at the end of the run)",
    )
    parser.add_argument(
        "--compare-to",
        metavar="JSON",
        help="also print each workload's cost against the same workload in an earlier run's JSON "
        "(e.g. throttling on against off)",
    )
    parser.add_argument("--save-latest", action="store_true", help="also write bench/latest-<database>.json")
    parser.add_argument("--scale", action="store_true", help="W1 and W3 on small and large catalogs")
    parser.add_argument("--scale-small", type=int, default=1_000)
    parser.add_argument("--scale-large", type=int, default=100_000)
    parser.add_argument("--integrations", type=int, default=10_000, help="scale: integrations (default 10000)")
    parser.add_argument("--nonces", type=int, default=1_000_000, help="scale: stored nonces (default 1000000)")
    parser.add_argument("--soak", action="store_true", help="mixed reads and writes; errors and memory growth")
    parser.add_argument(
        "--profile",
        type=lambda s: [w.strip() for w in s.split(",")],
        help="comma-separated workloads to sample with py-spy under load (no measurement)",
    )
    parser.add_argument("--profile-top", type=int, default=30, help="profile: functions listed (default 30)")
    parser.add_argument("--soak-duration", type=int, default=60)
    parser.add_argument("--soak-connections", type=int, default=64)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(sorted(unknown))}")
    if "W4" not in args.workloads:
        raise SystemExit("W4 is the baseline of every ratio: keep it in --workloads")
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    if args.instructions and (reason := instructions.missing()):
        raise SystemExit(f"--instructions: {reason}")
    generator = h.generator_choice(args.generator)
    h.OBSERVABILITY["on"] = args.observability
    h.ACTIVITY["on"] = args.activity == "on"
    h.THROTTLING.update(
        on=args.throttling == "on",
        redis_url=args.redis_url,
        redis_key_prefix=args.redis_key_prefix or f"bench:{secrets.token_hex(4)}:",
    )
    if args.priority and os.geteuid() == 0:
        # Other work on the machine then takes little from the measured processes (nice -20 has ~87x the
        # CPU weight of nice 0), without starving it as a real-time class would.
        h.PRIORITY["nice"] = -20
    try:
        if args.profile:
            return run_profile(args, generator)
        if args.soak:
            return run_soak(args, generator)
        if args.scale:
            return run_scale(args, generator)
        return run_main(args, generator)
    finally:
        if args.redis_url and not args.redis_key_prefix:
            h.bucket_keys(delete=True)


if __name__ == "__main__":
    sys.exit(main())
