"""Several app hosts on one machine: network namespaces on a bridge of the tests' own network (198.18.0.0/15, the
benchmarking range), each running ``serve --workers 2``; HAProxy with ``docs/haproxy.cfg`` in front of them; one
PostgreSQL database of the run's own and Redis, reached by the hosts through TCP forwarders on the bridge; Varnish
with ``docs/varnish.vcl`` in front of HAProxy for cacheable reads.

```
 tests (root namespace) --> [Varnish 127.0.0.1:V] --> HAProxy 127.0.0.1:L -+--> 198.18.N.11:8000  host 1 (netns)
                                                                          +--> 198.18.N.12:8000  host 2 (netns)
                                                                          +--> 198.18.N.13:8000  host 3 (netns)
 hosts --> 198.18.N.1:P (forwarder) --> PostgreSQL 127.0.0.1:5432        hosts --> 198.18.N.1:R --> Redis 127.0.0.1:6379
 hosts --> 198.18.N.1:V (Varnish, PURGE after writes)
```

The forwarders are HAProxy processes in TCP mode; stopping one (SIGKILL: every connection cut, new ones refused) is
how the tests take PostgreSQL or Redis away from the hosts without touching the machine's own services, which
other tests use. Every name (namespaces, links, the database) starts with ``igh<pid>``; leftovers of a run that
was killed (its pid gone) are removed when the next one starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.support.database import query
from tests.support.servers import ROOT, LoopbackProcess, free_port, run_cli
from tests.support.varnish import VarnishProcess, varnishd

#: Every namespace, link and database of a run is named ``igh<pid>...``.
PREFIX = "igh"
HAPROXY_CFG = ROOT / "docs" / "haproxy.cfg"
#: The machine's PostgreSQL (trust auth for ``postgres`` on loopback) and Redis.
POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)
ADMIN = ("hosts-admin", "hosts-admin-password1")
#: Seconds a host keeps serving after SIGTERM while /readyz answers 503 (HAProxy checks every 200 ms).
DRAIN_SECONDS = 3
APP_PORT = 8000
HOSTS = 3
#: Each worker's pool of PostgreSQL connections (``?maxsize=`` in DATABASE_URL; Tortoise's default, said aloud).
POOL_SIZE = 5


def haproxy() -> str | None:
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


def ip_command() -> str | None:
    """Where iproute2's ``ip`` is (``/usr/sbin`` or ``/sbin``, outside some users' PATH)."""
    return shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ip_command() or "ip", *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable() -> str | None:
    """Why the hosts cannot be built here (None when they can)."""
    if sys.platform != "linux" or ip_command() is None:
        return "needs Linux with iproute2 (ip netns)"
    if haproxy() is None:
        return "needs HAProxy (apt-get install haproxy)"
    probe = f"{PREFIX}probe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"ip netns is not permitted here: {made.stderr.strip()}"
    _ip("netns", "delete", probe, check=False)
    return None


def _check_services() -> None:
    """PostgreSQL and Redis answer (a missing one fails the tests, saying which: it is not a reason to skip)."""
    for name, (host, port) in (("PostgreSQL", POSTGRES), ("Redis", REDIS)):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as problem:
            raise AssertionError(f"the tests of hosts need {name} on {host}:{port}: {problem}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_pid(name: str) -> int | None:
    match = re.match(rf"{PREFIX}(\d+)", name)
    return int(match.group(1)) if match else None


#: Clusters of this process now built (their names carry this process's pid).
_building: list[object] = []


def _stale(name: str) -> bool:
    """Whether ``name`` is of an earlier run: its process is gone, or it has this process's pid while this process
    has no cluster built (a run before it had the same pid)."""
    if not name.startswith(PREFIX):
        return False
    pid = _run_pid(name)
    if pid == os.getpid():
        return not _building
    return pid is None or not _alive(pid)


def _kill_namespace_processes(namespace: str) -> None:
    pids = _ip("netns", "pids", namespace, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


def remove_stale() -> None:
    """Namespaces, links and databases of earlier runs whose process is gone."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if _stale(name):
            _kill_namespace_processes(name)
            _ip("netns", "delete", name, check=False)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        parts = line.split(":")
        if len(parts) < 2:
            continue
        name = parts[1].strip().split("@")[0]
        if _stale(name):
            _ip("link", "delete", name, check=False)
    for row in query(_postgres_url("postgres"), "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{PREFIX}%"):
        if _stale(row["datname"]):
            _drop_database(row["datname"])


