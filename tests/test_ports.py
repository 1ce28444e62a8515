"""Starting the server as a newcomer does: any port, with or without ``serve``; a busy port; one store whatever
the working directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ROOT, LoopbackProcess, free_port, running

pytestmark = pytest.mark.once  # the embedded SQLite default: the database is not the subject

MAIN = str(ROOT / "main.py")


def _env(**extra: str) -> dict[str, str]:
    """The environment of a first-time user: no DATABASE_URL, so the default store is used."""
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "DATA_DIR"}}
    return {**env, "LOG_LEVEL": "warning", **extra}


def test_port_without_serve_serves_there_and_says_where_the_data_is(tmp_path: Path) -> None:
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "store"
    server = LoopbackProcess(
        [sys.executable, MAIN, "--port", str(port), "--no-access-log"],
        _env(DATA_DIR=str(data)),
        port,
        tmp_path / "server.log",
        cwd=elsewhere,
    )
    server.ready_path = "/healthz"
    with running(server):
        assert (data / "db.sqlite3").is_file()
        assert not (elsewhere / "data").exists() and not (ROOT / "data" / "db.sqlite3").exists()
        output = server.output()
        assert f"Created a new store in {data.resolve() / 'db.sqlite3'}" in output
        assert f"GraphiQL: http://127.0.0.1:{port}/graphql" in output
        # The store's base URL is the address served: what an integration is told, and what signatures cover.
        redirect = httpx.get(f"http://localhost:{port}/admin", follow_redirects=False)
        assert redirect.headers["location"] == f"http://127.0.0.1:{port}/admin/"


def test_a_busy_port_is_one_line_and_exit_code_1_before_anything_else(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "store"
        result = subprocess.run(
            [sys.executable, MAIN, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=_env(DATA_DIR=str(data)),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 1
    assert result.stdout == ""  # no URLs of the process that holds the port
    assert result.stderr.strip().splitlines() == [
        f"integrations-graphql: port {port} on 127.0.0.1 is already in use (another server?);"
        " choose another with --port or PORT"
    ]
    assert not data.exists()  # checked before migrating: no store was created


def test_the_default_store_is_the_same_from_any_working_directory(tmp_path: Path) -> None:
    env = _env(XDG_DATA_HOME=str(tmp_path / "xdg"))
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        migrated = subprocess.run(
            [sys.executable, MAIN, "migrate"], cwd=tmp_path / folder, env=env, capture_output=True, timeout=60
        )
        assert migrated.returncode == 0, migrated.stderr
        assert not (tmp_path / folder / "data").exists()
    assert [p.name for p in (tmp_path / "xdg" / "integrations-graphql").iterdir() if p.suffix == ".sqlite3"] == [
        "db.sqlite3"
    ]


def test_the_data_line_never_shows_a_database_password() -> None:
    from main import _where_data_lives
    from settings import Settings

    settings = Settings.from_env({"DATABASE_URL": "postgres://shop:s3cret-pw@db.internal:5433/store"})
    assert _where_data_lives(settings) == "postgres://db.internal:5433/store"
