"""Leaky buckets of query-cost points: in this process, or in Redis shared by every worker and host.

A bucket holds up to ``size`` points and gets ``rate`` points back per second. A request takes its cost when
the bucket holds at least that much, and is refused otherwise (nothing is taken). A bucket never seen
before is full.

``LocalBuckets`` keeps the buckets in a dict: the embedded default, right for one process. ``RedisBuckets``
keeps them in Redis (``REDIS_URL``) and takes points with one Lua script per request (``EVALSHA``), so
refill and take are atomic across processes. The script reads Redis's own clock (``TIME``) plus the offset
of ``auth.clock`` (0 in production; tests move it), so hosts need not agree on the time.

When Redis cannot be reached the request is still served (fail open): the process falls back to its own
buckets for ``RETRY_SECONDS``, logs one line per ``LOG_EVERY_SECONDS`` and counts the failure
(``RedisBuckets.failures`` and the ``rate_limit_store_failures_total`` metric).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

from auth.clock import clock
from observability import events

logger = logging.getLogger("integrations.throttling")

#: Seconds the process uses its own buckets after Redis failed, before it tries Redis again.
RETRY_SECONDS = 5.0
#: At most one log line per this many seconds about Redis being unavailable.
LOG_EVERY_SECONDS = 60.0
#: Seconds a Redis command may take before the request goes on without it.
REDIS_TIMEOUT_SECONDS = 0.5
#: The in-process store forgets full buckets once it holds more than this many.
LOCAL_PRUNE_AT = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class Bucket:
    """Whose bucket (``integration:7``, ``admin:1``, ``guest:203.0.113.9``) and its size and restore rate."""

    key: str
    size: int
    rate: int


@dataclasses.dataclass(frozen=True, slots=True)
class Taken:
    """The outcome of taking points: whether they were taken, and what the bucket holds afterwards."""

    allowed: bool
    available: float
    #: The time (``auth.clock``'s) at which the bucket was read.
    at: float


class BucketStore(Protocol):
    async def take(self, bucket: Bucket, cost: int) -> Taken: ...

    async def close(self) -> None: ...


class LocalBuckets:
    """Buckets in this process (each worker of ``serve --workers N`` has its own)."""

    def __init__(self) -> None:
        #: key -> (points available, when they were counted, when the bucket is full again)
        self._state: dict[str, tuple[float, float, float]] = {}

    async def take(self, bucket: Bucket, cost: int) -> Taken:
        return self.take_now(bucket, cost)

    def take_now(self, bucket: Bucket, cost: int) -> Taken:
        now = clock.time()
        available, last, _full_at = self._state.get(bucket.key, (float(bucket.size), now, now))
        if now > last:
            available += (now - last) * bucket.rate
        available = min(float(bucket.size), available)
        allowed = cost <= available
        if allowed:
            available -= cost
        if len(self._state) >= LOCAL_PRUNE_AT and bucket.key not in self._state:
            self._prune(now)
        last = max(now, last)
        self._state[bucket.key] = (available, last, last + (bucket.size - available) / bucket.rate)
        return Taken(allowed, available, now)

    def _prune(self, now: float) -> None:
        """Forget the buckets that are full again (a forgotten bucket is full), so many guest addresses
        cannot grow the dict without end."""
        self._state = {key: state for key, state in self._state.items() if state[2] > now}

    async def close(self) -> None:
        return None


#: KEYS[1] the bucket; ARGV size, rate, cost, clock offset. Returns {allowed, available, now} (as text: Lua
#: numbers come back from Redis truncated to integers).
TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[4])
local size = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = tonumber(state[1])
local last = tonumber(state[2])
if available == nil or last == nil then
  available = size
  last = now
end
if now > last then
  available = available + (now - last) * rate
  last = now
end
if available > size then
  available = size
end
local allowed = 0
if cost <= available then
  available = available - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', tostring(last))
redis.call('PEXPIRE', KEYS[1], math.ceil((size - available) / rate * 1000) + 1000)
return {allowed, tostring(available), tostring(now)}
"""


def redis_location(url: str) -> str:
    """``host:port/db`` of a Redis URL, for log lines (never its password)."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or 6379}{parts.path or ''}"


class RedisBuckets:
    """Buckets in Redis, shared by every process that uses the same ``REDIS_URL`` and key prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.location = redis_location(url)
        self.prefix = prefix
        self.client: Any = Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        self.script = self.client.register_script(TAKE_SCRIPT)
        self.fallback = LocalBuckets()
        #: Failed Redis calls since the process started.
        self.failures = 0
        self._down_until = 0.0
        self._logged_at = -math.inf

    async def take(self, bucket: Bucket, cost: int) -> Taken:
        if time.monotonic() < self._down_until:
            return self.fallback.take_now(bucket, cost)
        from redis.exceptions import RedisError

        try:
            allowed, available, now = await self.script(
                keys=[self.prefix + bucket.key], args=[bucket.size, bucket.rate, cost, repr(clock.offset)]
            )
        except (RedisError, OSError, TimeoutError) as failure:
            self._failed(failure)
            return self.fallback.take_now(bucket, cost)
        return Taken(bool(int(allowed)), float(available), float(now))

    def _failed(self, failure: BaseException) -> None:
        self.failures += 1
        now = time.monotonic()
        self._down_until = now + RETRY_SECONDS
        events.rate_limit_store_failed()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            self._logged_at = now
            logger.warning(
                "Redis at %s is unavailable (%s): requests are served and throttled by this process's own "
                "buckets until it answers again (%d failure(s) so far)",
                self.location,
                type(failure).__name__,
                self.failures,
            )

    async def close(self) -> None:
        await self.client.aclose()


def bucket_store(redis_url: str | None, prefix: str) -> BucketStore:
    """Redis buckets when ``REDIS_URL`` is set, else this process's own."""
    return RedisBuckets(redis_url, prefix) if redis_url else LocalBuckets()
