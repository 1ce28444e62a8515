"""Integrations, their OAuth 1.0a consumer, token, nonces and API grant (Magento's tables, section 1)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

STATUS_INACTIVE = 0
STATUS_ACTIVE = 1
STATUS_RESET = 2

SETUP_MANUAL = 0
SETUP_CONFIG = 1


class Integration(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, unique=True)
    #: The name as compared (``resolvers.integrations.validation.name_key``): unique, so no twins by case or Unicode.
    name_key = fields.CharField(max_length=255, null=True, unique=True)
    email = fields.CharField(max_length=255, default="")
    endpoint = fields.CharField(max_length=255, null=True)
    identity_link_url = fields.CharField(max_length=255, null=True)
    status = fields.SmallIntField(default=STATUS_INACTIVE, db_index=True)
    setup_type = fields.SmallIntField(default=SETUP_MANUAL)
    #: Fingerprint of the declaration a config-file integration was made from.
    config_hash = fields.CharField(max_length=64, null=True)
    #: May use Magento's OAuth 1.0a (token exchange, signed calls): the default.
    allow_oauth1 = fields.BooleanField(default=True, description="May use OAuth 1.0a (the default).")
    #: May obtain OAuth 2.0 bearer tokens with the client credentials grant (``auth.oauth2``).
    allow_oauth2 = fields.BooleanField(default=False, description="May use OAuth 2.0 client credentials.")
    #: This integration's own rate-limit bucket (points) and restore rate (points a second), null for the store's.
    rate_limit_bucket_size = fields.IntField(null=True)
    rate_limit_restore_rate = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "integration"


class OAuthConsumer(Model):
    id = fields.IntField(primary_key=True)
    integration: fields.OneToOneRelation[Integration] = fields.OneToOneField(
        "models.Integration", related_name="consumer", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)
    key = fields.CharField(max_length=32, unique=True)
    #: Encrypted at rest.
    secret = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)
    #: When the token exchange last started: the consumer key expires ``expiration_period`` after it.
    exchange_started_at = fields.DatetimeField(null=True)
    #: While a token exchange is being started (its credentials POSTed): overlapping ones are refused.
    activation_started_at = fields.DatetimeField(null=True)
    #: The secret before the last rotation, encrypted at rest, accepted until ``previous_secret_expires_at``.
    previous_secret = fields.CharField(max_length=255, null=True, description="Encrypted. Valid during the overlap.")
    previous_secret_expires_at = fields.DatetimeField(null=True, description="When the previous secret stops working.")
    secret_rotated_at = fields.DatetimeField(null=True, description="When the secret was last rotated.")

    class Meta:
        table = "oauth_consumer"


class OAuthToken(Model):
    """A consumer's access token, or the token of its running exchange (verifier -> request -> access)."""

    id = fields.IntField(primary_key=True)
    consumer: fields.ForeignKeyRelation[OAuthConsumer] = fields.ForeignKeyField(
        "models.OAuthConsumer", related_name="tokens", on_delete=fields.CASCADE
    )
    type = fields.CharField(max_length=16)
    #: SHA-256 of the token, for lookups (a bearer-enabled access token is itself a credential).
    token_hash = fields.CharField(max_length=64, unique=True)
    #: The token itself, encrypted at rest, for showing it to admins.
    token_encrypted = fields.CharField(max_length=255)
    #: Encrypted at rest.
    secret = fields.CharField(max_length=255)
    #: Encrypted at rest.
    verifier = fields.CharField(max_length=255, null=True)
    callback_url = fields.CharField(max_length=255, default="oob")
    revoked = fields.BooleanField(default=False)
    user_type = fields.SmallIntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "oauth_token"
        unique_together = (("consumer", "user_type", "type"),)


