"""Admin accounts, their bearer tokens and the sign-in throttle."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AdminUser(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=255, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "admin_user"


class AdminToken(Model):
    """An admin bearer token, of which only the SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    admin: fields.ForeignKeyRelation[AdminUser] = fields.ForeignKeyField(
        "models.AdminUser", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked = fields.BooleanField(default=False)

    class Meta:
        table = "admin_token"


class TokenRequestLog(Model):
    """Sign-in attempts per user name (Magento's ``oauth_token_request_log``), also for unknown names.

    An attempt is counted before its password is checked, so ``failures_count`` counts attempts not yet
    cleared by a success. Rows of names that are neither locked nor tried within the lock-out time are
    deleted (``last_attempt_at``), so made-up names do not pile up.
    """

    id = fields.IntField(primary_key=True)
    user_name = fields.CharField(max_length=255)
    user_type = fields.SmallIntField()
    failures_count = fields.IntField(default=0)
    lock_expires_at = fields.DatetimeField(null=True)
    last_attempt_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "oauth_token_request_log"
        unique_together = (("user_name", "user_type"),)


class ClientThrottle(Model):
    """Requests per client address and minute, for the endpoints that guess at secrets (sign-in, OAuth tokens).

    One row per (bucket, window); counted with one atomic upsert, so every worker and host shares it.
    """

    id = fields.IntField(primary_key=True)
    #: ``<what>:<client address>``, e.g. ``sign-in:203.0.113.9``.
    bucket = fields.CharField(max_length=128)
    #: Start of the window, in seconds since the epoch.
    window_start = fields.BigIntField(db_index=True)
    hits = fields.IntField(default=0)

    class Meta:
        table = "client_throttle"
        unique_together = (("bucket", "window_start"),)
