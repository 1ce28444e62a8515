"""Store configuration (Magento config paths) with Magento's defaults, read fresh on each request.

Rows in ``core_config_data`` override the defaults below. Nothing is cached across requests, so a
change made through one worker is seen by every worker on its next request.
"""

from __future__ import annotations

import dataclasses

from models import ConfigValue
from models.sql import fetch_all

ALLOW_GUEST = "webapi/webapisecurity/allow_insecure"
CUSTOMER_TOKEN_LIFETIME = "oauth/access_token_lifetime/customer"
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

#: Magento's defaults (reference section 5 and 6); ``allow_hmac_sha1`` is ours.
DEFAULTS: dict[str, str] = {
    ALLOW_GUEST: "0",
    CUSTOMER_TOKEN_LIFETIME: "1",
    ADMIN_TOKEN_LIFETIME: "4",
    CLEANUP_PROBABILITY: "100",
    CLEANUP_EXPIRATION_PERIOD: "120",
    CONSUMER_EXPIRATION_PERIOD: "300",
    POST_MAXREDIRECTS: "0",
    POST_TIMEOUT: "5",
    INTEGRATION_AS_BEARER: "0",
    MAX_FAILURES: "6",
    LOCK_TIMEOUT: "1800",
    ALLOW_HMAC_SHA1: "0",
}


def _int(values: dict[str, str], path: str, *, positive_fallback: bool = False) -> int:
    try:
        value = int(values[path])
    except (TypeError, ValueError):
        value = int(DEFAULTS[path])
    if positive_fallback and value <= 0:
        return int(DEFAULTS[path])
    return value


def _flag(values: dict[str, str], path: str) -> bool:
    return (values.get(path) or "0").strip() in {"1", "true"}


@dataclasses.dataclass(frozen=True, slots=True)
class StoreConfig:
    """A snapshot of the config table, typed, with Magento's fallbacks applied."""

    allow_guest_access: bool
    admin_token_lifetime_hours: int
    customer_token_lifetime_hours: int
    cleanup_probability: int
    cleanup_expiration_minutes: int
    consumer_expiration_seconds: int
    post_max_redirects: int
    post_timeout_seconds: int
    integration_as_bearer: bool
    max_failures: int
    lock_timeout_seconds: int
    allow_hmac_sha1: bool

    @classmethod
    def from_values(cls, stored: dict[str, str]) -> StoreConfig:
        values = {**DEFAULTS, **{k: v for k, v in stored.items() if v is not None}}
        return cls(
            allow_guest_access=_flag(values, ALLOW_GUEST),
            admin_token_lifetime_hours=_int(values, ADMIN_TOKEN_LIFETIME),
            customer_token_lifetime_hours=_int(values, CUSTOMER_TOKEN_LIFETIME),
            cleanup_probability=_int(values, CLEANUP_PROBABILITY),
            cleanup_expiration_minutes=_int(values, CLEANUP_EXPIRATION_PERIOD, positive_fallback=True),
            consumer_expiration_seconds=_int(values, CONSUMER_EXPIRATION_PERIOD, positive_fallback=True),
            post_max_redirects=_int(values, POST_MAXREDIRECTS),
            post_timeout_seconds=_int(values, POST_TIMEOUT, positive_fallback=True),
            integration_as_bearer=_flag(values, INTEGRATION_AS_BEARER),
            max_failures=_int(values, MAX_FAILURES),
            lock_timeout_seconds=_int(values, LOCK_TIMEOUT),
            allow_hmac_sha1=_flag(values, ALLOW_HMAC_SHA1),
        )


async def load_config() -> StoreConfig:
    rows = await fetch_all("SELECT path, value FROM core_config_data")
    return StoreConfig.from_values({row["path"]: row["value"] for row in rows})


async def save_config(values: dict[str, str]) -> None:
    """Write config paths (one row each); unknown paths are a programming error."""
    for path, value in values.items():
        if path not in DEFAULTS:
            raise KeyError(path)
        updated = await ConfigValue.filter(path=path).update(value=value)
        if not updated:
            await ConfigValue.update_or_create(defaults={"value": value}, path=path)
