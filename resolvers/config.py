"""Reading and changing store configuration (guest access, OAuth settings)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from auth import config as paths
from auth.config import save_config

if TYPE_CHECKING:
    from schema.context import Context


@dataclasses.dataclass(frozen=True)
class NumericSetting:
    path: str
    minimum: int
    maximum: int


#: Input field name -> where it is stored and which values Magento's form accepts.
NUMERIC_SETTINGS: dict[str, NumericSetting] = {
    "consumer_expiration_period": NumericSetting(paths.CONSUMER_EXPIRATION_PERIOD, 1, 86_400 * 365),
    "consumer_post_max_redirects": NumericSetting(paths.POST_MAXREDIRECTS, 0, 10),
    "consumer_post_timeout": NumericSetting(paths.POST_TIMEOUT, 1, 600),
    "admin_token_lifetime": NumericSetting(paths.ADMIN_TOKEN_LIFETIME, 1, 24 * 365),
    "customer_token_lifetime": NumericSetting(paths.CUSTOMER_TOKEN_LIFETIME, 1, 24 * 365),
    "max_failures_count": NumericSetting(paths.MAX_FAILURES, 0, 1000),
    "lockout_time": NumericSetting(paths.LOCK_TIMEOUT, 0, 86_400 * 365),
    "cleanup_probability": NumericSetting(paths.CLEANUP_PROBABILITY, 0, 1_000_000),
    "cleanup_expiration_period": NumericSetting(paths.CLEANUP_EXPIRATION_PERIOD, 1, 525_600),
}
FLAG_SETTINGS: dict[str, str] = {
    "enable_integration_as_bearer": paths.INTEGRATION_AS_BEARER,
    "allow_hmac_sha1": paths.ALLOW_HMAC_SHA1,
}


@dataclasses.dataclass(frozen=True)
class SettingProblem:
    field: str
    message: str


def validate_oauth_changes(changes: dict[str, int | bool | None]) -> tuple[dict[str, str], list[SettingProblem]]:
    """Config rows to write for the given input fields, or the problems that stop the write."""
    rows: dict[str, str] = {}
    problems: list[SettingProblem] = []
    for name, value in changes.items():
        if value is None:
            continue
        if name in FLAG_SETTINGS:
            rows[FLAG_SETTINGS[name]] = "1" if value else "0"
            continue
        setting = NUMERIC_SETTINGS[name]
        if isinstance(value, bool) or not setting.minimum <= int(value) <= setting.maximum:
            problems.append(SettingProblem(name, f"Enter a number from {setting.minimum} to {setting.maximum}."))
        else:
            rows[setting.path] = str(int(value))
    return rows, problems


async def set_guest_access(context: Context, allow: bool) -> None:
    await save_config({paths.ALLOW_GUEST: "1" if allow else "0"})
    context.forget_config()


async def update_oauth_config(context: Context, rows: dict[str, str]) -> None:
    if rows:
        await save_config(rows)
    context.forget_config()
