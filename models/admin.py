"""Admin accounts, their bearer tokens and the sign-in throttle."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AdminRole(Model):
    """A User Role (System > Permissions > User Roles): a named grant on the same ACL tree as integrations.

    The grant is stored expanded exactly like an integration's (``auth.grants.GrantSpec``), so a resource
    added to the tree later is not held until the role is saved again.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255)
    #: The name compared as people read it (NFKC, case-folded, spaces collapsed), unique.
    name_key = fields.CharField(max_length=255, unique=True)
    all_resources = fields.BooleanField(default=False)
    #: Held resources: the chosen nodes with their subtrees.
    resources: fields.JSONField[list[str]] = fields.JSONField(default=list)
    #: Ancestors of chosen nodes (shown half-ticked, grant nothing).
    partial_resources: fields.JSONField[list[str]] = fields.JSONField(default=list)
    #: What the admin ticked.
    selected: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "admin_role"


class AdminUser(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=255, unique=True)
    #: The user name as compared (``models.names.name_key``): unique, so "Admin" is "admin", as in Magento.
    username_key = fields.CharField(max_length=255, unique=True, null=True)
    password_hash = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    email = fields.CharField(max_length=255, default="")
    first_name = fields.CharField(max_length=255, default="")
    last_name = fields.CharField(max_length=255, default="")
    #: No role holds nothing. A role cannot be deleted while a user holds it.
    role: fields.ForeignKeyNullableRelation[AdminRole] = fields.ForeignKeyField(
        "models.AdminRole", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    #: The TOTP secret, encrypted (``auth.secret_box``); set at enrolment.
    totp_secret = fields.CharField(max_length=255, null=True)
    #: Enrolment confirmed with a code: sign-in needs one from now on.
    totp_enabled = fields.BooleanField(default=False)
    #: The RFC 6238 time step of the last code accepted: a code (or an older one) is never accepted again.
    totp_last_step = fields.BigIntField(null=True)
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
    #: Indexed: sign-in deletes expired tokens a batch at a time, oldest first.
    expires_at = fields.DatetimeField(db_index=True)
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
