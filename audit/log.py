"""Writing an event: the one way anything gets into the audit trail.

``record`` writes in the caller's transaction when there is one (``in_transaction`` nests as a savepoint), so
the change it records and its row commit or roll back together; when the write fails, the operation fails
with it, never silently without its row. Called outside a transaction it is a transaction of its own (a
failed sign-in, whose refusal writes nothing else that commits).

Appends are serialised by the chain's head row: the first statement of an append is an upsert on it that
takes its lock (a row lock on PostgreSQL, the write lock on SQLite) until the transaction ends, and returns
the head as the last committed append left it. So concurrent writers, in any number of processes, each
chain onto the one before and never fork the chain. Record an event after the writes it records, so the
head is the last lock a transaction takes (two transactions never wait on each other in a cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from audit.actions import Action
from audit.chain import GENESIS, Content, canonical_json, event_hash, time_text
from audit.context import Actor, Origin, current
from auth.clock import clock
from models.sql import execute, fetch_one

#: Lock the head and take the next id (the first append creates the head).
_NEXT = (
    "INSERT INTO audit_chain (id, length, last_hash) VALUES (1, 1, ?) "
    "ON CONFLICT (id) DO UPDATE SET length = audit_chain.length + 1 RETURNING length, last_hash"
)
_INSERT = (
    "INSERT INTO audit_event (id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, "
    "details, request_id, client_ip, user_agent, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ADVANCE = "UPDATE audit_chain SET last_hash = ? WHERE id = 1"


async def record(
    action: Action,
    *,
    target_type: str | None = None,
    target_id: object = None,
    details: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> int:
    """Append one event, attributed to the current request's caller (``actor`` when it is someone else), and
    return its id. ``details`` must never hold a secret: no password, token, key or consumer secret."""
    origin = current(actor)
    text = canonical_json(dict(details or {}))
    target = str(target_id) if target_id is not None else None
    async with in_transaction() as conn:
        return await append(conn, action, origin, target_type, target, text)


async def append(
    conn: BaseDBAsyncClient,
    action: str,
    origin: Origin,
    target_type: str | None,
    target_id: str | None,
    details: str,
) -> int:
    """The append itself, in ``conn``'s transaction (which ``audit.retention`` holds the head lock of already)."""
    head = await fetch_one(_NEXT, GENESIS, conn=conn)
    assert head is not None
    event_id, prev_hash = int(head["length"]), str(head["last_hash"])
    now = clock.now()
    actor = origin.actor
    content = Content(
        id=event_id,
        occurred_at=time_text(now),
        actor_type=str(actor.type),
        actor_id=actor.id,
        actor_name=actor.name,
        action=str(action),
        target_type=target_type,
        target_id=target_id,
        details=details,
        request_id=origin.request_id,
        client_ip=origin.client_ip,
        user_agent=origin.user_agent,
    )
    digest = event_hash(prev_hash, content)
    await execute(
        _INSERT,
        event_id,
        now,
        content.actor_type,
        content.actor_id,
        content.actor_name,
        content.action,
        target_type,
        target_id,
        details,
        content.request_id,
        content.client_ip,
        content.user_agent,
        prev_hash,
        digest,
        conn=conn,
    )
    await execute(_ADVANCE, digest, conn=conn)
    return event_id
