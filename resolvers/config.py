"""Reading and changing store configuration (guest access, OAuth settings, admin security)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from auth.config import ALLOW_GUEST, BY_NAME, Number, save_config
from resolvers.problems import Outcome, Problem, UserErrorCode

if TYPE_CHECKING:
    from schema.context import Context


def validate_oauth_changes(changes: Mapping[str, int | bool | None]) -> Outcome[dict[str, str]]:
    """Config rows to write for the given input fields, or the problems that stop the write."""
    rows: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in changes.items():
        if value is None:
            continue
        setting = BY_NAME[name]
        if isinstance(setting, Number) and not setting.accepts(value):
            message = f"Enter a number from {setting.minimum} to {setting.maximum}."
            problems.append(Problem(("input", name), message, UserErrorCode.OUT_OF_RANGE))
        else:
            rows[setting.path] = setting.text(value)
    return Outcome(None if problems else rows, problems)


async def set_guest_access(context: Context, allow: bool) -> None:
    await save_config({ALLOW_GUEST: "1" if allow else "0"})
    context.forget_config()


async def update_oauth_config(context: Context, changes: Mapping[str, int | bool | None]) -> Outcome[dict[str, str]]:
    """Write the changed OAuth settings, all or (on any problem) none."""
    outcome = validate_oauth_changes(changes)
    if outcome.value:
        await save_config(outcome.value)
    context.forget_config()
    return outcome


TOTP_FIRST = (
    "Turn on two-factor sign-in for your own account first (enrollAdminTotp, then confirmAdminTotp): "
    "otherwise this setting would take away your access."
)


async def update_admin_security_config(
    context: Context, changes: Mapping[str, int | bool | None]
) -> Outcome[dict[str, str]]:
    """Write the changed admin security settings, all or (on any problem) none."""
    if changes.get("require_admin_totp") and not context.principal.totp_enabled:
        return Outcome.refused(("input", "require_admin_totp"), TOTP_FIRST, UserErrorCode.NOT_ALLOWED)
    outcome = validate_oauth_changes(changes)
    if outcome.value:
        await save_config(outcome.value)
    context.forget_config()
    return outcome
