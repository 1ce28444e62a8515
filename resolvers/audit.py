"""Reading the audit trail: ``auditEvents`` (filtered, newest first) and an admin's own sign-ins.

Events store the database ids of their actor and target; the API shows and filters by the global ids the rest
of the API uses (an integration's, an admin user's, a role's), so ``auditEvents(filter: {targetId: <the id of
an integration>})`` takes the id the client already has. Other targets (a config section) are their plain
names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from audit.actions import SIGN_IN_ACTIONS, ActorType, Target
from models.sql import fetch_all, placeholders
from resolvers.admin_users.validation import ROLE_NODE, USER_NODE, global_id, parse_global_id
from resolvers.integrations.service import NODE_TYPE as INTEGRATION_NODE
from resolvers.pagination import Ordering, Page, keyset_page

if TYPE_CHECKING:
    from schema.context import Context

#: Newest first (ids are the chain's order).
NEWEST_FIRST = Ordering("audit-event", descending=True)
COLUMNS = (
    "id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, details, request_id, "
    "client_ip, user_agent"
)
SELECT_EVENTS = f"SELECT {COLUMNS} FROM audit_event"

#: The GraphQL type of each kind of target and actor that is a node of the API.
TARGET_NODES = {Target.INTEGRATION: INTEGRATION_NODE, Target.ADMIN_USER: USER_NODE, Target.ADMIN_ROLE: ROLE_NODE}
ACTOR_NODES = {ActorType.ADMIN: USER_NODE, ActorType.INTEGRATION: INTEGRATION_NODE}


@dataclasses.dataclass(frozen=True, slots=True)
class AuditFilter:
    """``auditEvents``' filter; ``action`` ending in ``.`` is every action of that group (``integration.``)."""

    actor_type: str | None = None
    actor_id: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None


def shown_actor_id(row: dict[str, Any]) -> str | None:
    """The actor's id as the API shows it: the global id of the admin user or integration."""
    if row["actor_id"] is None:
        return None
    node = ACTOR_NODES.get(row["actor_type"])
    return global_id(node, int(row["actor_id"])) if node else str(row["actor_id"])


def shown_target_id(row: dict[str, Any]) -> str | None:
    """The target's id as the API shows it: a node's global id, else the stored name (a config section)."""
    target = row["target_id"]
    node = TARGET_NODES.get(row["target_type"])
    if target is None or node is None or not str(target).isdigit():
        return target
    return global_id(node, int(target))


def _node(value: str, nodes: dict[Any, str]) -> tuple[str, str] | None:
    """(kind, database id) of a global id of one of ``nodes``' types."""
    for kind, node in nodes.items():
        number = parse_global_id(value, node)
        if number is not None:
            return str(kind), str(number)
    return None


def _conditions(criteria: AuditFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []

    def equal(column: str, value: object) -> None:
        where.append(f"{column} = ?")
        params.append(value)

    if criteria.actor_type:
        equal("actor_type", criteria.actor_type)
    if criteria.actor_id:
        actor = _node(criteria.actor_id, ACTOR_NODES)
        if actor is not None:
            equal("actor_type", actor[0])
            equal("actor_id", int(actor[1]))
        elif criteria.actor_id.isascii() and criteria.actor_id.isdigit() and len(criteria.actor_id) < 10:
            equal("actor_id", int(criteria.actor_id))
        else:
            where.append("1 = 0")  # no actor has this id
    if criteria.action:
        if criteria.action.endswith("."):
            where.append("SUBSTR(action, 1, ?) = ?")
            params += [len(criteria.action), criteria.action]
        else:
            equal("action", criteria.action)
    if criteria.target_type:
        equal("target_type", criteria.target_type)
    if criteria.target_id:
        target = _node(criteria.target_id, TARGET_NODES)
        if target is not None:
            equal("target_type", target[0])
            equal("target_id", target[1])
        else:
            equal("target_id", criteria.target_id)
    if criteria.occurred_from:
        where.append("occurred_at >= ?")
        params.append(criteria.occurred_from)
    if criteria.occurred_to:
        where.append("occurred_at < ?")
        params.append(criteria.occurred_to)
    return where, params


async def events_page(context: Context, criteria: AuditFilter, first: int, after: str | None) -> Page:
    """A page of events matching ``criteria``, newest first."""
    where, params = _conditions(criteria)
    return await keyset_page(
        NEWEST_FIRST,
        SELECT_EVENTS,
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def sign_in_history(admin_id: int, first: int) -> list[dict[str, Any]]:
    """The admin's own latest sign-ins (succeeded, failed, locked), newest first."""
    actions = [str(a) for a in SIGN_IN_ACTIONS]
    return await fetch_all(
        f"{SELECT_EVENTS} WHERE target_type = ? AND target_id = ? AND action IN ({placeholders(len(actions))}) "
        "ORDER BY id DESC LIMIT ?",
        str(Target.ADMIN_USER),
        str(admin_id),
        *actions,
        first,
    )
