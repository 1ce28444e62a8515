"""The Redis the tests use (``TEST_REDIS_URL``, default 127.0.0.1:6379, database 0), and whether it answers."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False
