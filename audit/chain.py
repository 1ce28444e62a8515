"""What an event's hash covers, computed the same way when it is written and when the chain is verified.

``hash = SHA-256(prev_hash + "\\n" + canonical JSON of the row's content)``: the content is every column but
the two hashes, with the time in one fixed text form (microseconds, UTC), so what SQLite and PostgreSQL
give back hashes as what was written. Changing any column of a row changes its hash, which the next row
names as its ``prev_hash``: an edited row, a removed one, or one slipped in breaks the chain there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from models.values import as_datetime

#: The ``prev_hash`` of the first event.
GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One text for one value: sorted keys, no spaces, Unicode kept (the stored ``details`` are this text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def time_text(value: object) -> str:
    """A timestamp as hashed: UTC with microseconds, whatever the driver returned."""
    return as_datetime(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclasses.dataclass(frozen=True, slots=True)
class Content:
    """An event's columns, but its two hashes."""

    id: int
    occurred_at: str
    actor_type: str
    actor_id: int | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    details: str
    request_id: str | None
    client_ip: str | None
    user_agent: str | None

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Content:
        """From a stored ``audit_event`` row (either driver)."""
        return cls(
            id=int(row["id"]),
            occurred_at=time_text(row["occurred_at"]),
            actor_type=row["actor_type"],
            actor_id=int(row["actor_id"]) if row["actor_id"] is not None else None,
            actor_name=row["actor_name"],
            action=row["action"],
            target_type=row["target_type"],
            target_id=row["target_id"],
            details=row["details"],
            request_id=row["request_id"],
            client_ip=row["client_ip"],
            user_agent=row["user_agent"],
        )


def event_hash(prev_hash: str, content: Content) -> str:
    text = canonical_json(dataclasses.asdict(content))
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()
