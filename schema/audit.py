"""System > Action Logs: the audit trail (``auditEvents``), and an admin's own sign-ins (``viewer.signInHistory``)."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

import strawberry
from strawberry.scalars import JSON

from audit.actions import Action, ActorType
from models.values import as_datetime
from resolvers import audit as resolve
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.directives import Resource, admin_only
from schema.pagination import PAGE_DESCRIPTION, Connection, connection

AuditActorType = strawberry.enum(
    ActorType,
    name="AuditActorType",
    description="Who did it: an admin, an integration, the server itself (a command-line command, the "
    "integrations file, retention), or a caller without credentials (a failed sign-in).",
)


@strawberry.type(description="One event of the audit trail (System > Action Logs). Events are never changed.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="The event's place in the log: 1, 2, 3, ... (newest highest).")
    occurred_at: dt.datetime
    actor_type: ActorType
    actor_id: strawberry.ID | None = strawberry.field(
        description="The admin user's or the integration's id (as `adminUser(id:)` and `integration(id:)` take it); "
        "null for the system and guests."
    )
    actor_name: str | None = strawberry.field(
        description="The admin's user name or the integration's name when it acted."
    )
    action: str = strawberry.field(description="Dotted lower-case, e.g. `integration.created`; see `auditActions`.")
    target_type: str | None = strawberry.field(
        description="`integration`, `admin_user`, `admin_role`, `config`, `encryption_key`, `audit_log`."
    )
    target_id: strawberry.ID | None = strawberry.field(
        description="The integration's, admin user's or role's id; the section's name for `config`."
    )
    details: JSON = strawberry.field(
        description="What happened, by action (docs/audit-log.md): e.g. `changes` with `old` and `new` values, the "
        "resources a grant gained and lost. Never a secret."
    )
    request_id: str | None = strawberry.field(description="The request's `X-Request-Id` (null outside a request).")
    client_ip: str | None = strawberry.field(description="The client's address (behind trusted proxies: the client's).")
    user_agent: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(row["id"])),
            occurred_at=as_datetime(row["occurred_at"]),
            actor_type=ActorType(row["actor_type"]),
            actor_id=_id(resolve.shown_actor_id(row)),
            actor_name=row["actor_name"],
            action=row["action"],
            target_type=row["target_type"],
            target_id=_id(resolve.shown_target_id(row)),
            details=json.loads(row["details"]),
            request_id=row["request_id"],
            client_ip=row["client_ip"],
            user_agent=row["user_agent"],
        )


def _id(value: str | None) -> strawberry.ID | None:
    return strawberry.ID(value) if value is not None else None


@strawberry.input(description="Every field given must match; `from` <= occurredAt < `to`.")
class AuditEventFilter:
    actor_type: ActorType | None = None
    actor_id: strawberry.ID | None = None
    action: str | None = strawberry.field(
        default=None, description="One action, or a group ending in a dot: `integration.` is every integration event."
    )
    target_type: str | None = None
    target_id: strawberry.ID | None = None
    occurred_from: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None


@strawberry.enum(description="How a sign-in ended.")
class SignInOutcome(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    #: Too many failures: the account was locked by this attempt.
    LOCKED = "LOCKED"


_OUTCOMES = {
    Action.ADMIN_SIGN_IN_SUCCEEDED: SignInOutcome.SUCCEEDED,
    Action.ADMIN_SIGN_IN_FAILED: SignInOutcome.FAILED,
    Action.ADMIN_LOCKED: SignInOutcome.LOCKED,
}


@strawberry.type(description="A sign-in to your own account, from the audit trail.")
class SignInEvent:
    occurred_at: dt.datetime
    outcome: SignInOutcome
    client_ip: str | None
    user_agent: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SignInEvent:
        return cls(
            occurred_at=as_datetime(row["occurred_at"]),
            outcome=_OUTCOMES[Action(row["action"])],
            client_ip=row["client_ip"],
            user_agent=row["user_agent"],
        )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        extensions=[admin_only(Resource.ACTION_LOGS)],
        description="The audit trail (System > Action Logs), newest first. " + PAGE_DESCRIPTION,
    )
    async def audit_events(
        self,
        info: strawberry.Info,
        filter: AuditEventFilter | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[AuditEvent] | None:
        given = filter or AuditEventFilter()
        criteria = resolve.AuditFilter(
            actor_type=str(given.actor_type) if given.actor_type else None,
            actor_id=given.actor_id,
            action=given.action,
            target_type=given.target_type,
            target_id=given.target_id,
            occurred_from=given.occurred_from,
            occurred_to=given.to,
        )
        return connection(await resolve.events_page(info.context, criteria, first, after), AuditEvent.from_row)

    @strawberry.field(
        extensions=[admin_only(Resource.ACTION_LOGS)],
        description="Every action the audit trail records, as `AuditEvent.action` spells it.",
    )
    def audit_actions(self) -> list[str] | None:
        return sorted(str(action) for action in Action)
