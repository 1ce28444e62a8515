"""The machinery behind ``bench/run.py``: databases, server processes, load generators, signed corpora.

Everything talks to 127.0.0.1 only, and every server started here is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
LUA = BENCH / "wrk" / "graphql.lua"

SERVER_CPU = "0"
GENERATOR_CPU = "1"

#: What the benchmark's integration is granted: what the products document reads (products and their categories).
CATALOG_RESOURCES = ["Magento_Catalog::products", "Magento_Catalog::categories"]
DEFAULT_FIRST = 20


def products_document(first: int = DEFAULT_FIRST) -> str:
    return f"{{ products(first: {first}) {{ edges {{ node {{ sku name price categories {{ name }} }} }} }} }}"


APPS = {
    "app": ("main:create_app", True),
    "bare": ("bench.bare_app:create_bare_app", True),
    "ceiling": ("bench.ceiling_app:app", False),
}


def app_of(workload: str) -> str:
    """The app (a key of ``APPS``, or ``varnish``) that serves a workload: W4 is the bare baseline, W7 Varnish in
    front of the server, the others the server."""
    return {"W4": "bare", "ceiling": "ceiling", "W7": "varnish"}.get(workload, "app")


#: Workloads sent as a cacheable GET (the document in the query string) rather than a POST body.
GET_WORKLOADS = ("W6", "W7")


def get_path(document: str) -> str:
    """The path of a GraphQL GET request for ``document``."""
    from urllib.parse import urlencode

    return "/graphql?" + urlencode({"query": document})


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: Scheduling priority of the measured processes (``nice``); 0 leaves them as they are.
PRIORITY = {"nice": 0}

#: Every server (the baseline included) runs with what production runs with: JSON logs with an access line
#: per request, request ids, metrics on. ``--no-observability`` turns it off, to measure what it costs.
OBSERVABILITY = {"on": True}


#: Query-cost throttling in the measured store (``graphql/throttling/enabled``), set by ``--throttling``. Off by
#: default: W4 has no cost control, and the targets of W1-W3 against it were set before throttling existed.
#: On, every bucket is as large as the settings allow, so that nothing is ever refused; ``redis_url`` puts the
#: buckets in Redis (``REDIS_URL``) under ``redis_key_prefix`` (``REDIS_KEY_PREFIX``), one prefix per run.
THROTTLING: dict[str, Any] = {"on": False, "redis_url": None, "redis_key_prefix": None}


#: Per-integration activity counting in the measured servers (``ACTIVITY_TRACKING``), set by ``--activity``: on by
#: default, as a server runs; off, to measure what counting costs (W3 and W5 are the integrations counted).
ACTIVITY = {"on": True}


def throttling_env() -> dict[str, str]:
    """``REDIS_URL`` and ``REDIS_KEY_PREFIX`` for the servers when the buckets live in Redis."""
    if not THROTTLING["redis_url"]:
        return {}
    return {"REDIS_URL": THROTTLING["redis_url"], "REDIS_KEY_PREFIX": THROTTLING["redis_key_prefix"] or ""}


def throttling_input() -> dict[str, Any]:
    """``updateRateLimitConfig``'s input for ``THROTTLING``: off, or on with buckets that never run dry."""
    from auth.config import MAX_BUCKET_SIZE, MAX_RESTORE_RATE

    if not THROTTLING["on"]:
        return {"throttlingEnabled": False}
    sizes = {f"{who}BucketSize": MAX_BUCKET_SIZE for who in ("integration", "admin", "guest")}
    rates = {f"{who}RestoreRate": MAX_RESTORE_RATE for who in ("integration", "admin", "guest")}
    return {"throttlingEnabled": True, **sizes, **rates}


def configure_throttling(url: str, admin_token: str) -> None:
    """Store ``THROTTLING`` in the served store, through ``updateRateLimitConfig`` as an admin would."""
    check_payload(
        graphql(
            url,
            "mutation($input: UpdateRateLimitConfigInput!) { updateRateLimitConfig(input: $input) "
            "{ userErrors { field message code } } }",
            {"input": throttling_input()},
            token=admin_token,
        ),
        "updateRateLimitConfig",
    )


def check_cost(workload: str, body: dict[str, Any]) -> None:
    """A response's ``extensions.cost`` says what ``THROTTLING`` asks: on, points were taken from a bucket that
    cannot run dry; off, nothing was taken."""
    from auth.config import MAX_BUCKET_SIZE

    cost = (body.get("extensions") or {}).get("cost")
    if cost is None:
        return  # a checkout without cost control
    status = cost["throttleStatus"]
    if THROTTLING["on"]:
        if status["maximumAvailable"] != MAX_BUCKET_SIZE or status["currentlyAvailable"] >= MAX_BUCKET_SIZE:
            raise SystemExit(f"{workload}: throttling should be on with a bucket of {MAX_BUCKET_SIZE}: {cost}")
    elif status["currentlyAvailable"] != status["maximumAvailable"]:
        raise SystemExit(f"{workload}: throttling should be off (nothing taken): {cost}")


