"""Per-client throttles for the endpoints that guess at secrets: sign-in and the OAuth token steps.

Each client address gets a budget of requests per minute and bucket. The count is one atomic upsert in
the database (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), so concurrent requests through any
number of workers are counted exactly, and a refusal is decided before any password hashing or
signature work. The address is the one ``auth.proxy.TrustedProxyMiddleware`` settled on: the peer, or
the client a trusted proxy names in ``X-Forwarded-For``.
"""

from __future__ import annotations

import dataclasses
import random

from starlette.types import Scope

from auth.clock import clock
from models.sql import execute, fetch_one

WINDOW_SECONDS = 60
#: One request in this many also deletes the windows that have ended.
CLEANUP_ONE_IN = 50

_COUNT_SQL = (
    "INSERT INTO client_throttle (bucket, window_start, hits) VALUES (?, ?, 1) "
    "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = client_throttle.hits + 1 "
    "RETURNING hits"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Throttled:
    """A refused request: how long until the client's next window opens."""

    retry_after_seconds: int


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def count_request(bucket: str, scope: Scope, limit: int) -> Throttled | None:
    """Count one request of this client in ``bucket``; ``Throttled`` when it is over ``limit`` this minute.

    A ``limit`` of 0 turns the throttle off.
    """
    if limit <= 0:
        return None
    now = int(clock.time())
    window = now - now % WINDOW_SECONDS
    row = await fetch_one(_COUNT_SQL, f"{bucket}:{client_address(scope)}"[:128], window)
    if random.randrange(CLEANUP_ONE_IN) == 0:
        await execute("DELETE FROM client_throttle WHERE window_start < ?", window)
    if row is not None and int(row["hits"]) > limit:
        return Throttled(retry_after_seconds=window + WINDOW_SECONDS - now)
    return None
