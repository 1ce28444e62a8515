"""The audit trail: one append-only row per security-relevant event, chained by hashes (``audit``).

An event's ``id`` is its place in the chain (1, 2, 3, ...), given by ``AuditChain.length`` while that row is
locked, so ids have no gaps and their order is the chain's order. Rows are inserted, never updated; only
retention deletes them, always a whole prefix (``audit.retention``).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class AuditEvent(Model):
    """One event: who (actor), what (action), to what (target), with what (details), from where, when."""

    #: The event's place in the chain, assigned under the chain head's lock (not by the database).
    id = fields.BigIntField(primary_key=True, generated=False)
    occurred_at = fields.DatetimeField(db_index=True)
    #: ``ADMIN``, ``INTEGRATION``, ``SYSTEM`` (command line, integrations file, retention) or ``GUEST``.
    actor_type = fields.CharField(max_length=16)
    #: The admin user's or integration's id (null for the system and guests).
    actor_id = fields.IntField(null=True)
    #: The admin's user name or the integration's name at the time (they may be renamed or deleted later).
    actor_name = fields.CharField(max_length=255, null=True)
    #: Dotted lower-case: ``integration.created``, ``admin.sign_in_failed`` (``audit.actions.Action``).
    action = fields.CharField(max_length=64)
    #: ``integration``, ``admin_user``, ``admin_role``, ``config``, ... (null when the event has no target).
    target_type = fields.CharField(max_length=32, null=True)
    target_id = fields.CharField(max_length=64, null=True)
    #: Canonical JSON (sorted keys), hashed exactly as stored, never a secret.
    details = fields.TextField()
    request_id = fields.CharField(max_length=128, null=True)
    client_ip = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=255, null=True)
    #: The previous event's ``hash`` (64 zeros before the first event).
    prev_hash = fields.CharField(max_length=64)
    #: SHA-256 over ``prev_hash`` and this row's content (``audit.chain.event_hash``).
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_event"
        indexes = (
            Index(fields=["action", "id"]),
            Index(fields=["actor_type", "actor_id", "id"]),
            Index(fields=["target_type", "target_id", "id"]),
        )


class AuditChain(Model):
    """The chain's head: one row (id 1), locked by every append, so concurrent writers never fork the chain.

    ``length`` is the id of the last event appended, ``last_hash`` its hash: ``verify-audit-log`` also checks
    that the last row is the head, so deleting the newest events is found too.
    """

    id = fields.IntField(primary_key=True, generated=False)
    length = fields.BigIntField(default=0)
    last_hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_chain"
