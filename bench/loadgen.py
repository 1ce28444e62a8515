"""A lean HTTP/1.1 keep-alive load generator (asyncio protocols, uvloop when installed).

Used when ``wrk`` is not installed, and for the soak (mixed requests, response bodies checked for GraphQL
errors, memory sampled each second). Requests are prepared as raw bytes up front; a connection sends one
request, waits for the whole response (Content-Length), and sends the next, as wrk does.

Run as a separate process, pinned to its own core::

    python bench/loadgen.py SPEC.json OUT.json

``SPEC.json``::

    {"host": "127.0.0.1", "port": 8000, "path": "/graphql", "connections": 32, "warmup": 2, "duration": 15,
     "server_pid": 1234, "sample_rss": false, "check_body": true,
     "templates": [{"name": "W1", "weight": 1, "body": "...", "headers": {"Authorization": "..."},
                    "auth_file": null, "modulo": 1000}]}

A template with ``"method": "GET"`` and a ``path`` (``/graphql?query=...``) sends no body (cacheable reads).
``expect`` (optional) is text a good response body contains. A template's ``auth_file`` holds one
``Authorization`` value per line, each used once (pre-signed OAuth headers). In a body, ``@N@`` becomes
a counter unique to the request and ``@M@`` the counter modulo ``modulo``, plus one (for writes that
need a fresh or a cycling id).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(len(sorted_values), max(1, rank)) - 1]


@dataclass
class Template:
    name: str
    head: bytes
    body: str
    fixed: bytes | None
    auth: list[str] | None
    modulo: int
    #: Bytes a good response body contains (e.g. ``"userErrors":[]``), if any.
    expect: bytes | None = None


@dataclass
class KindStats:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    graphql_errors: int = 0
    first_error: str | None = None


class Source:
    """Hands out the next request, interleaving templates by weight."""

    def __init__(self, spec: dict[str, Any]) -> None:
        host = f"{spec['host']}:{spec['port']}"
        self.templates: list[Template] = []
        weights: list[int] = []
        for raw in spec["templates"]:
            method = raw.get("method", "POST")
            # A GET (a cacheable query) has its document in the path and no body.
            content = {"Content-Type": "application/json"} if method == "POST" else {}
            headers = {"Host": host, **content, **raw.get("headers", {})}
            auth = None
            if raw.get("auth_file"):
                auth = Path(raw["auth_file"]).read_text().splitlines()
            body = raw.get("body", "")
            path = raw.get("path") or spec.get("path", "/graphql")
            head = f"{method} {path} HTTP/1.1\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "authorization"
            )
            if "Authorization" in headers and auth is None:
                head += f"Authorization: {headers['Authorization']}\r\n"
            dynamic = auth is not None or "@N@" in body or "@M@" in body
            expect = raw.get("expect")
            template = Template(
                raw["name"], head.encode(), body, None, auth, int(raw.get("modulo", 1000)), expect and expect.encode()
            )
            if not dynamic:
                template.fixed = self._encode(template, body)
            self.templates.append(template)
            weights.append(int(raw.get("weight", 1)))
        # A weighted round-robin, interleaved so that no template runs in long streaks.
        self.order = [i for k in range(max(weights)) for i, w in enumerate(weights) if w > k]
        self.position = 0
        self.counter = itertools.count(1)
        self.auth_used = [0] * len(self.templates)
        self.auth_wrapped = [0] * len(self.templates)

    @staticmethod
    def _encode(template: Template, body: str, authorization: str | None = None) -> bytes:
        data = body.encode()
        head = template.head
        if authorization is not None:
            head += f"Authorization: {authorization}\r\n".encode()
        return head + b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data

    def next(self) -> tuple[int, bytes]:
        index = self.order[self.position]
        self.position = (self.position + 1) % len(self.order)
        template = self.templates[index]
        if template.fixed is not None:
            return index, template.fixed
        body = template.body
        if "@N@" in body or "@M@" in body:
            n = next(self.counter)
            body = body.replace("@N@", str(n)).replace("@M@", str(n % template.modulo + 1))
        authorization = None
        if template.auth is not None:
            used = self.auth_used[index]
            if used and used % len(template.auth) == 0:
                self.auth_wrapped[index] += 1
            authorization = template.auth[used % len(template.auth)]
            self.auth_used[index] = used + 1
        return index, self._encode(template, body, authorization)


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.header_end = -1
        self.expected = -1
        self.status = 0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._complete()

    def _complete(self) -> None:
        if self.waiter is None:
            return
        if self.expected < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            self.status = int(head[9:12])
            start = head.find(b"\r\ncontent-length:")
            if start < 0:
                self.waiter.set_exception(ConnectionError("response without Content-Length"))
                self.waiter = None
                return
            stop = head.find(b"\r\n", start + 2)
            length = int(head[start + 17 : stop if stop > 0 else len(head)])
            self.header_end = end + 4
            self.expected = self.header_end + length
        if len(self.buffer) >= self.expected:
            body = bytes(self.buffer[self.header_end : self.expected])
            del self.buffer[: self.expected]
            self.expected = -1
            waiter, self.waiter = self.waiter, None
            waiter.set_result((self.status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def roundtrip(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


class Run:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.source = Source(spec)
        self.check_body = bool(spec.get("check_body", True))
        self.stats = [KindStats() for _ in self.source.templates]
        self.socket_errors = 0
        self.measuring = False
        self.stopping = False
        self.timeline: list[int] = []
        self.completed_in_second = 0

    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        _transport, protocol = await loop.create_connection(Connection, self.spec["host"], self.spec["port"])
        return protocol

    async def worker(self) -> None:
        connection = await self.connect()
        clock = time.perf_counter
        while not self.stopping:
            index, request = self.source.next()
            started = clock()
            try:
                status, body = await connection.roundtrip(request)
            except (ConnectionError, OSError):
                if self.measuring:
                    self.socket_errors += 1
                if self.stopping:
                    return
                connection = await self.connect()
                continue
            if not self.measuring:
                continue
            elapsed = clock() - started
            stats = self.stats[index]
            stats.latencies.append(elapsed)
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            self.completed_in_second += 1
            expect = self.source.templates[index].expect
            if status != 200 or (
                self.check_body and (b'"errors"' in body or (expect is not None and expect not in body))
            ):
                if status == 200:
                    stats.graphql_errors += 1
                if stats.first_error is None:
                    stats.first_error = f"HTTP {status}: {body[:300].decode(errors='replace')}"
        if connection.transport is not None:
            connection.transport.close()

    async def main(self) -> dict[str, Any]:
        spec = self.spec
        pid = spec.get("server_pid")
        workers = [asyncio.create_task(self.worker()) for _ in range(int(spec["connections"]))]
        await asyncio.sleep(float(spec.get("warmup", 0)))
        self.measuring = True
        ticks_before = cpu_ticks(pid) if pid else None
        started = time.perf_counter()
        rss: list[int] = []
        duration = float(spec["duration"])
        second = 0
        while second < duration:
            second += 1
            await asyncio.sleep(max(0.0, started + second - time.perf_counter()))
            self.timeline.append(self.completed_in_second)
            self.completed_in_second = 0
            if pid and spec.get("sample_rss"):
                rss.append(rss_kib(pid))
        elapsed = time.perf_counter() - started
        ticks_after = cpu_ticks(pid) if pid else None
        self.measuring = False
        self.stopping = True
        await asyncio.wait(workers, timeout=10)
        return self.report(elapsed, ticks_before, ticks_after, rss)

    def report(self, elapsed: float, before: int | None, after: int | None, rss: list[int]) -> dict[str, Any]:
        kinds: dict[str, Any] = {}
        total = 0
        errors = self.socket_errors
        everything: list[float] = []
        for template, stats, used, wrapped in zip(
            self.source.templates, self.stats, self.source.auth_used, self.source.auth_wrapped, strict=True
        ):
            values = sorted(stats.latencies)
            everything += values
            non_ok = sum(n for status, n in stats.statuses.items() if status != 200)
            errors += non_ok + stats.graphql_errors
            total += len(values)
            kinds[template.name] = {
                "requests": len(values),
                "rps": len(values) / elapsed,
                "p50_ms": percentile(values, 50) * 1000,
                "p99_ms": percentile(values, 99) * 1000,
                "non_200": non_ok,
                "graphql_errors": stats.graphql_errors,
                "first_error": stats.first_error,
                "signed_headers_used": used if template.auth is not None else None,
                "signed_headers_wrapped": wrapped if template.auth is not None else None,
            }
        everything.sort()
        result: dict[str, Any] = {
            "generator": "python",
            "connections": self.spec["connections"],
            "duration_s": elapsed,
            "requests": total,
            "rps": total / elapsed,
            "p50_ms": percentile(everything, 50) * 1000,
            "p99_ms": percentile(everything, 99) * 1000,
            "errors": errors,
            "socket_errors": self.socket_errors,
            "kinds": kinds,
            "timeline": self.timeline,
        }
        if before is not None and after is not None:
            result["server_cpu_s"] = (after - before) / CLOCK_TICKS
        if rss:
            result["rss_kib"] = rss
        return result


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        result = asyncio.run(Run(spec).main())
    else:
        result = uvloop.run(Run(spec).main())
    Path(argv[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
