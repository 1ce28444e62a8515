"""The harness itself: what a killed run left behind (namespaces, links, its database) is removed by the next."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.database import query
from tests.support.hosts import PREFIX, _create_database, _ip, remove_stale, unavailable

pytestmark = pytest.mark.once


def test_leftovers_of_a_run_whose_process_is_gone_are_removed() -> None:
    if reason := unavailable():
        pytest.skip(reason)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(gone.stdout)  # that process has ended
    namespace, link, database = f"{PREFIX}{pid}h1", f"{PREFIX}{pid}b", f"{PREFIX}{pid}_left"
    _ip("netns", "add", namespace)
    _ip("link", "add", link, "type", "bridge")
    _create_database(database)
    remove_stale()
    assert namespace not in _ip("netns", "list").stdout
    assert _ip("link", "show", link, check=False).returncode != 0
    server = "postgres://postgres@127.0.0.1:5432/postgres"
    assert query(server, "SELECT 1 FROM pg_database WHERE datname = $1", database) == []