class OAuth2AccessToken(Model):
    """An OAuth 2.0 client-credentials access token (``auth.oauth2``): opaque, stored only as its hash.

    Many per integration (each client process may hold its own); they go with the integration (cascade), and
    reauthorization deletes them.
    """

    id = fields.BigIntField(primary_key=True)
    integration: fields.ForeignKeyRelation[Integration] = fields.ForeignKeyField(
        "models.Integration", related_name="oauth2_tokens", on_delete=fields.CASCADE
    )
    #: SHA-256 of the token (``auth.tokens.hash_token``): the token itself is never stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    #: The scope as granted to the client (space-separated resource ids), for its answers and introspection.
    scope = fields.TextField(description="Granted scope, space-separated resource ids.")
    #: Resources the token holds (expanded), before intersecting with the integration's grant at each use.
    resources: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "oauth2_access_token"


class OAuthNonce(Model):
    id = fields.BigIntField(primary_key=True)
    consumer: fields.ForeignKeyRelation[OAuthConsumer] = fields.ForeignKeyField(
        "models.OAuthConsumer", related_name="nonces", on_delete=fields.CASCADE
    )
    nonce = fields.CharField(max_length=64)
    timestamp = fields.BigIntField(db_index=True)

    class Meta:
        table = "oauth_nonce"
        unique_together = (("nonce", "consumer"),)


class IntegrationGrant(Model):
    """API resources granted to an integration, stored expanded (see ``auth.acl.expand_selection``)."""

    id = fields.IntField(primary_key=True)
    integration: fields.OneToOneRelation[Integration] = fields.OneToOneField(
        "models.Integration", related_name="grant", on_delete=fields.CASCADE
    )
    all_resources = fields.BooleanField(default=False)
    #: Resources held: the chosen nodes and their subtrees.
    resources: fields.JSONField[list[str]] = fields.JSONField(default=list)
    #: Ancestors of chosen nodes, shown as partially selected, not held.
    partial_resources: fields.JSONField[list[str]] = fields.JSONField(default=list)
    #: What the admin ticked, for showing the tree again.
    selected: fields.JSONField[list[str]] = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "integration_grant"


class IntegrationActivity(Model):
    """What one integration did with one ACL resource on one day (UTC), as ``auth.activity`` counts it.

    Each server process counts in memory and adds its counts here every few seconds with one upsert
    (``calls = calls + excluded.calls``), so several workers and hosts add up. ``resource`` is an ACL resource id,
    or ``""`` (``auth.activity.REQUESTS``) for the requests themselves: ``calls``/``denied`` there count each
    GraphQL request once, whatever it used. Rows older than the retention setting are deleted, except the latest
    requests row of each integration, which keeps its last use.
    """

    id = fields.BigIntField(primary_key=True)
    integration: fields.ForeignKeyRelation[Integration] = fields.ForeignKeyField(
        "models.Integration", related_name="activity", on_delete=fields.CASCADE
    )
    resource = fields.CharField(max_length=255, description="ACL resource id, or empty for the requests themselves.")
    day = fields.DateField(db_index=True, description="The UTC day counted.")
    calls = fields.BigIntField(default=0, description="Calls allowed.")
    denied = fields.BigIntField(default=0, description="Calls denied.")
    last_used_at = fields.DatetimeField(null=True, description="The latest call counted, allowed or denied.")
    last_used_from = fields.CharField(max_length=64, null=True, description="The client address of that call.")

    class Meta:
        table = "integration_activity"
        unique_together = (("integration", "resource", "day"),)


class IntegrationDeclaration(Model):
    """What the integrations file declared at the last start: each name reserved, and what went wrong.

    A row with a ``name_key`` reserves that name for the file (an integration created in the admin may not
    take it); ``problem`` says why a declaration, or the file (no ``name_key``), was not applied, for the
    admin to see in the console. Replaced as a whole at each start.
    """

    id = fields.IntField(primary_key=True)
    name_key = fields.CharField(max_length=255, null=True, unique=True)
    name = fields.CharField(max_length=255, null=True)
    problem = fields.TextField(null=True)

    class Meta:
        table = "integration_declaration"
