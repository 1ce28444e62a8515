"""Reading and changing store configuration (guest access, OAuth settings, admin security, rate limits,
webhook deliveries, HTTP caching, the audit trail's retention)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from auth.config import ALLOW_GUEST, BY_NAME, HostList, Number, save_config
from resolvers.integrations.callback import ForbiddenEntry, allow_list_entry
from resolvers.problems import Outcome, Problem, UserErrorCode

if TYPE_CHECKING:
    from schema.context import Context

#: The input field that lists the settings to put back to their system value.
USE_SYSTEM_VALUE = "use_system_value"
BOTH_MESSAGE = "Enter a value or use the system value, not both."
#: Entries a host list may hold.
MAX_LIST_ENTRIES = 100

#: What an input field of a config section may hold.
Value = int | bool | list[str] | None


def unknown_setting_message(name: str) -> str:
    return f'"{name}" is not a setting of this section.'


def validate_host_list(name: str, values: Sequence[str]) -> Outcome[list[str]]:
    """A host list's entries, normalised and without repeats, or a problem for each bad entry (quoted)."""
    field = ("input", name)
    if len(values) > MAX_LIST_ENTRIES:
        return Outcome.refused(field, f"Enter at most {MAX_LIST_ENTRIES} entries.", UserErrorCode.TOO_LONG)
    entries: list[str] = []
    problems: list[Problem] = []
    for raw in values:
        try:
            entry = allow_list_entry(raw)
        except ForbiddenEntry as forbidden:
            problems.append(Problem(field, str(forbidden), UserErrorCode.NOT_ALLOWED))
        except ValueError as invalid:
            problems.append(Problem(field, str(invalid), UserErrorCode.INVALID))
        else:
            if entry not in entries:
                entries.append(entry)
    return Outcome(None if problems else entries, problems)


def validate_oauth_changes(changes: Mapping[str, Value]) -> Outcome[dict[str, str]]:
    """Config rows to write for the given input fields, or the problems that stop the write."""
    rows: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in changes.items():
        if value is None:
            continue
        setting = BY_NAME[name]
        if isinstance(setting, HostList):
            entries = validate_host_list(name, value if isinstance(value, list) else [])
            problems.extend(entries.problems)
            if entries.value is not None:
                rows[setting.path] = setting.text(entries.value)
        elif isinstance(value, list):
            raise TypeError(f"{name} takes no list")
        elif isinstance(setting, Number) and not setting.accepts(value):
            message = f"Enter a number from {setting.minimum} to {setting.maximum}."
            problems.append(Problem(("input", name), message, UserErrorCode.OUT_OF_RANGE))
        else:
            rows[setting.path] = setting.text(value)
    return Outcome(None if problems else rows, problems)


def validate_resets(
    changes: Mapping[str, Value], use_system_value: Sequence[str], section: str = "oauth"
) -> Outcome[list[str]]:
    """Config paths to put back to their system value (Magento's "Use system value": the stored value goes,
    the default applies), or the problems: a name that is no setting of the section, or one also given a value."""
    paths: list[str] = []
    problems: list[Problem] = []
    for name in use_system_value:
        setting = BY_NAME.get(name)
        if setting is None or setting.section != section:
            problems.append(Problem(("input", USE_SYSTEM_VALUE), unknown_setting_message(name), UserErrorCode.INVALID))
        elif changes.get(name) is not None:
            problems.append(Problem(("input", name), BOTH_MESSAGE, UserErrorCode.INVALID))
        elif setting.path not in paths:
            paths.append(setting.path)
    return Outcome(None if problems else paths, problems)


async def set_guest_access(context: Context, allow: bool, *, use_system_value: bool = False) -> None:
    """Switch Allow Anonymous Guest Access, or (``use_system_value``) put it back to its default."""
    if use_system_value:
        await save_config({}, reset=[ALLOW_GUEST])
    else:
        await save_config({ALLOW_GUEST: "1" if allow else "0"})
    context.forget_config()


async def update_oauth_config(
    context: Context, changes: Mapping[str, Value], use_system_value: Sequence[str] = ()
) -> Outcome[dict[str, str]]:
    """Write the changed OAuth settings and reset those using the system value, all or (on any problem) none."""
    return await _write_section(context, changes, use_system_value, "oauth")


async def update_rate_limit_config(
    context: Context, changes: Mapping[str, int | bool | None], use_system_value: Sequence[str] = ()
) -> Outcome[dict[str, str]]:
    """Write the changed query cost and throttling settings and reset those using the system value, all or (on
    any problem) none."""
    return await _write_section(context, changes, use_system_value, "graphql")


async def update_webhook_config(
    context: Context, changes: Mapping[str, int | bool | None], use_system_value: Sequence[str] = ()
) -> Outcome[dict[str, str]]:
    """Write the changed webhook delivery settings and reset those using the system value, all or (on any
    problem) none."""
    return await _write_section(context, changes, use_system_value, "webhooks")


async def update_caching_config(
    context: Context, changes: Mapping[str, int | None], use_system_value: Sequence[str] = ()
) -> Outcome[dict[str, str]]:
    """Write the changed HTTP caching settings and reset those using the system value, all or (on any problem)
    none."""
    return await _write_section(context, changes, use_system_value, "caching")


async def _write_section(
    context: Context, changes: Mapping[str, Value], use_system_value: Sequence[str], section: str
) -> Outcome[dict[str, str]]:
    """One section's update: its values written and its resets applied in one transaction, or nothing."""
    outcome = validate_oauth_changes(changes)
    resets = validate_resets(changes, use_system_value, section)
    problems = outcome.problems + resets.problems
    if problems:
        return Outcome(None, problems)
    rows, paths = outcome.value or {}, resets.value or []
    if rows or paths:
        await save_config(rows, reset=paths)
    context.forget_config()
    return Outcome(rows, [])


async def update_action_log_config(
    context: Context, changes: Mapping[str, int | bool | None], use_system_value: Sequence[str] = ()
) -> Outcome[dict[str, str]]:
    """Write the changed action log settings (the audit trail's retention) and reset those using the system value,
    all or (on any problem) none."""
    return await _write_section(context, changes, use_system_value, "system")


TOTP_FIRST = (
    "Turn on two-factor sign-in for your own account first (enrollAdminTotp, then confirmAdminTotp): "
    "otherwise this setting would take away your access."
)


async def update_admin_security_config(
    context: Context, changes: Mapping[str, Value], use_system_value: Sequence[str] = ()
) -> Outcome[dict[str, str]]:
    """Write the changed admin security settings and reset those using the system value, all or (on any
    problem) none."""
    if changes.get("require_admin_totp") and not context.principal.totp_enabled:
        return Outcome.refused(("input", "require_admin_totp"), TOTP_FIRST, UserErrorCode.NOT_ALLOWED)
    return await _write_section(context, changes, use_system_value, "admin")
