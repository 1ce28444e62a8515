"""Reading the audit trail in tests: its rows as stored, the API's view of them, and the check that no secret
a test made ever reached a row."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from models.sql import fetch_all

EVENT_FIELDS = (
    "id occurredAt actorType actorId actorName action targetType targetId details requestId clientIp userAgent"
)
AUDIT_EVENTS = f"""query($filter: AuditEventFilter, $first: Int! = 100, $after: String) {{
  auditEvents(filter: $filter, first: $first, after: $after) {{
    edges {{ cursor node {{ {EVENT_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
    totalCount
  }}
}}"""


async def stored_events(action: str | None = None) -> list[dict[str, Any]]:
    """Every stored row (or those of one action), oldest first, ``details`` parsed."""
    sql = "SELECT * FROM audit_event" + (" WHERE action = ?" if action else "") + " ORDER BY id"
    rows = await fetch_all(sql, *([action] if action else []))
    return [{**row, "details": json.loads(row["details"])} for row in rows]


async def actions() -> list[str]:
    return [row["action"] for row in await stored_events()]


async def one_event(action: str) -> dict[str, Any]:
    """The only stored event of ``action``."""
    found = await stored_events(action)
    assert len(found) == 1, (action, found)
    return found[0]


async def assert_no_secret_stored(secrets: Iterable[str | None]) -> None:
    """No column of any audit row contains any of ``secrets`` (or the secrets would be in the log for ever)."""
    dumped = json.dumps(await fetch_all("SELECT * FROM audit_event"), default=str)
    for secret in secrets:
        if secret:
            assert secret not in dumped, f"a secret of the test is in the audit log: {secret[:4]}..."
