"""Admin sign-in and sign-out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.admin_tokens import AdminTokenIssued, SignInError, issue_admin_token, revoke_admin_token
from errors import ErrorCode, graphql_error

if TYPE_CHECKING:
    from schema.context import Context


async def generate_admin_token(context: Context, username: str, password: str) -> AdminTokenIssued:
    try:
        return await issue_admin_token(username, password, await context.config())
    except SignInError as error:
        raise graphql_error(error.message, ErrorCode.UNAUTHENTICATED) from None


async def revoke_current_admin_token(context: Context) -> bool:
    """Revoke the admin token this request was made with; False when there is none."""
    token_id = context.principal.token_id
    if token_id is None:
        return False
    return await revoke_admin_token(token_id)
