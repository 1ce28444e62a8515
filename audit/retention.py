"""Retention: events older than the store's ``system/rotation/lifetime`` days go, a whole prefix at a time.

A cut deletes every event before the first one to keep (the oldest that is not older than the lifetime; when
every event is older, all of them) and appends an ``audit_log.pruned`` event that names the first event kept
and the hash it chains onto (``firstKeptId``, ``firstKeptPrevHash``), in one transaction that holds the chain's
head from the start. The chain still verifies: the cut event anchors the new first event, and the chain
covers the cut event. Run at start and then every ``INTERVAL_SECONDS`` by each server process (a cheap indexed
read when there is nothing to cut; concurrent runs queue on the head, and the later ones find nothing), and by
``prune-audit-log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator

from tortoise.transactions import in_transaction

from audit.actions import Action, Target
from audit.chain import canonical_json
from audit.context import SYSTEM, Origin
from audit.log import append
from auth.clock import clock
from auth.config import load_config
from models.sql import execute, fetch_one
from models.values import as_datetime

logger = logging.getLogger("audit.retention")

INTERVAL_SECONDS = 3600

#: Takes the head's lock without changing it (the same row lock, or write lock, as an append).
_LOCK_HEAD = "UPDATE audit_chain SET length = length WHERE id = 1 RETURNING length, last_hash"


@dataclasses.dataclass(frozen=True, slots=True)
class Cut:
    deleted: int
    first_kept_id: int
    cut_event_id: int


async def _expired(cutoff: dt.datetime) -> bool:
    """Whether the oldest event is older than ``cutoff`` (one read by primary key; nothing is locked)."""
    row = await fetch_one("SELECT occurred_at FROM audit_event ORDER BY id LIMIT 1")
    return row is not None and as_datetime(row["occurred_at"]) < cutoff


async def prune(now: dt.datetime | None = None) -> Cut | None:
    """Cut the events older than the retention lifetime (None when there were none)."""
    config = await load_config()
    days = config.audit_retention_days
    cutoff = (now or clock.now()) - dt.timedelta(days=days)
    if not await _expired(cutoff):
        return None
    async with in_transaction() as conn:
        head = await fetch_one(_LOCK_HEAD, conn=conn)
        if head is None:
            return None
        kept = await fetch_one("SELECT MIN(id) AS id FROM audit_event WHERE occurred_at >= ?", cutoff, conn=conn)
        first = await fetch_one("SELECT MIN(id) AS id FROM audit_event", conn=conn)
        cut_event_id = int(head["length"]) + 1
        first_kept = int(kept["id"]) if kept and kept["id"] is not None else cut_event_id
        if first is None or first["id"] is None or first_kept <= int(first["id"]):
            return None
        anchor = await fetch_one("SELECT prev_hash FROM audit_event WHERE id = ?", first_kept, conn=conn)
        first_kept_prev_hash = anchor["prev_hash"] if anchor is not None else str(head["last_hash"])
        deleted = await execute("DELETE FROM audit_event WHERE id < ?", first_kept, conn=conn)
        details = {
            "deleted": deleted,
            "retentionDays": days,
            "olderThan": cutoff.isoformat(),
            "firstKeptId": first_kept,
            "firstKeptPrevHash": first_kept_prev_hash,
        }
        event_id = await append(
            conn, Action.AUDIT_LOG_PRUNED, Origin(SYSTEM), str(Target.AUDIT_LOG), None, canonical_json(details)
        )
    logger.info(
        "Audit log: %s event(s) older than %s days deleted; the log starts at event %s", deleted, days, first_kept
    )
    return Cut(deleted, first_kept, event_id)


async def prune_at_start(_settings: object) -> None:
    """A start-up task (``main.STARTUP_TASKS``)."""
    await prune()


async def _every_interval() -> None:
    while True:
        await asyncio.sleep(INTERVAL_SECONDS)
        try:
            await prune()
        except Exception:  # a passing outage: the next run catches up
            logger.exception("Audit log retention failed; it runs again in %s s", INTERVAL_SECONDS)


@contextlib.asynccontextmanager
async def periodic_pruning() -> AsyncIterator[None]:
    """Prune every ``INTERVAL_SECONDS`` while the app serves (the first run is the start-up task's)."""
    task = asyncio.create_task(_every_interval())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
