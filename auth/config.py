"""Store configuration (Magento config paths) with Magento's defaults, read fresh on each request.

Rows in ``core_config_data`` override the defaults. The rows are read on every request, so a change made
through one worker is seen by every worker on its next request (only the parsing of unchanged rows is kept).

Each setting is declared once, as a row of ``SETTINGS``: its GraphQL field, config path, default, the
range Magento's form accepts and the description the schema shows. ``DEFAULTS``, the typed
``ConfigSnapshot``, the validation of ``updateOAuthConfig`` and the schema's descriptions all come from
that table, so a new setting is one row here, one attribute of ``ConfigSnapshot`` and its GraphQL fields.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tortoise.transactions import in_transaction

from models import ConfigValue
from models.sql import fetch_all, fetch_one
from settings import parse_flag, parse_int

ALLOW_GUEST = "webapi/webapisecurity/allow_insecure"
ADMIN_TOKEN_LIFETIME = "oauth/access_token_lifetime/admin"
CLEANUP_PROBABILITY = "oauth/cleanup/cleanup_probability"
CLEANUP_EXPIRATION_PERIOD = "oauth/cleanup/expiration_period"
CONSUMER_EXPIRATION_PERIOD = "oauth/consumer/expiration_period"
POST_MAXREDIRECTS = "oauth/consumer/post_maxredirects"
POST_TIMEOUT = "oauth/consumer/post_timeout"
INTEGRATION_AS_BEARER = "oauth/consumer/enable_integration_as_bearer"
MAX_FAILURES = "oauth/authentication_lock/max_failures_count"
LOCK_TIMEOUT = "oauth/authentication_lock/timeout"
ALLOW_HMAC_SHA1 = "oauth/signature/allow_hmac_sha1"
REQUIRE_ADMIN_TOTP = "admin/security/require_admin_totp"
PRIVATE_CALLBACK_ALLOW_LIST = "oauth/consumer/private_callback_allow_list"
OAUTH2_TOKEN_LIFETIME = "oauth/oauth2/access_token_lifetime"
THROTTLING_ENABLED = "graphql/throttling/enabled"
MAX_QUERY_COST = "graphql/query_cost/max_query_cost"
INTEGRATION_BUCKET_SIZE = "graphql/throttling/integration_bucket_size"
INTEGRATION_RESTORE_RATE = "graphql/throttling/integration_restore_rate"
ADMIN_BUCKET_SIZE = "graphql/throttling/admin_bucket_size"
ADMIN_RESTORE_RATE = "graphql/throttling/admin_restore_rate"
GUEST_BUCKET_SIZE = "graphql/throttling/guest_bucket_size"
GUEST_RESTORE_RATE = "graphql/throttling/guest_restore_rate"
WEBHOOK_TIMEOUT = "webhooks/delivery/timeout"
WEBHOOK_DISABLE_AFTER = "webhooks/delivery/disable_after_failures"
WEBHOOK_RETENTION = "webhooks/delivery/retention_days"
#: The largest bucket and restore rate a setting or an integration's override may have.
MAX_BUCKET_SIZE = 1_000_000
MAX_RESTORE_RATE = 100_000


@dataclasses.dataclass(frozen=True, slots=True)
class Setting:
    """What every store setting has: its names, where it is stored, and what the schema says about it."""

    #: The GraphQL field (snake_case, as Strawberry declares it) and ``updateOAuthConfig`` input field.
    name: str
    _: dataclasses.KW_ONLY
    #: The Magento config path; its first segment is the section (``webapi``, ``oauth``).
    path: str
    #: The ``ConfigSnapshot`` attribute, named with its unit.
    attribute: str
    description: str

    @property
    def section(self) -> str:
        return self.path.split("/", 1)[0]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Flag(Setting):
    """A yes/no setting, stored as ``1`` or ``0``."""

    default: bool = False

    def read(self, stored: str | None) -> bool:
        return parse_flag(stored, self.default)

    def text(self, value: int) -> str:
        return "1" if value else "0"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Number(Setting):
    """A whole-number setting; unreadable text falls back to the default, as Magento does."""

    default: int
    #: The range Magento's form accepts (``updateOAuthConfig`` refuses values outside it).
    minimum: int
    maximum: int
    #: Magento reads zero or less as "use the default" for these (a consumer key that expires at once, ...).
    positive: bool = False

    def read(self, stored: str | None) -> int:
        try:
            value = parse_int(stored, self.default, name=self.path)
        except ValueError:
            return self.default
        return self.default if self.positive and value <= 0 else value

    def accepts(self, value: int) -> bool:
        """Whether the admin may save ``value`` (a true/false is no number here)."""
        return not isinstance(value, bool) and self.minimum <= value <= self.maximum

    def text(self, value: int) -> str:
        return str(int(value))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HostList(Setting):
    """A list of host names, addresses and networks, stored one a line. What an entry may be is checked when an
    admin saves it (``resolvers.config``) and again where it is used (``resolvers.integrations.callback``)."""

    default: tuple[str, ...] = ()

    def read(self, stored: str | None) -> tuple[str, ...]:
        return tuple(line.strip() for line in (stored or "").splitlines() if line.strip())

    def text(self, value: Sequence[str]) -> str:
        return "\n".join(value)


#: Every store setting, in the order of the GraphQL fields. Defaults are Magento's (reference sections 5 and 6);
#: ``allow_hmac_sha1``, ``require_admin_totp``, the private callback allow-list, the ``graphql`` section
#: (query cost, throttling) and the ``webhooks`` section (delivery timeout, disabling, retention) are ours.
SETTINGS: tuple[Flag | Number | HostList, ...] = (
    Flag(
        "allow_anonymous_guest_access",
        path=ALLOW_GUEST,
        attribute="allow_guest_access",
        description="This feature applies only to CMS, Catalog and Store APIs. Please consult your "
        "developers for details on potential security risks. (`webapi/webapisecurity/allow_insecure`)",
    ),
    Number(
        "consumer_expiration_period",
        path=CONSUMER_EXPIRATION_PERIOD,
        attribute="consumer_expiration_seconds",
        default=300,
        minimum=1,
        maximum=86_400 * 365,
        positive=True,
        description="Consumer key/secret will expire if not used within X seconds after Oauth token "
        "exchange starts. (`oauth/consumer/expiration_period`)",
    ),
    Number(
        "consumer_post_max_redirects",
        path=POST_MAXREDIRECTS,
        attribute="post_max_redirects",
        default=0,
        minimum=0,
        maximum=10,
        description="Number of maximum redirects for OAuth consumer credentials Post request.",
    ),
    Number(
        "consumer_post_timeout",
        path=POST_TIMEOUT,
        attribute="post_timeout_seconds",
        default=5,
        minimum=1,
        maximum=600,
        positive=True,
        description="Timeout for OAuth consumer credentials Post request within X seconds.",
    ),
    Flag(
        "enable_integration_as_bearer",
        path=INTEGRATION_AS_BEARER,
        attribute="integration_as_bearer",
        description="Allow OAuth Access Tokens to be used as standalone Bearer tokens.",
    ),
    Flag(
        "allow_hmac_sha1",
        path=ALLOW_HMAC_SHA1,
        attribute="allow_hmac_sha1",
        description="Accept HMAC-SHA1 signatures from pre-2.4.4 clients (HMAC-SHA256 is always accepted).",
    ),
    HostList(
        "private_callback_allow_list",
        path=PRIVATE_CALLBACK_ALLOW_LIST,
        attribute="private_callback_allow_list",
        description="Host names, IP addresses and networks (CIDR, IPv4 or IPv6) on a private network or loopback "
        "that activation callbacks may reach, e.g. an on-premise ERP. Each is checked against the address the "
        "callback host resolves to when it connects. Link-local and cloud-metadata addresses are never reached, "
        "listed or not.",
    ),
    Number(
        "admin_token_lifetime",
        path=ADMIN_TOKEN_LIFETIME,
        attribute="admin_token_lifetime_hours",
        default=4,
        minimum=1,
        maximum=24 * 365,
        description="Admin Token Lifetime (hours).",
    ),
    Number(
        "max_failures_count",
        path=MAX_FAILURES,
        attribute="max_failures",
        default=6,
        minimum=0,
        maximum=1000,
        description="Maximum Number of authentication failures to lock out account.",
    ),
    Number(
        "lockout_time",
        path=LOCK_TIMEOUT,
        attribute="lock_timeout_seconds",
        default=1800,
        minimum=0,
        maximum=86_400 * 365,
        description="Period of time in seconds after which account will be unlocked.",
    ),
    Number(
        "cleanup_probability",
        path=CLEANUP_PROBABILITY,
        attribute="cleanup_probability",
        default=100,
        minimum=0,
        maximum=1_000_000,
        description="Launch cleanup in X OAuth requests. 0 (not recommended) - to disable cleanup.",
    ),
    Number(
        "cleanup_expiration_period",
        path=CLEANUP_EXPIRATION_PERIOD,
        attribute="cleanup_expiration_minutes",
        default=120,
        minimum=1,
        maximum=525_600,
        positive=True,
        description="Cleanup entries older than X minutes.",
    ),
    Number(
        "oauth2_access_token_lifetime",
        path=OAUTH2_TOKEN_LIFETIME,
        attribute="oauth2_token_lifetime_seconds",
        default=3600,
        minimum=60,
        maximum=86_400,
        positive=True,
        description="Lifetime in seconds of OAuth 2.0 access tokens issued by `POST /oauth2/token` (client "
        "credentials); a token is refused once it has expired. (`oauth/oauth2/access_token_lifetime`)",
    ),
    Flag(
        "require_admin_totp",
        path=REQUIRE_ADMIN_TOTP,
        attribute="require_admin_totp",
        description="Require two-factor sign-in (TOTP) for every admin: an admin who has not turned it on still "
        "signs in, but holds no resources until it does (`enrollAdminTotp`, then `confirmAdminTotp`).",
    ),
    Flag(
        "throttling_enabled",
        path=THROTTLING_ENABLED,
        attribute="throttling_enabled",
        default=True,
        description="Throttle GraphQL requests by their calculated cost, with one leaky bucket per integration, "
        "per admin and per guest address (`graphql/throttling/enabled`). Off: nothing is taken from the buckets "
        "(maxQueryCost still applies).",
    ),
    Number(
        "max_query_cost",
        path=MAX_QUERY_COST,
        attribute="max_query_cost",
        default=1000,
        minimum=100,
        maximum=MAX_BUCKET_SIZE,
        description="The highest calculated cost a document may have; a costlier one is refused before it runs "
        "with MAX_COST_EXCEEDED. At least 100, so that admins can always change these settings again.",
    ),
    Number(
        "integration_bucket_size",
        path=INTEGRATION_BUCKET_SIZE,
        attribute="integration_bucket_size",
        default=1000,
        minimum=1,
        maximum=MAX_BUCKET_SIZE,
        description="Points an integration's bucket holds (unless the integration has its own).",
    ),
    Number(
        "integration_restore_rate",
        path=INTEGRATION_RESTORE_RATE,
        attribute="integration_restore_rate",
        default=50,
        minimum=1,
        maximum=MAX_RESTORE_RATE,
        description="Points per second an integration's bucket gets back (unless the integration has its own).",
    ),
    Number(
        "admin_bucket_size",
        path=ADMIN_BUCKET_SIZE,
        attribute="admin_bucket_size",
        default=2000,
        minimum=100,
        maximum=MAX_BUCKET_SIZE,
        description="Points each admin's bucket holds (shared by the admin's tokens); at least 100, so that admins "
        "can always change these settings again.",
    ),
    Number(
        "admin_restore_rate",
        path=ADMIN_RESTORE_RATE,
        attribute="admin_restore_rate",
        default=100,
        minimum=1,
        maximum=MAX_RESTORE_RATE,
        description="Points per second an admin's bucket gets back.",
    ),
    Number(
        "guest_bucket_size",
        path=GUEST_BUCKET_SIZE,
        attribute="guest_bucket_size",
        default=400,
        minimum=1,
        maximum=MAX_BUCKET_SIZE,
        description="Points the bucket of each guest client address holds.",
    ),
    Number(
        "guest_restore_rate",
        path=GUEST_RESTORE_RATE,
        attribute="guest_restore_rate",
        default=20,
        minimum=1,
        maximum=MAX_RESTORE_RATE,
        description="Points per second the bucket of a guest client address gets back.",
    ),
    Number(
        "delivery_timeout",
        path=WEBHOOK_TIMEOUT,
        attribute="webhook_timeout_seconds",
        default=10,
        minimum=1,
        maximum=60,
        positive=True,
        description="Seconds a webhook delivery may take, from resolving the target's host to the answer's status; "
        "no answer by then is a failed attempt, retried on the schedule.",
    ),
    Number(
        "disable_after_failures",
        path=WEBHOOK_DISABLE_AFTER,
        attribute="webhook_disable_after_failures",
        default=100,
        minimum=0,
        maximum=100_000,
        description="A webhook subscription is disabled after this many failed delivery attempts in a row (no "
        "success between them); its pending deliveries are then skipped. 0: never disabled.",
    ),
    Number(
        "delivery_retention_days",
        path=WEBHOOK_RETENTION,
        attribute="webhook_retention_days",
        default=30,
        minimum=1,
        maximum=3650,
        positive=True,
        description="Days finished webhook deliveries (delivered, failed or skipped) are kept in the delivery log; "
        "older ones are deleted by the delivery workers.",
    ),
)

#: Setting by its GraphQL field name.
BY_NAME: dict[str, Flag | Number | HostList] = {setting.name: setting for setting in SETTINGS}
#: One-value settings by config path (what the hot paths read from their own SQL rows).
BY_PATH: dict[str, Flag | Number] = {s.path: s for s in SETTINGS if isinstance(s, Flag | Number)}


def _default_text(setting: Flag | Number | HostList) -> str:
    if isinstance(setting, HostList):
        return setting.text(setting.default)
    return setting.text(setting.default)


#: Config path -> the default as stored text.
DEFAULTS: dict[str, str] = {setting.path: _default_text(setting) for setting in SETTINGS}


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    """The config table at one moment, typed, with Magento's fallbacks applied (one attribute per setting)."""

    allow_guest_access: bool
    consumer_expiration_seconds: int
    post_max_redirects: int
    post_timeout_seconds: int
    integration_as_bearer: bool
    allow_hmac_sha1: bool
    private_callback_allow_list: tuple[str, ...]
    admin_token_lifetime_hours: int
    max_failures: int
    lock_timeout_seconds: int
    cleanup_probability: int
    cleanup_expiration_minutes: int
    oauth2_token_lifetime_seconds: int
    require_admin_totp: bool
    throttling_enabled: bool
    max_query_cost: int
    integration_bucket_size: int
    integration_restore_rate: int
    admin_bucket_size: int
    admin_restore_rate: int
    guest_bucket_size: int
    guest_restore_rate: int
    webhook_timeout_seconds: int
    webhook_disable_after_failures: int
    webhook_retention_days: int

    @classmethod
    def from_values(cls, stored: Mapping[str, str | None]) -> ConfigSnapshot:
        """The snapshot of stored texts by config path; a missing or unreadable one is its default."""
        values: dict[str, Any] = {setting.attribute: setting.read(stored.get(setting.path)) for setting in SETTINGS}
        return cls(**values)


