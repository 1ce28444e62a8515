"""Instructions per request for W1-W6, counted with callgrind: slow, but the same count run after run.

Timing ratios swing by 10-20 % between rounds on a shared 2-core machine, and hardware counters are not
available there; valgrind's count of executed instructions is. Each workload gets a fresh server process:
the uvicorn command of the timing runs (one worker, loopback), under ``valgrind --tool=callgrind
--instr-atstart=no``. Once it listens, instrumentation is switched on (``callgrind_control -i on``) and
``warmup`` requests fill the caches and run the first-request imports; then the counters are zeroed, ``requests``
requests are sent one after another on the same keep-alive connection and the counters are dumped
(``-z`` / ``-d``). The requests are the bytes bench/loadgen.py sends (W3: each with its own pre-signed
nonce), from this process, outside valgrind. Instructions per request = the dump's total / ``requests``.

The server's own randomness is fixed: PYTHONHASHSEED=0, no address-space randomisation (``setarch -R``),
and Python's ``random`` seeded by bench/deterministic/sitecustomize.py, so that Magento's 1-in-100 nonce
cleanup falls on the same requests in every run. What still varies is small: uvicorn's 10 Hz housekeeping
(about 0.2 M instructions per second of wall time), and the timestamps and nonces in the requests.

Only the server process is counted (all its threads, aiosqlite's included): with PostgreSQL the database
server's own work is not in the figure, which suits a ratio meant to show what the app's code costs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import harness as h
from bench import loadgen

if TYPE_CHECKING:
    from bench.run import Store

TOOLS = ("valgrind", "callgrind_control", "callgrind_annotate")
DETERMINISTIC = h.BENCH / "deterministic"
WARMUP = 30
REQUESTS = 50
#: Rows kept per breakdown.
TOP = 25
#: Seconds a server started under valgrind may take to listen (imports run several times slower under it).
READY_TIMEOUT = 600


def missing() -> str | None:
    """Why instructions cannot be counted here, or None."""
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    return f"{', '.join(absent)} not found (apt-get install -y valgrind)" if absent else None


def deterministic_env(env: dict[str, str]) -> dict[str, str]:
    """The server's settings only, hash randomisation off and ``random`` seeded (sitecustomize).

    Other variables (a shell's PWD, OLDPWD, ...) are left out: they shift the server's heap layout, and with
    it the count by a few tenths of a percent from one shell to the next.
    """
    from settings import SETTINGS_HELP

    kept = {name: env[name] for name in ("PATH", "HOME", "LANG", *SETTINGS_HELP) if name in env}
    path = os.pathsep.join([str(DETERMINISTIC), env.get("PYTHONPATH", str(h.ROOT))])
    return {**kept, "PYTHONHASHSEED": "0", "PYTHONPATH": path}


def callgrind(out_file: Path) -> list[str]:
    """The command prefix: callgrind, instrumentation off until switched on, function-level dumps."""
    no_aslr = ["setarch", "-R"] if shutil.which("setarch") else []
    return [
        *no_aslr,
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--dump-line=no",
        f"--callgrind-out-file={out_file}",
    ]


def control(pid: int, *args: str) -> None:
    result = subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, text=True, check=False)
    if result.returncode != 0 or "OK." not in result.stdout:
        raise SystemExit(f"callgrind_control {' '.join(args)} failed: {result.stdout}{result.stderr}")


def total(dump: Path) -> int:
    """The instructions a dump counted (its ``summary:`` line)."""
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit(f"{dump} has no summary line")


async def _drive(port: int, template: dict[str, Any], warmup: int, requests: int, pid: int) -> None:
    """Warm up, zero the counters, send the batch on the same connection, dump the counters."""
    source = loadgen.Source({"host": "127.0.0.1", "port": port, "templates": [template]})
    _transport, connection = await asyncio.get_running_loop().create_connection(loadgen.Connection, "127.0.0.1", port)

    async def send(count: int) -> None:
        for _ in range(count):
            status, body = await connection.roundtrip(source.next()[1])
            if status != 200 or b'"errors"' in body:
                raise SystemExit(f"{template['name']}: HTTP {status}: {body[:300].decode(errors='replace')}")

    try:
        await send(warmup)
        control(pid, "--zero")
        await send(requests)
        control(pid, "--dump")
    finally:
        assert connection.transport is not None
        connection.transport.close()


def count(
    app: str, env: dict[str, str], template: dict[str, Any], out_file: Path, *, port: int, warmup: int, requests: int
) -> Path:
    """Count one batch of ``template`` requests on a fresh ``app`` server; the path of the batch's dump."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with h.serving(
        app,
        deterministic_env(env),
        port,
        pin=False,
        log_dir=out_file.parent,
        wrapper=callgrind(out_file),
        ready_timeout=READY_TIMEOUT,
    ) as server:
        control(server.pid, "--instr=on")
        asyncio.run(_drive(port, template, warmup, requests, server.pid))
    out_file.unlink(missing_ok=True)  # what came after the batch: the shutdown
    dump = Path(f"{out_file}.1")
    return dump.rename(out_file)


