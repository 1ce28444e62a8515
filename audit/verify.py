"""Walking the chain: is every event as it was written, none missing, none added, the newest one the head?

The walk reads the events in id order, a batch at a time, and checks for each: its id follows the one before
(ids have no gaps), its ``prev_hash`` is the hash of the one before, and its ``hash`` is what its content
hashes to. The first event must be event 1 (chained onto the genesis hash), or the first one kept by a
retention cut: an ``audit_log.pruned`` event later in the chain names it and the hash it chains onto, and
that event is itself covered by the chain. The last must be the head (``audit_chain``), so removing the
newest events is found too. The first problem found is reported with the id of the event where it is.

What this proves: nobody changed the log without also rewriting every later hash and the head. Keep the
printed head hash somewhere else now and then, and an attacker who can write to the database cannot
rewrite history before it unnoticed either.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from audit.actions import Action
from audit.chain import GENESIS, Content, event_hash
from models.sql import fetch_all, fetch_one

BATCH = 1000

_COLUMNS = (
    "id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, details, request_id, "
    "client_ip, user_agent, prev_hash, hash"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """What the walk found: ``broken_at`` is the id of the first bad event (None: the chain holds)."""

    events: int
    first_id: int | None
    last_id: int | None
    head_hash: str | None
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclasses.dataclass
class _Walk:
    head_length: int
    head_hash: str
    count: int = 0
    first: dict[str, Any] | None = None
    previous_id: int | None = None
    previous_hash: str | None = None
    #: Whether a retention cut names the first event and the hash it chains onto.
    anchored: bool = False

    def verdict(self, broken_at: int | None = None, problem: str | None = None) -> Verdict:
        first_id = int(self.first["id"]) if self.first else None
        return Verdict(self.count, first_id, self.previous_id, self.head_hash, broken_at, problem)

    def check(self, row: dict[str, Any]) -> tuple[int, str] | None:
        """The first problem with ``row`` as the next event, if any."""
        event_id = int(row["id"])
        if self.previous_id is None:
            self.first = row
            if event_id == 1 and row["prev_hash"] != GENESIS:
                return event_id, "the first event does not chain onto the start of the log"
        elif event_id != self.previous_id + 1:
            return self.previous_id + 1, f"event {self.previous_id + 1} is missing"
        elif row["prev_hash"] != self.previous_hash:
            return event_id, "it does not chain onto the event before it"
        if event_hash(row["prev_hash"], Content.of_row(row)) != row["hash"]:
            return event_id, "its content does not match its hash (edited)"
        if row["action"] == Action.AUDIT_LOG_PRUNED and self.first is not None:
            self.anchored = self.anchored or _names_as_kept(row, self.first)
        self.count += 1
        self.previous_id, self.previous_hash = event_id, row["hash"]
        return None

    def finish(self) -> Verdict:
        if self.first is None:
            if self.head_length:
                return self.verdict(
                    self.head_length, f"every event is missing, up to the head (event {self.head_length})"
                )
            return self.verdict()
        assert self.previous_id is not None
        first_id = int(self.first["id"])
        if first_id != 1 and not self.anchored:
            return self.verdict(first_id, "the events before it were removed, but not by retention")
        if self.previous_id < self.head_length:
            return self.verdict(
                self.previous_id + 1, f"event {self.previous_id + 1} is missing (the head is event {self.head_length})"
            )
        if self.previous_id > self.head_length or self.previous_hash != self.head_hash:
            return self.verdict(self.previous_id, "the newest event is not the chain's head")
        return self.verdict()


def _names_as_kept(cut: dict[str, Any], first: dict[str, Any]) -> bool:
    try:
        details = json.loads(cut["details"])
    except ValueError:
        return False
    kept_id, kept_prev = details.get("firstKeptId"), details.get("firstKeptPrevHash")
    return bool(kept_id == int(first["id"]) and kept_prev == first["prev_hash"])


async def verify() -> Verdict:
    """Walk the whole chain (see the module docstring)."""
    head = await fetch_one("SELECT length, last_hash FROM audit_chain WHERE id = 1")
    walk = _Walk(int(head["length"]) if head else 0, str(head["last_hash"]) if head else GENESIS)
    after = 0
    while True:
        rows = await fetch_all(f"SELECT {_COLUMNS} FROM audit_event WHERE id > ? ORDER BY id LIMIT ?", after, BATCH)
        for row in rows:
            broken = walk.check(row)
            if broken is not None:
                return walk.verdict(*broken)
        if len(rows) < BATCH:
            return walk.finish()
        after = int(rows[-1]["id"])
