"""Bytecodes executed per request, by Python function: where the Python-level work of a workload goes.

callgrind counts instructions exactly but sees the interpreter, not the Python functions it runs. This
names them: the same fixed batch as bench/instructions.py (``warmup`` requests, then ``requests`` identical
ones, W3 each with its own nonce) goes through the ASGI apps in this process, and while a request is
inside an app, cProfile runs on a clock that counts the bytecodes executed (a trace function ticks on
each one). So cProfile's "time" is bytecodes: a function's own (self) and with its callees (inclusive,
each activation of a coroutine counted from resumption to suspension), plus its call counts. Unlike
timings these repeat exactly from run to run (``random`` is seeded; only W3's nonce and timestamp digits
vary). They are a proxy for the interpreter's share of the instructions, not instructions: a bytecode
that calls into C (SQLite, HMAC, JSON) counts as one. Only the event-loop thread is traced (aiosqlite's
thread runs the SQL), and the loop is uvloop, as under uvicorn: its own work is C, in the instruction
counts, not here.

Run by ``bench/run.py --instructions`` as ``python -m bench.bytecodes IN.json OUT.json``.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import random
import sys
import sysconfig
from types import FrameType
from typing import Any

from bench import harness as h
from bench.sqlcount import InProcess, in_process

#: Prefixes cut from file names, longest first: the checkout, installed packages, the standard library.
PREFIXES = sorted(
    (f"{h.ROOT}/", f"{sysconfig.get_paths()['purelib']}/", f"{sysconfig.get_paths()['stdlib']}/"), key=len, reverse=True
)


class BytecodeClock:
    """A clock for cProfile that ticks once per bytecode this thread executes (while it is the trace function)."""

    def __init__(self) -> None:
        self.ticks = 0

    def __call__(self) -> float:
        return float(self.ticks)

    def trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return self._opcode

    def _opcode(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            self.ticks += 1
        return self._opcode


def label(function: tuple[str, int, str]) -> str:
    file, line, name = function
    for prefix in PREFIXES:
        if file.startswith(prefix):
            file = file.removeprefix(prefix)
            break
    return f"{file}:{line}({name})"


class BytecodeProfiler:
    """cProfile on the bytecode clock, switched on only while a request is inside an app (when ``on``).

    The client (httpx, in this process) is left out, as the instruction counts leave it out of the server.
    """

    def __init__(self) -> None:
        self.on = False
        self.clock = BytecodeClock()
        self.cprofile = cProfile.Profile(self.clock)

    def reset(self) -> None:
        self.clock = BytecodeClock()
        self.cprofile = cProfile.Profile(self.clock)

    def wrap(self, app: Any) -> Any:
        async def counted(scope: Any, receive: Any, send: Any) -> None:
            if not self.on:
                return await app(scope, receive, send)
            sys.settrace(self.clock.trace)
            self.cprofile.enable()
            try:
                return await app(scope, receive, send)
            finally:
                self.cprofile.disable()
                sys.settrace(None)

        return counted


async def profile(
    apps: InProcess, profiler: BytecodeProfiler, workload: str, body: bytes, warmup: int, requests: int
) -> tuple[float, dict[str, dict[str, float]]]:
    """One workload's batch: bytecodes per request (those cProfile saw run in a function), and per function
    its own, inclusive and calls, per request."""
    document = json.loads(body)["query"]
    random.seed(0)  # as in the counted server: Magento's nonce cleanup falls on the same requests
    profiler.reset()
    for index in range(warmup + requests):
        profiler.on = index >= warmup
        response = await apps.send(workload, document)
        if response.status_code != 200 or b'"errors"' in response.content:
            raise SystemExit(f"{workload}: {response.status_code} {response.text[:500]}")
    profiler.on = False
    stats = pstats.Stats(profiler.cprofile).stats  # type: ignore[attr-defined]
    functions = {
        label(function): {"self": tt / requests, "inclusive": ct / requests, "calls": nc / requests}
        for function, (_cc, nc, tt, ct, _callers) in stats.items()
    }
    return sum(f["self"] for f in functions.values()), functions


def own_code(functions: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The project's functions (this checkout's, outside bench/), for reading a breakdown in full."""
    tops = {path.name for path in h.ROOT.iterdir() if path.name not in {"bench", "tests"}}
    return {name: values for name, values in sorted(functions.items()) if name.split("/")[0].split(":")[0] in tops}


async def tally(spec: dict[str, Any]) -> dict[str, Any]:
    body = spec["body"].encode()
    profiler = BytecodeProfiler()
    profiled = {}
    async with in_process(spec, wrap=profiler.wrap) as apps:
        for workload in spec["workloads"]:
            profiled[workload] = await profile(apps, profiler, workload, body, spec["warmup"], spec["requests"])
    return {
        workload: {
            "bytecodes_per_request": total,
            **({} if workload == "W4" else differences(functions, profiled["W4"][1], spec["top"])),
            "project_functions": own_code(functions),
        }
        for workload, (total, functions) in profiled.items()
    }


def differences(mine: dict[str, dict[str, float]], bare: dict[str, dict[str, float]], top: int) -> dict[str, Any]:
    """The functions with the largest differences against W4, by own bytecodes and by bytecodes with callees.

    Own bytecodes partition the total, so their differences add up to the whole difference. Inclusive ones
    overlap, and the functions that hold most of a request (the middlewares, the router) are left out of
    that list: their difference is everything under them.
    """
    none = {"self": 0.0, "inclusive": 0.0, "calls": 0.0}
    whole = sum(f["self"] for f in mine.values())
    total = whole - sum(f["self"] for f in bare.values())
    result: dict[str, Any] = {"bytecodes": total}
    for kind in ("self", "inclusive"):
        names = mine.keys() | bare.keys()
        if kind == "inclusive":
            names = {name for name in names if mine.get(name, none)["inclusive"] < whole / 2}
        rows: list[dict[str, Any]] = [
            {
                "function": name,
                "bytecodes": mine.get(name, none)[kind] - bare.get(name, none)[kind],
                "calls": mine.get(name, none)["calls"],
                "calls_w4": bare.get(name, none)["calls"],
            }
            for name in names
        ]
        rows = sorted((row for row in rows if row["bytecodes"]), key=lambda row: -abs(row["bytecodes"]))[:top]
        for row in rows:
            row["share"] = row["bytecodes"] / total if total else 0.0
        result[kind] = rows
    return result


if __name__ == "__main__":
    import uvloop

    sys.exit(h.module_main(sys.argv[1:], tally, uvloop.run))