@dataclasses.dataclass(frozen=True)
class Counted:
    workload: str
    requests: int
    dumps: list[Path]

    @property
    def per_request(self) -> list[float]:
        return [total(dump) / self.requests for dump in self.dumps]

    @property
    def mean(self) -> float:
        values = self.per_request
        return sum(values) / len(values)

    @property
    def spread(self) -> float:
        """(max - min) / mean over the runs: how far the same count moved between runs."""
        values = self.per_request
        return (max(values) - min(values)) / self.mean


def count_workloads(
    store: Store, workloads: list[str], out_dir: Path, *, runs: int, warmup: int, requests: int
) -> dict[str, Counted]:
    """Each workload ``runs`` times, each run on a fresh server; the dumps are kept in ``out_dir``."""
    body = store.body_file(store.document).read_text()
    counted: dict[str, Counted] = {}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        for workload in workloads:
            dumps = []
            for run in range(1, runs + 1):
                h.log(f"counting instructions: {workload}, run {run} of {runs} ({warmup} + {requests} requests) ...")
                port = h.free_port()
                corpus = None
                if workload == "W3":
                    assert store.credentials is not None
                    url = f"http://127.0.0.1:{port}/graphql"
                    corpus = h.sign_corpus(store.credentials, url, warmup + requests, Path(tmp) / "corpus")
                template = h.load_template(workload, body, store.bearer(workload), corpus, store.get_path(workload))
                out_file = out_dir / f"{workload}-run{run}.callgrind"
                app = h.app_of(workload)
                dumps.append(count(app, store.env, template, out_file, port=port, warmup=warmup, requests=requests))
            counted[workload] = Counted(workload, requests, dumps)
    return counted


# ------------------------------------------------------------------------------------------ where they go

#: Objects whose functions' inclusive costs say nothing by themselves: the interpreter, the event loop.
PLUMBING = ("libpython", "python3", "loop.cpython", "_asyncio.cpython", "???")
_LINE = re.compile(r"^\s*(?P<ir>[\d,]+) \([^)]*\)\s+(?P<where>.+?)(?: \[(?P<object>[^\]]*)\])?$")
_NAME = re.compile(r"^\((?P<id>\d+)\)(?: (?P<name>.*))?$")


def by_object(dump: Path) -> dict[str, int]:
    """Instructions by shared object, each counted once where it ran (self cost): they add up to the total.

    Read from the dump itself: ``ob=`` names the object of the functions that follow, a cost line right
    after ``calls=`` is a callee's inclusive cost (skipped), every other cost line is self cost.
    """
    names: dict[str, str] = {}

    def name(spec: str) -> str:
        match = _NAME.match(spec.strip())
        if match is None:
            return Path(spec.strip()).name
        if match["name"] is not None:
            names[match["id"]] = Path(match["name"]).name
        return names[match["id"]]

    costs: dict[str, int] = {}
    current = "???"
    after_call = False
    with dump.open(errors="replace") as lines:
        for line in lines:
            first = line[:1]
            if first.isdigit() or first in "+-*":
                if after_call:
                    after_call = False
                    continue
                fields = line.split()
                if len(fields) > 1:
                    costs[current] = costs.get(current, 0) + int(fields[1])
            elif line.startswith("ob="):
                current = name(line[3:])
            elif line.startswith("cob="):
                name(line[4:])
            elif line.startswith("calls="):
                after_call = True
    return costs


def inclusive(dump: Path) -> dict[str, int]:
    """Inclusive instructions by function, ``function (object)``, from ``callgrind_annotate --inclusive=yes``."""
    result = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--auto=no", "--threshold=100", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, int] = {}
    for line in result.stdout.split("file:function", 1)[-1].splitlines():
        match = _LINE.match(line)
        if match is None or match["object"] is None:  # no object: a function inlined from a header
            continue
        key = f"{match['where'].rpartition(':')[2]} ({Path(match['object']).name})"
        costs[key] = costs.get(key, 0) + int(match["ir"].replace(",", ""))
    return costs


def _differences(
    mine: dict[str, int], bare: dict[str, int], requests: int, top: int, total: int
) -> list[dict[str, Any]]:
    """The largest per-request differences, ``mine`` minus ``bare``, with their share of ``total`` (a batch's)."""
    rows: list[dict[str, Any]] = [
        {"name": key, "instructions": (mine.get(key, 0) - bare.get(key, 0)) / requests}
        for key in mine.keys() | bare.keys()
    ]
    rows = sorted((row for row in rows if row["instructions"]), key=lambda row: -abs(row["instructions"]))[:top]
    for row in rows:
        row["share"] = row["instructions"] * requests / total if total else 0.0
    return rows


