"""Writing what ``auth.activity`` counted: every few seconds, at shutdown, and old days deleted.

A process's counts are added to ``integration_activity`` with one batched upsert (``calls = calls +
excluded.calls``), so any number of workers and hosts add up exactly: no process reads, adds and writes back.
The rows are sorted by key, so that two processes writing the same rows at once lock them in the same order
(PostgreSQL) and never deadlock. ``last_used_at``/``last_used_from`` keep the later of the stored and the new.

Durability: counts live in memory until the next flush (``ACTIVITY_FLUSH_SECONDS``, default 5 s) or the clean
shutdown's last flush; a process that is killed or crashes loses at most that interval's counts. A write that
fails (the database is unavailable) puts the counts back to be written with the next flush.

Retention: about once an hour each process deletes the days older than the store setting
``activity_retention_days`` (default 90), except the latest requests row of each integration, which keeps its
last use however long ago it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from tortoise.exceptions import IntegrityError

from auth.activity import REQUESTS, SECONDS_PER_DAY, ActivityCounter, Key, Tally
from auth.clock import clock
from auth.config import load_config
from models.sql import execute, fetch_all, placeholders

logger = logging.getLogger("integrations.activity")

#: Rows per statement: 7 parameters each stays far below SQLite's and asyncpg's limits (32766, 32767).
CHUNK_ROWS = 1000
#: Seconds between two deletions of days past the retention period.
PURGE_EVERY_SECONDS = 3600
#: Seconds between two log lines about failed writes.
COMPLAIN_EVERY_SECONDS = 60

_COLUMNS = "integration_id, resource, day, calls, denied, last_used_at, last_used_from"
_ROW = f"({placeholders(7)})"
_NEWER = "integration_activity.last_used_at IS NULL OR excluded.last_used_at >= integration_activity.last_used_at"
_ON_CONFLICT = (
    " ON CONFLICT (integration_id, resource, day) DO UPDATE SET "
    "calls = integration_activity.calls + excluded.calls, "
    "denied = integration_activity.denied + excluded.denied, "
    f"last_used_from = CASE WHEN {_NEWER} THEN excluded.last_used_from ELSE integration_activity.last_used_from END, "
    f"last_used_at = CASE WHEN {_NEWER} THEN excluded.last_used_at ELSE integration_activity.last_used_at END"
)
_PURGE_SQL = (
    "DELETE FROM integration_activity WHERE day < ? AND NOT (resource = ? AND day = "
    "(SELECT MAX(latest.day) FROM integration_activity latest "
    "WHERE latest.integration_id = integration_activity.integration_id AND latest.resource = ?))"
)

Row = tuple[int, str, dt.date, int, int, dt.datetime, str | None]


def day_of(epoch_day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=epoch_day)


def today() -> dt.date:
    """The UTC day now (``auth.clock``), as activity counts it."""
    return day_of(int(clock.time() // SECONDS_PER_DAY))


def _rows(drained: Mapping[Key, Tally]) -> list[Row]:
    """One row per key, sorted (the lock order); times to the second, so they compare alike as text in SQLite."""
    return [
        (
            integration_id,
            resource,
            day_of(day),
            tally.calls,
            tally.denied,
            dt.datetime.fromtimestamp(int(tally.last_at), tz=dt.UTC),
            tally.last_from,
        )
        for (integration_id, resource, day), tally in sorted(drained.items())
    ]


async def upsert(rows: Sequence[Row]) -> None:
    """Add ``rows`` to the stored counts: one statement per ``CHUNK_ROWS`` rows."""
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        sql = f"INSERT INTO integration_activity ({_COLUMNS}) VALUES {', '.join([_ROW] * len(chunk))}{_ON_CONFLICT}"
        await execute(sql, *(value for row in chunk for value in row))


async def _existing_integrations(ids: set[int]) -> set[int]:
    found = await fetch_all(f"SELECT id FROM integration WHERE id IN ({placeholders(len(ids))})", *sorted(ids))
    return {int(row["id"]) for row in found}


async def write(drained: Mapping[Key, Tally]) -> int:
    """Write drained counts; those of integrations deleted meanwhile are dropped. Returns the rows written."""
    rows = _rows(drained)
    if not rows:
        return 0
    try:
        await upsert(rows)
    except IntegrityError:  # an integration was deleted since it was counted (its rows went with it)
        existing = await _existing_integrations({row[0] for row in rows})
        rows = [row for row in rows if row[0] in existing]
        await upsert(rows)
    return len(rows)


async def purge(retention_days: int) -> int:
    """Delete the days before the retention period (today is its last day), but each integration's last use."""
    cutoff = today() - dt.timedelta(days=retention_days - 1)
    return await execute(_PURGE_SQL, cutoff, REQUESTS, REQUESTS)


class ActivityFlusher:
    """The app's background writer of its ``ActivityCounter`` (started and stopped by the lifespan)."""

    def __init__(self, counter: ActivityCounter, interval_seconds: float) -> None:
        self.counter = counter
        self.interval_seconds = interval_seconds
        self._next_purge = 0.0
        self._next_complaint = 0.0

    async def flush(self) -> int:
        """Write what was counted since the last flush; on failure keep it for the next. Returns the rows written."""
        drained = self.counter.drain()
        if not drained:
            return 0
        try:
            return await write(drained)
        except Exception:
            self.counter.restore(drained)
            self._complain("Integration activity could not be written; it is kept for the next attempt")
            return 0

    async def purge_if_due(self) -> None:
        now = clock.time()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY_SECONDS
        try:
            await purge((await load_config()).activity_retention_days)
        except Exception:
            self._complain("Integration activity older than the retention period could not be deleted")

    def _complain(self, message: str) -> None:
        now = clock.time()
        if now >= self._next_complaint:
            self._next_complaint = now + COMPLAIN_EVERY_SECONDS
            logger.warning(message, exc_info=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every interval (and delete old days once an hour) until ``stop`` is set, then flush once more.

        Stopping waits for a write in progress instead of cancelling it: a cancelled statement may or may not
        have been committed, so its counts could be neither lost nor written twice safely.
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_seconds)
            await self.flush()
            if not stop.is_set():
                await self.purge_if_due()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ActivityFlusher]:
        """Flushing in the background for the block, and once more when it ends (a clean shutdown loses nothing)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="integration-activity-flush")
        try:
            yield self
        finally:
            stop.set()
            await task
