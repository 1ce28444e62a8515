"""Reading and changing store configuration (guest access, OAuth settings)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from auth.config import ALLOW_GUEST, BY_NAME, Number, save_config

if TYPE_CHECKING:
    from schema.context import Context


@dataclasses.dataclass(frozen=True)
class SettingProblem:
    field: str
    message: str


def validate_oauth_changes(changes: Mapping[str, int | bool | None]) -> tuple[dict[str, str], list[SettingProblem]]:
    """Config rows to write for the given input fields, or the problems that stop the write."""
    rows: dict[str, str] = {}
    problems: list[SettingProblem] = []
    for name, value in changes.items():
        if value is None:
            continue
        setting = BY_NAME[name]
        if isinstance(setting, Number) and not setting.accepts(value):
            problems.append(SettingProblem(name, f"Enter a number from {setting.minimum} to {setting.maximum}."))
        else:
            rows[setting.path] = setting.text(value)
    return rows, problems


async def set_guest_access(context: Context, allow: bool) -> None:
    await save_config({ALLOW_GUEST: "1" if allow else "0"})
    context.forget_config()


async def update_oauth_config(context: Context, rows: dict[str, str]) -> None:
    if rows:
        await save_config(rows)
    context.forget_config()