def breakdown(counted: dict[str, Counted], top: int = TOP) -> dict[str, Any]:
    """For each workload against W4 (first runs): the difference by object, and by C function outside the interpreter.

    By object, the self costs partition the instructions, so the shares add up to the whole difference; by
    function, costs are inclusive (a function's callees are in it), so they overlap.
    """
    bare = counted["W4"]
    bare_objects, bare_functions = by_object(bare.dumps[0]), _extension_functions(bare.dumps[0])
    result: dict[str, Any] = {}
    for workload, mine in counted.items():
        if workload == "W4":
            continue
        dump = mine.dumps[0]
        objects = by_object(dump)
        total = sum(objects.values()) - sum(bare_objects.values())
        result[workload] = {
            "instructions": total / mine.requests,
            "objects": _differences(objects, bare_objects, mine.requests, top, total),
            "functions": _differences(_extension_functions(dump), bare_functions, mine.requests, top, total),
        }
    return result


def _extension_functions(dump: Path) -> dict[str, int]:
    return {key: cost for key, cost in inclusive(dump).items() if not any(part in key for part in PLUMBING)}


def measure(store: Store, workloads: list[str], *, runs: int, warmup: int, requests: int) -> dict[str, Any]:
    """Count, break the differences down (callgrind and bytecodes), and give it all as JSON."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = h.RESULTS / f"{stamp}-instructions-{store.database.label}"
    counted = count_workloads(store, workloads, out_dir, runs=runs, warmup=warmup, requests=requests)
    h.log("counting bytecodes per request, by project function (in-process) ...")
    spec = {
        **store.in_process_spec(),
        "workloads": workloads,
        "body": store.body_file(store.document).read_text(),
        "warmup": warmup,
        "requests": requests,
        "top": TOP,
    }
    tallied = h.run_module("bench.bytecodes", spec, store.env)
    bare = counted["W4"].mean
    return {
        "warmup": warmup,
        "requests": requests,
        "runs": runs,
        "dumps": str(out_dir.relative_to(h.ROOT)),
        "workloads": {
            workload: {
                "per_request": [round(value) for value in c.per_request],
                "instructions_per_request": c.mean,
                "spread": c.spread,
                "ratio_to_w4": bare / c.mean,
            }
            for workload, c in counted.items()
        },
        "differences": breakdown(counted),
        "bytecodes": tallied,
    }


def report(measured: dict[str, Any], summary: dict[str, Any], top: int = 8) -> str:
    """The counts next to the timing ratios, then where each workload's extra instructions go."""
    lines = [
        "",
        f"Instructions per request (callgrind, {measured['warmup']} warm-up + {measured['requests']} counted "
        f"requests, {measured['runs']} runs on fresh servers; dumps in {measured['dumps']})",
    ]
    header = f"{'workload':<30} {'per run':<28} {'spread':>8} {'instr. ratio to W4':>18} {'timing ratio to W4':>18}"
    lines += [header, "-" * len(header)]
    for workload, entry in measured["workloads"].items():
        per_run = " ".join(f"{value:,}" for value in entry["per_request"])
        timing = summary.get(workload, {}).get("ratio_to_w4")
        lines.append(
            f"{workload + ' ' + summary[workload]['name']:<30} {per_run:<28} {entry['spread'] * 100:>7.3f}% "
            f"{entry['ratio_to_w4']:>18.3f} {'-' if timing is None else f'{timing:.3f}':>18}"
        )
    for workload, where in measured["differences"].items():
        lines += ["", f"{workload}: {where['instructions']:,.0f} more instructions per request than W4 (first runs)"]
        lines.append("  by object (self cost):")
        lines += [f"    {_row(row)}" for row in where["objects"][:top]]
        lines.append("  by C function outside the interpreter (inclusive):")
        lines += [f"    {_row(row)}" for row in where["functions"][:top]]
        tallied = measured["bytecodes"][workload]
        for kind, what in (("self", "own bytecodes"), ("inclusive", "bytecodes with callees")):
            lines.append(f"  by Python function, {what} ({tallied['bytecodes']:,.0f} more bytecodes per request):")
            lines += [
                f"    {row['bytecodes']:>12,.0f} {row['share'] * 100:6.1f}%  {row['function']} "
                f"(calls {row['calls']:g}, W4 {row['calls_w4']:g})"
                for row in tallied[kind][:top]
            ]
    return "\n".join(lines)


def _row(row: dict[str, Any]) -> str:
    return f"{row['instructions']:>12,.0f} {row['share'] * 100:6.1f}%  {row['name']}"
