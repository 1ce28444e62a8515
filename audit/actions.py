"""Every action the audit trail records, by name: dotted lower-case, ``<what>.<what happened>``.

The names are part of the API (``AuditEvent.action``, the ``action`` filter): a new one is a member here and a
line in ``docs/audit-log.md`` (a test checks that the document lists every member). The members marked
*reserved* are written by features that call ``audit.record`` with them as they arrive.
"""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    # Admin sign-in and the admin's own account.
    ADMIN_SIGN_IN_SUCCEEDED = "admin.sign_in_succeeded"
    ADMIN_SIGN_IN_FAILED = "admin.sign_in_failed"
    ADMIN_LOCKED = "admin.locked"
    ADMIN_UNLOCKED = "admin.unlocked"
    ADMIN_TOKENS_REVOKED = "admin.tokens_revoked"
    ADMIN_PASSWORD_CHANGED = "admin.password_changed"
    ADMIN_PASSWORD_RESET = "admin.password_reset"
    ADMIN_TOTP_ENABLED = "admin.totp_enabled"
    ADMIN_TOTP_DISABLED = "admin.totp_disabled"
    # System > Permissions.
    ADMIN_USER_CREATED = "admin_user.created"
    ADMIN_USER_UPDATED = "admin_user.updated"
    ADMIN_USER_DELETED = "admin_user.deleted"
    ADMIN_ROLE_CREATED = "admin_role.created"
    ADMIN_ROLE_UPDATED = "admin_role.updated"
    ADMIN_ROLE_DELETED = "admin_role.deleted"
    # System > Extensions > Integrations.
    INTEGRATION_CREATED = "integration.created"
    INTEGRATION_UPDATED = "integration.updated"
    INTEGRATION_GRANT_CHANGED = "integration.grant_changed"
    INTEGRATION_DELETED = "integration.deleted"
    INTEGRATION_ACTIVATED = "integration.activated"
    INTEGRATION_REAUTHORIZED = "integration.reauthorized"
    INTEGRATION_RESET_BY_CONFIG_FILE = "integration.reset_by_config_file"
    INTEGRATION_CREDENTIALS_SHOWN = "integration.credentials_shown"
    INTEGRATION_CALLBACK_DELIVERED = "integration.callback_delivered"
    INTEGRATION_CALLBACK_FAILED = "integration.callback_failed"
    INTEGRATION_SECRET_ROTATED = "integration.secret_rotated"
    #: Reserved: ``trimIntegrationGrant`` (per-integration activity).
    INTEGRATION_GRANT_TRIMMED = "integration.grant_trimmed"
    # Stores > Configuration.
    CONFIG_GUEST_ACCESS_CHANGED = "config.guest_access_changed"
    CONFIG_OAUTH_CHANGED = "config.oauth_changed"
    CONFIG_ADMIN_SECURITY_CHANGED = "config.admin_security_changed"
    CONFIG_RATE_LIMITS_CHANGED = "config.rate_limits_changed"
    CONFIG_ACTION_LOGS_CHANGED = "config.action_logs_changed"
    CONFIG_WEBHOOKS_CHANGED = "config.webhooks_changed"
    CONFIG_CACHING_CHANGED = "config.caching_changed"
    # The server's own keys and records.
    ENCRYPTION_KEY_ROTATED = "encryption_key.rotated"
    AUDIT_LOG_PRUNED = "audit_log.pruned"
    #: Reserved: webhook subscriptions.
    WEBHOOK_SUBSCRIPTION_CREATED = "webhook.subscription_created"
    WEBHOOK_SUBSCRIPTION_UPDATED = "webhook.subscription_updated"
    WEBHOOK_SUBSCRIPTION_DELETED = "webhook.subscription_deleted"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
    WEBHOOK_SUBSCRIPTION_DISABLED = "webhook.subscription_disabled"


#: Actions of the admin's own sign-ins, as ``viewer.signInHistory`` lists them.
SIGN_IN_ACTIONS = (Action.ADMIN_SIGN_IN_SUCCEEDED, Action.ADMIN_SIGN_IN_FAILED, Action.ADMIN_LOCKED)


class Target(enum.StrEnum):
    """What an event is about (``AuditEvent.targetType``)."""

    ADMIN_USER = "admin_user"
    ADMIN_ROLE = "admin_role"
    INTEGRATION = "integration"
    CONFIG = "config"
    AUDIT_LOG = "audit_log"
    ENCRYPTION_KEY = "encryption_key"
    #: Reserved: webhook subscriptions.
    WEBHOOK_SUBSCRIPTION = "webhook_subscription"


class ActorType(enum.StrEnum):
    """Who did it (``AuditEvent.actorType``)."""

    ADMIN = "ADMIN"
    INTEGRATION = "INTEGRATION"
    #: The server itself: a command-line command, the integrations file at start, retention.
    SYSTEM = "SYSTEM"
    #: A caller without credentials (a failed sign-in).
    GUEST = "GUEST"