def _postgres_url(database: str, host: str = POSTGRES[0], port: int = POSTGRES[1]) -> str:
    return f"postgres://postgres@{host}:{port}/{database}"


def _create_database(name: str) -> None:
    query(_postgres_url("postgres"), f'CREATE DATABASE "{name}"')


def _drop_database(name: str) -> None:
    query(_postgres_url("postgres"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_subnet() -> int:
    """N of a 198.18.N.0/24 that no route of this machine covers."""
    routes = _ip("-4", "route", "show", "table", "all", check=False).stdout
    for n in [*range(os.getpid() % 200 + 20, 250), *range(20, 250)]:
        if f"198.18.{n}." not in routes:
            return n
    raise RuntimeError("no free 198.18.N.0/24 subnet")


class Forwarder:
    """A TCP forwarder (HAProxy in TCP mode) from ``listen`` to ``upstream``: stop it for an outage, start it again.

    A process of its own rather than ``tests.support.tcp_proxy.TcpProxy``: that one pumps bytes in threads of the
    test process, which here also drives 64 connections of load, and it listens on loopback only."""

    def __init__(self, name: str, listen: tuple[str, int], upstream: tuple[str, int], folder: Path) -> None:
        self.name = name
        self.listen = listen
        self.config = folder / f"forward-{name}.cfg"
        self.config.write_text(
            "global\n    maxconn 2000\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 1h\n    timeout server 1h\n"
            f"listen {name}\n    bind {listen[0]}:{listen[1]}\n    server upstream {upstream[0]}:{upstream[1]}\n"
        )
        self.log = folder / f"forward-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [haproxy() or "haproxy", "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(self.listen, timeout=1):
                return
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"forwarder {self.name} did not listen"
            time.sleep(0.05)

    def stop(self) -> None:
        """Every connection cut at once, new ones refused (as a crashed or restarting server looks)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


class HostProcess(LoopbackProcess):
    """``integrations-graphql serve --workers 2`` in the network namespace ``namespace``."""

    ready_path = "/readyz"

    def __init__(self, name: str, namespace: str, address: str, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.namespace = namespace
        self.address = address
        command = [
            ip_command() or "ip",
            "netns",
            "exec",
            namespace,
            sys.executable,
            "main.py",
            "serve",
            "--host",
            address,
            "--port",
            str(APP_PORT),
            "--workers",
            "2",
            "--no-access-log",
        ]
        super().__init__(command, env, APP_PORT, log_path)
        self.base_url = f"http://{address}:{APP_PORT}"

    def kill_all(self) -> None:
        """SIGKILL every process of the host (the server and its workers), as a host that dies."""
        _kill_namespace_processes(self.namespace)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def stop(self) -> None:
        super().stop()
        _kill_namespace_processes(self.namespace)  # workers left behind by a parent that was killed


class HAProxyProcess(LoopbackProcess):
    """HAProxy with ``docs/haproxy.cfg``, its addresses from the environment, the runtime API on a socket."""

    ready_path = "/readyz"

    def __init__(self, port: int, apps: list[str], folder: Path) -> None:
        self.stats_socket = folder / "haproxy.sock"
        env = {"LB_BIND": f"127.0.0.1:{port}", "STATS_SOCKET": str(self.stats_socket)}
        env.update({f"APP{n}": app for n, app in enumerate(apps, 1)})
        command = [haproxy() or "haproxy", "-db", "-f", str(HAPROXY_CFG)]
        super().__init__(command, env, port, folder / "haproxy.log")

    def command(self, line: str) -> str:
        """One command of HAProxy's runtime API."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats_socket))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """Each app server's state as HAProxy sees it: ``UP``, ``DOWN``, ``MAINT``, ..."""
        states: dict[str, str] = {}
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "app" and row.get("svname", "").startswith("app"):
                states[row["svname"]] = row["status"]
        return states

    def wait_for(self, want: dict[str, str], timeout: float = 30.0) -> float:
        """Seconds until the servers named in ``want`` are in exactly those states (``UP 1/2``, a host
        going down, is not ``UP``)."""
        started = time.monotonic()
        while True:
            states = self.states()
            if all(states.get(name) == state for name, state in want.items()):
                return time.monotonic() - started
            assert time.monotonic() - started < timeout, f"HAProxy: {states}, waiting for {want}"
            time.sleep(0.05)


class Cluster:
    """Three hosts, their load balancer, cache and forwarders, and the run's database; :meth:`close` undoes all."""

    def __init__(self, folder: Path, drain_seconds: int = DRAIN_SECONDS) -> None:
        self.folder = folder
        self.drain_seconds = drain_seconds
        self.run_id = f"{PREFIX}{os.getpid()}"
        self.database = f"{self.run_id}_{secrets.token_hex(3)}"
        #: The database as the tests reach it (directly), and as the hosts do (through the forwarder).
        self.database_url = _postgres_url(self.database)
        self.subnet = _free_subnet()
        self.gateway = f"198.18.{self.subnet}.1"
        self.bridge = f"{self.run_id}b"
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.hosts: list[HostProcess] = []
        self.forwarders: dict[str, Forwarder] = {}
        self.haproxy: HAProxyProcess | None = None
        self.varnish: VarnishProcess | None = None
        self.lb_port = free_port()
        self.varnish_port = free_port()
        self.database_created = False
        #: A Fernet key of the run's own, the same on every host (what one host encrypts, the others decrypt).
        self.encryption_key = Fernet.generate_key().decode()

    # -- building ----------------------------------------------------------------------------------------------

    def start(self, varnish: bool = True) -> Cluster:
        _check_services()
        remove_stale()
        _building.append(self)
        _create_database(self.database)
        self.database_created = True
        # Through the command line, as an operator would (and never through this test process's ORM, which other
        # tests of the session may have set up for SQLite).
        store = {"DATABASE_URL": self.database_url, "ENCRYPTION_KEY": self.encryption_key}
        migrated = run_cli("migrate", env=store)
        assert migrated.returncode == 0, migrated.stderr
        username, password = ADMIN
        created = run_cli("create-admin", "--username", username, env={**store, "ADMIN_PASSWORD": password})
        assert created.returncode == 0, created.stderr
        self._network()
        pg_port, redis_port = free_port(), free_port()
        self.forwarders["postgres"] = Forwarder("postgres", (self.gateway, pg_port), POSTGRES, self.folder)
        self.forwarders["redis"] = Forwarder("redis", (self.gateway, redis_port), REDIS, self.folder)
        if varnish and varnishd() is not None:
            # Its backend HAProxy; the hosts' network listens and may purge as well.
            self.varnish = VarnishProcess(
                self.lb_port,
                self.folder,
                self.varnish_port,
                also_listen=self.gateway,
                purgers=f"198.18.{self.subnet}.0/24",
                ready_path="/readyz",
            )
        self.env = {
            "DATABASE_URL": _postgres_url(self.database, self.gateway, pg_port) + f"?maxsize={POOL_SIZE}",
            "REDIS_URL": f"redis://{self.gateway}:{redis_port}/0",
            "REDIS_KEY_PREFIX": f"{self.run_id}:bucket:",
            "STORE_BASE_URL": self.lb_url + "/",
            "FORWARDED_ALLOW_IPS": self.gateway,
            "ENCRYPTION_KEY": self.encryption_key,
            "DRAIN_SECONDS": str(self.drain_seconds),
            "LOG_LEVEL": "warning",
            **({"CACHE_PURGE_URLS": f"http://{self.gateway}:{self.varnish_port}/"} if self.varnish else {}),
        }
        for n in range(1, HOSTS + 1):
            self.hosts.append(self._host(n))
        for host in self.hosts:
            host.wait_ready(120)
        self.haproxy = HAProxyProcess(self.lb_port, [f"{h.address}:{APP_PORT}" for h in self.hosts], self.folder)
        self.haproxy.wait_ready()
        self.haproxy.wait_for({h.name: "UP" for h in self.hosts})
        if self.varnish is not None:
            self.varnish.wait_ready()
        return self

    def _network(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        self.links.append(self.bridge)
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for n in range(1, HOSTS + 1):
            namespace, outside, inside = f"{self.run_id}h{n}", f"{self.run_id}v{n}", f"{self.run_id}e{n}"
            _ip("netns", "add", namespace)
            self.namespaces.append(namespace)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            self.links.append(outside)
            _ip("link", "set", outside, "master", self.bridge)
            _ip("link", "set", outside, "up")
            _ip("link", "set", inside, "netns", namespace)
            address = self.address(n)
            for command in (
                ("link", "set", "lo", "up"),
                ("addr", "add", f"{address}/24", "dev", inside),
                ("link", "set", inside, "up"),
                ("route", "add", "default", "via", self.gateway),
            ):
                _ip("-n", namespace, *command)

    def address(self, n: int) -> str:
        return f"198.18.{self.subnet}.{10 + n}"

    def _host(self, n: int) -> HostProcess:
        data = self.folder / f"app{n}"
        data.mkdir(exist_ok=True)
        log = self.folder / f"app{n}.log"
        env = {**self.env, "DATA_DIR": str(data)}
        return HostProcess(f"app{n}", self.namespaces[n - 1], self.address(n), env, log)

    # -- using -------------------------------------------------------------------------------------------------

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    @property
    def varnish_url(self) -> str:
        return f"http://127.0.0.1:{self.varnish_port}"

    def restart(self, n: int) -> HostProcess:
        """Host ``n`` (1-based) started again, once it is ready and HAProxy has it back."""
        old = self.hosts[n - 1]
        old.stop()
        host = self._host(n)
        self.hosts[n - 1] = host
        host.wait_ready(120)
        assert self.haproxy is not None
        self.haproxy.wait_for({host.name: "UP"})
        return host

    def ensure_all_up(self) -> None:
        """Every host running and in rotation (after a test that stopped one)."""
        for n, host in enumerate(self.hosts, 1):
            if host.process.poll() is not None:
                self.restart(n)
        for forwarder in self.forwarders.values():
            if forwarder.process is None or forwarder.process.poll() is not None:
                forwarder.start()
        assert self.haproxy is not None
        self.haproxy.wait_for({h.name: "UP" for h in self.hosts}, timeout=60)

    def log_marks(self) -> dict[str, int]:
        """Where each host's log ends now (for :meth:`logs_since`)."""
        return {h.name: len(h.output()) for h in self.hosts}

    def logs_since(self, marks: dict[str, int]) -> str:
        """What the hosts logged since ``marks``."""
        return "\n".join(f"--- {h.name}\n{h.output()[marks.get(h.name, 0) :]}" for h in self.hosts)

    # -- tearing down ------------------------------------------------------------------------------------------

    def close(self) -> None:
        for step in (
            *(host.kill_all for host in self.hosts),  # no drain: nothing is served any more
            *(host.stop for host in self.hosts),
            *((self.haproxy.stop,) if self.haproxy else ()),
            *((self.varnish.stop,) if self.varnish else ()),
            *(forwarder.stop for forwarder in self.forwarders.values()),
        ):
            with contextlib.suppress(Exception):
                step()
        for namespace in self.namespaces:
            _kill_namespace_processes(namespace)
            _ip("netns", "delete", namespace, check=False)
        for link in self.links:
            _ip("link", "delete", link, check=False)
        if self.database_created:
            with contextlib.suppress(Exception):
                _drop_database(self.database)
        if self in _building:
            _building.remove(self)


@contextlib.contextmanager
def cluster(folder: Path, drain_seconds: int = DRAIN_SECONDS) -> Iterator[Cluster]:
    built = Cluster(folder, drain_seconds)
    try:
        yield built.start()
    finally:
        built.close()


def served_by(response: httpx.Response) -> str:
    """Which host HAProxy sent the request to (its ``X-Served-By``)."""
    return response.headers.get("x-served-by", "")