def charges_redis(send: Callable[[], Any], attempts: int = 3) -> bool:
    """Whether a request ``send`` makes leaves a bucket key under the run's prefix. Looked for right after the
    request, a few times: a bucket that never runs dry is full again at once, and Redis drops its key a second
    after that."""
    for _ in range(attempts):
        send()
        if bucket_keys(delete=False):
            return True
    return False


def bucket_keys(*, delete: bool) -> int:
    """How many bucket keys this run has in Redis under its prefix (deleted when ``delete``)."""
    import redis

    client = redis.Redis.from_url(THROTTLING["redis_url"])
    try:
        keys = list(client.scan_iter(match=f"{THROTTLING['redis_key_prefix']}*"))
        if delete and keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def observability_env() -> dict[str, str]:
    if not OBSERVABILITY["on"]:
        return {"LOG_LEVEL": "warning"}
    return {"LOG_LEVEL": "info", "LOG_FORMAT": "json", "METRICS_ENABLED": "1"}


def log_config_file() -> Path:
    """The server's own logging configuration (``observability.logs.log_config``), as uvicorn's --log-config."""
    from observability.logs import log_config

    path = RESULTS / "logging.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(log_config("json", "info"), indent=1))
    return path


def pinned(cpu: str) -> list[str]:
    """``taskset -c cpu`` when there is such a core and taskset is installed, then the priority if asked.

    With a priority, the process starts its own session (see ``SESSION``) and raises that session's
    autogroup too: where the kernel groups processes by session (``sched_autogroup_enabled``), ``nice``
    alone only ranks a process against others of its own session.
    """
    command: list[str] = []
    nice = PRIORITY["nice"]
    if nice:
        command += ["sh", "-c", f'echo {nice} > /proc/self/autogroup 2>/dev/null; exec "$@"', "sh"]
    if shutil.which("taskset") and (os.cpu_count() or 1) > int(cpu):
        command += ["taskset", "-c", cpu]
    if nice:
        command += ["nice", "-n", str(nice)]
    return command