#: The whole config table as one JSON object (path -> stored text), as a column of another query: a request
#: that reads its credentials reads the store's settings in the same statement. (PostgreSQL's name for the
#: aggregate, ``json_object_agg``, is put in by ``models.sql``.)
STORE_CONFIG_COLUMN = "(SELECT json_group_object(path, value) FROM core_config_data)"

#: The last snapshot parsed, by the stored text it was parsed from. The table is still read on every request;
#: only turning the same text into a snapshot again is skipped (a snapshot is immutable).
_parsed: dict[str, ConfigSnapshot] = {}


def snapshot_of(column: str | None) -> ConfigSnapshot:
    """The snapshot of a ``STORE_CONFIG_COLUMN`` value (None: PostgreSQL's aggregate over no rows)."""
    text = column or "{}"
    snapshot = _parsed.get(text)
    if snapshot is None:
        snapshot = ConfigSnapshot.from_values(json.loads(text))
        _parsed.clear()
        _parsed[text] = snapshot
    return snapshot


async def load_config() -> ConfigSnapshot:
    row = await fetch_one(f"SELECT {STORE_CONFIG_COLUMN} AS store_config")
    assert row is not None
    return snapshot_of(row["store_config"])


async def save_config(values: dict[str, str], reset: Iterable[str] = ()) -> None:
    """Write config paths (one row each) and drop the rows of ``reset`` (back to the default, Magento's
    "Use system value"), in one transaction; unknown paths are a programming error."""
    dropped = list(reset)
    for path in [*values, *dropped]:
        if path not in DEFAULTS:
            raise KeyError(path)
    async with in_transaction():
        if dropped:
            await ConfigValue.filter(path__in=dropped).delete()
        for path, value in values.items():
            updated = await ConfigValue.filter(path=path).update(value=value)
            if not updated:
                await ConfigValue.update_or_create(defaults={"value": value}, path=path)


async def stored_paths() -> frozenset[str]:
    """The config paths with a stored value; every other setting uses its system value (the default)."""
    return frozenset(row["path"] for row in await fetch_all("SELECT path FROM core_config_data"))


#: Every setting at its system value (what "Use system value" shows).
SYSTEM_VALUES = ConfigSnapshot.from_values({})
