"""A regular install: the built wheel, installed into a fresh virtual environment, serves the console and GraphiQL
from the installed package when started from another folder (``.ci/run`` does the same with a full install)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ROOT, LoopbackProcess, free_port, running

pytestmark = pytest.mark.once  # the embedded SQLite default: the database is not the subject


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh virtual environment with the built wheel installed (its dependencies are
    borrowed from the test environment's site-packages, so no index is needed: ``.ci/run`` installs them)."""
    work = tmp_path_factory.mktemp("install")
    # Built from a copy: setuptools builds in the source tree, and the checkout stays as it is.
    source = work / "source"
    ignored = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "data", "__pycache__")
    shutil.copytree(ROOT, source, ignore=ignored)
    _run(sys.executable, "-m", "pip", "wheel", source, "-w", work / "dist", "--no-deps", "-q", cwd=work)
    (wheel,) = (work / "dist").glob("integrations_graphql-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=work)
    site_packages = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work).strip()
    # Appended after the venv's own site-packages: the installed package wins over the checkout's editable one.
    (Path(site_packages) / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def _clean_env(**extra: str) -> dict[str, str]:
    drop = {"DATABASE_URL", "DATA_DIR", "PYTHONPATH", "VIRTUAL_ENV"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "LOG_LEVEL": "warning", **extra}


def test_the_installed_command_names_itself_and_its_version(installed: Path, tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    command = installed / "integrations-graphql"
    assert _run(command, "--version", cwd=tmp_path, env=_clean_env()).strip() == f"integrations-graphql {version}"
    assert _run(command, "--help", cwd=tmp_path, env=_clean_env()).startswith("usage: integrations-graphql")


def test_the_installed_server_serves_console_and_graphiql_from_another_folder(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The files come from the installed package, not from the checkout.
    web = _run(installed / "python", "-c", "import console; print(console.WEB_DIR)", cwd=elsewhere, env=_clean_env())
    assert Path(web.strip()).is_relative_to(installed.parent)

    port = free_port()
    server = LoopbackProcess(
        [str(installed / "integrations-graphql"), "--port", str(port), "--no-access-log"],
        _clean_env(DATA_DIR=str(tmp_path / "data")),
        port,
        tmp_path / "server.log",
        cwd=elsewhere,
    )
    server.ready_path = "/healthz"
    with running(server):
        assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
        graphiql = httpx.get(f"{server.base_url}/graphql", headers={"Accept": "text/html"})
        assert graphiql.status_code == 200 and "graphiql/boot.js" in graphiql.text
        assert httpx.get(f"{server.base_url}/graphiql/vendor/graphiql.min.js").status_code == 200
        console = httpx.get(f"{server.base_url}/admin/")
        assert console.status_code == 200 and "<script" in console.text
    assert (tmp_path / "data" / "db.sqlite3").is_file()
