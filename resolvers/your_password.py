"""Magento's "Your Password": the admin's own password, asked again on every sensitive write.

Integrations, roles and users are written only with ``currentPassword``. It is checked before anything
else, so a wrong one reports that alone and writes nothing; it counts toward lock-out
(``auth.admin_tokens.verify_current_password``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.admin_tokens import INVALID_CURRENT_PASSWORD, verify_current_password
from resolvers.problems import Problem, UserErrorCode

if TYPE_CHECKING:
    from schema.context import Context

REQUIRED_MESSAGE = "Enter your password to confirm this change."


async def current_password_problems(context: Context, password: str | None, field: tuple[str, ...]) -> list[Problem]:
    """Nothing when ``password`` is the calling admin's own; else the one problem to report."""
    if not password:
        return [Problem(field, REQUIRED_MESSAGE, UserErrorCode.REQUIRED)]
    admin_id = context.principal.admin_id
    if admin_id is not None and await verify_current_password(admin_id, password, await context.config()):
        return []
    return [Problem(field, INVALID_CURRENT_PASSWORD, UserErrorCode.INVALID_PASSWORD)]