def session() -> dict[str, Any]:
    """Popen/run options for a measured process: its own session (and so autogroup) when prioritised."""
    return {"start_new_session": bool(PRIORITY["nice"])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------ databases


@dataclasses.dataclass(frozen=True)
class Database:
    """One benchmark database: a SQLite file under bench/data/, or a PostgreSQL database (wiped)."""

    url: str
    label: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite://")

    @classmethod
    def choose(cls, spec: str, name: str) -> Database:
        if spec == "sqlite":
            return cls(f"sqlite://{DATA / (name + '.sqlite3')}", "sqlite")
        if spec.startswith(("postgres://", "postgresql://")):
            return cls(spec.replace("postgresql://", "postgres://", 1), "postgres")
        raise SystemExit(f"--database must be sqlite or a postgres:// URL, not {spec!r}")

    def sibling(self, suffix: str) -> Database:
        """Another database of the same kind (PostgreSQL: ``<db>_<suffix>`` on the same server)."""
        if self.is_sqlite:
            path = Path(self.url.removeprefix("sqlite://"))
            return Database(f"sqlite://{path.with_name(path.stem + '-' + suffix + path.suffix)}", self.label)
        base, _, name = self.url.rpartition("/")
        name, _, query = name.partition("?")
        return Database(f"{base}/{name}_{suffix}" + (f"?{query}" if query else ""), self.label)

    def reset(self) -> None:
        if self.is_sqlite:
            path = Path(self.url.removeprefix("sqlite://"))
            path.parent.mkdir(parents=True, exist_ok=True)
            for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                candidate.unlink(missing_ok=True)
            return
        asyncio.run(_reset_postgres(self.url))


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _reset_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    name = name.partition("?")[0]
    try:
        conn = await asyncpg.connect(_asyncpg_url(url))
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(_asyncpg_url(f"{base}/postgres"))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(_asyncpg_url(url))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------ processes


def server_env(database: Database, encryption_key: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "ENCRYPTION_KEY": encryption_key,
        **observability_env(),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("REDIS_URL", "REDIS_KEY_PREFIX"):  # the buckets are where --redis-url says, not the shell
        env.pop(name, None)
    env.update(throttling_env())
    env["ACTIVITY_TRACKING"] = "1" if ACTIVITY["on"] else "0"  # as --activity says, not the shell
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """``python main.py ARGS`` in the checkout; its output, or SystemExit with it."""
    result = subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"python main.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def run_module(module: str, spec: dict[str, Any], env: dict[str, str]) -> Any:
    """``python -m MODULE IN.json OUT.json`` in the checkout with ``env``: what it wrote, or SystemExit."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec_path, out_path = Path(tmp) / "in.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        result = subprocess.run(
            [sys.executable, "-m", module, str(spec_path), str(out_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"python -m {module} failed:\n{result.stdout}{result.stderr}")
        return json.loads(out_path.read_text())


def module_main(
    argv: list[str], work: Callable[[dict[str, Any]], Awaitable[Any]], runner: Callable[[Any], Any] = asyncio.run
) -> int:
    """The other end of ``run_module``: ``work(spec)`` run by ``runner``, its result written as JSON."""
    spec = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(json.dumps(runner(work(spec)), indent=1))
    return 0


def has_command(env: dict[str, str], command: str) -> bool:
    result = subprocess.run(
        [sys.executable, "main.py", command, "--help"], cwd=ROOT, env=env, capture_output=True, check=False
    )
    return result.returncode == 0


class Server:
    """One uvicorn process (one worker, uvloop + httptools), pinned to the server core; with ``OBSERVABILITY``
    it logs an access line per request in JSON, as ``serve`` does.

    ``wrapper`` goes before the interpreter (e.g. valgrind), so the uvicorn command itself stays the same.
    """

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        port: int,
        pin: bool = True,
        log_dir: Path | None = None,
        *,
        wrapper: Sequence[str] = (),
        ready_timeout: float = 90,
    ) -> None:
        target, factory = APPS[app]
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.log_path = (log_dir or RESULTS / "logs") / f"{app}-{port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            *(pinned(SERVER_CPU) if pin else []),
            *wrapper,
            sys.executable,
            "-m",
            "uvicorn",
            target,
            *(["--factory"] if factory else []),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-proxy-headers",
            *(
                ["--log-level", "info", "--log-config", str(log_config_file())]
                if OBSERVABILITY["on"]
                else ["--no-access-log", "--log-level", "warning"]
            ),
        ]
        self._log = self.log_path.open("ab")
        # Signed requests must name the store's own host: this server's address is the store's base URL.
        env = {"STORE_BASE_URL": f"http://127.0.0.1:{port}/", **env}
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, **session()
        )
        self._wait_ready(ready_timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the {self.app} server exited at start; see {self.log_path}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"the {self.app} server did not start in {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def serving(
    app: str, env: dict[str, str], port: int, pin: bool = True, log_dir: Path | None = None, **options: Any
) -> Iterator[Server]:
    server = Server(app, env, port, pin, log_dir, **options)
    try:
        yield server
    finally:
        server.stop()


def varnishd() -> str | None:
    """Where ``varnishd`` is, if installed (``/usr/sbin`` is outside some users' PATH)."""
    return shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin:/usr/local/sbin")


class Varnish:
    """``varnishd`` (docs/varnish.vcl) in front of a server, pinned to the server core (W7). Its CPU time is the
    cache process's (the child that serves; the parent only manages it)."""

    def __init__(self, backend_port: int, port: int) -> None:
        binary = varnishd()
        if binary is None:
            raise SystemExit("W7 needs Varnish: apt-get install -y varnish varnish-modules")
        self.port = port
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.folder = Path(tempfile.mkdtemp(prefix="bench-varnish-"))
        vcl = (ROOT / "docs" / "varnish.vcl").read_text()
        (self.folder / "varnish.vcl").write_text(vcl.replace('.port = "8000";', f'.port = "{backend_port}";', 1))
        self.log_path = self.folder / "varnish.log"
        self._log = self.log_path.open("ab")
        command = [
            *pinned(SERVER_CPU),
            binary,
            "-F",
            "-j",
            "none",
            "-n",
            str(self.folder / "work"),
            "-a",
            f"127.0.0.1:{port}",
            "-T",
            f"127.0.0.1:{free_port()}",
            "-f",
            str(self.folder / "varnish.vcl"),
            "-s",
            "malloc,256m",
        ]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, **session())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"varnishd exited at start; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"varnishd did not start; see {self.log_path}")

    @property
    def pid(self) -> int:
        """The cache process (the manager's child), whose CPU time is the work done."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return int(children[0]) if children else self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------ GraphQL calls


def graphql(url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:500]}")
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL errors: {json.dumps(body['errors'])[:800]}")
    return body["data"]


def check_payload(data: dict[str, Any], field: str) -> dict[str, Any]:
    payload = data[field]
    if payload.get("userErrors"):
        raise SystemExit(f"{field}: {payload['userErrors']}")
    return payload


# ------------------------------------------------------------------------------------------ OAuth corpus


@dataclasses.dataclass(frozen=True)
class OAuthCredentials:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


def signed_headers(credentials: OAuthCredentials, url: str, count: int) -> list[str]:
    """``count`` Authorization values for POST ``url``: oauthlib makes a new nonce and timestamp for each."""
    from oauthlib.oauth1 import Client

    client = Client(
        credentials.consumer_key,
        client_secret=credentials.consumer_secret,
        resource_owner_key=credentials.access_token,
        resource_owner_secret=credentials.access_token_secret,
        signature_method="HMAC-SHA256",
    )
    return [client.sign(url, "POST")[1]["Authorization"] for _ in range(count)]


def _sign_chunk(args: tuple[OAuthCredentials, str, int]) -> list[str]:
    return signed_headers(*args)


def sign_corpus(credentials: OAuthCredentials, url: str, count: int, path: Path) -> Path:
    """``count`` Authorization headers for POST ``url``, each with its own nonce and a current timestamp."""
    workers = max(1, min(os.cpu_count() or 1, 4))
    chunks = [(credentials, url, count // workers + (1 if i < count % workers else 0)) for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        lines = [line for chunk in pool.map(_sign_chunk, chunks) for line in chunk]
    if len({line.split('oauth_nonce="', 1)[1].split('"', 1)[0] for line in lines}) != len(lines):
        raise RuntimeError("oauthlib produced a repeated nonce")
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------------------ load generators


@dataclasses.dataclass
class Load:
    """What one measured window gave."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_s: float
    detail: dict[str, Any]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / self.requests if self.requests else 0.0


def generator_choice(requested: str) -> str:
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if requested == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), use --generator python")
    return requested


def _wrk(url: str, env: dict[str, str], connections: int, seconds: int) -> dict[str, Any]:
    command = [
        *pinned(GENERATOR_CPU),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False, **session()
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise SystemExit(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")


def measure_wrk(
    server: Server | Varnish,
    body_file: Path,
    *,
    connections: int,
    warmup: int,
    duration: int,
    authorization: str | None = None,
    warm_corpus: Path | None = None,
    corpus: Path | None = None,
    check_body: bool = True,
    path: str | None = None,
) -> Load:
    """``path``: a GET of that path (no body) instead of POSTing ``body_file``."""
    env = {
        "BENCH_BODY_FILE": str(body_file),
        "BENCH_AUTHORIZATION": authorization or "",
        "BENCH_CHECK_BODY": "1" if check_body else "0",
        "BENCH_METHOD": "GET" if path else "POST",
        "BENCH_PATH": path or "",
    }
    if warmup:
        _wrk(server.url, {**env, "BENCH_AUTH_FILE": str(warm_corpus or "")}, connections, warmup)
    before = cpu_ticks(server.pid)
    raw = _wrk(server.url, {**env, "BENCH_AUTH_FILE": str(corpus or "")}, connections, duration)
    after = cpu_ticks(server.pid)
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    errors += raw["graphql_errors"]
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=errors,
        server_cpu_s=(after - before) / CLOCK_TICKS,
        detail={"generator": "wrk", **raw},
    )


def run_loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        out_path = Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        command = [*pinned(GENERATOR_CPU), sys.executable, str(BENCH / "loadgen.py"), str(spec_path), str(out_path)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, **session())
        if result.returncode != 0 or not out_path.exists():
            raise SystemExit(f"the load generator failed:\n{result.stdout}{result.stderr}")
        return json.loads(out_path.read_text())


def load_template(
    name: str, body: str, authorization: str | None = None, corpus: Path | None = None, path: str | None = None
) -> dict[str, Any]:
    """A bench/loadgen.py request template: one body, a fixed Authorization or one per request from ``corpus``;
    with ``path``, a GET of that path instead."""
    template: dict[str, Any] = {"name": name, "body": body}
    if path:
        template.update(method="GET", path=path, body="")
    if authorization:
        template["headers"] = {"Authorization": authorization}
    if corpus:
        template["auth_file"] = str(corpus)
    return template


def measure_python(
    server: Server | Varnish,
    body: str,
    *,
    connections: int,
    warmup: int,
    duration: int,
    authorization: str | None = None,
    corpus: Path | None = None,
    check_body: bool = True,
    path: str | None = None,
) -> Load:
    raw = run_loadgen(
        {
            "host": "127.0.0.1",
            "port": server.port,
            "connections": connections,
            "warmup": warmup,
            "duration": duration,
            "server_pid": server.pid,
            "check_body": check_body,
            "templates": [load_template("load", body, authorization, corpus, path)],
        }
    )
    kind = raw["kinds"]["load"]
    raw["signed_headers_wrapped"] = kind["signed_headers_wrapped"] or 0
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_s"],
        p50_ms=raw["p50_ms"],
        p99_ms=raw["p99_ms"],
        errors=raw["errors"],
        server_cpu_s=raw["server_cpu_s"],
        detail={k: v for k, v in raw.items() if k != "timeline"},
    )
