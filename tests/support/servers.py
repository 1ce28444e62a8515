"""Real processes on loopback ports: the server (``python main.py serve``), the example third-party app, and
the command line."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import httpx

#: The project's root: where ``main.py`` runs.
ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackProcess:
    """A child process serving HTTP on a loopback port, its output kept in a log file."""

    #: Answers 200 once the process serves.
    ready_path = "/"

    def __init__(self, command: list[str], env: dict[str, str], port: int, log_path: Path, cwd: Path = ROOT) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args} exited: {self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}{self.ready_path}", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.process.args} did not start: {self.output()}")

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


class ServerProcess(LoopbackProcess):
    """A real ``python main.py serve`` process (its log at ``env["SERVER_LOG"]``)."""

    ready_path = "/healthz"

    def __init__(self, env: dict[str, str], port: int | None = None, args: tuple[str, ...] = ()) -> None:
        port = port or free_port()
        command = [sys.executable, "main.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
        log_path = Path(env.get("SERVER_LOG", f"/tmp/server-{port}.log"))
        super().__init__([*command, *args], {"LOG_LEVEL": "warning", **env}, port, log_path)


class ThirdPartyApp(LoopbackProcess):
    """``examples/third_party_app.py`` in its own process: an integration's callback and identity link."""

    def __init__(self, state_file: Path) -> None:
        port = free_port()
        command = [sys.executable, "examples/third_party_app.py", "serve", "--port", str(port)]
        super().__init__(command, {"THIRD_PARTY_STATE": str(state_file)}, port, state_file.with_suffix(".log"))


P = TypeVar("P", bound=LoopbackProcess)


@contextlib.contextmanager
def running(process: P) -> Iterator[P]:
    """``process`` once it serves, stopped after the block."""
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def running_server(
    env: dict[str, str], log: Path, args: tuple[str, ...] = (), port: int | None = None
) -> contextlib.AbstractContextManager[ServerProcess]:
    """A server process for a block (or a module-scoped fixture), stopped afterwards."""
    return running(ServerProcess({"SERVER_LOG": str(log), **env}, port=port, args=args))


def kill_hard(server: ServerProcess) -> None:
    """SIGKILL the server and everything it started (uvicorn workers), as a crash would."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python main.py <args>`` to completion, its output captured; ``stdin`` is what it reads (else nothing)."""
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
    )


def first_password_file(server: LoopbackProcess) -> Path:
    """Where the server wrote the first admin's password (its output names the file, never the password)."""
    match = re.search(r"Its password is in (\S+) \(", server.output())
    assert match, server.output()
    return Path(match.group(1))


def first_admin_password(server: LoopbackProcess) -> str:
    """The password of the first admin account, read from the file the server wrote it to."""
    found = re.search(r"password: (\S+)", first_password_file(server).read_text())
    assert found
    return found.group(1)
