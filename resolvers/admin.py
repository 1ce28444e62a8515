"""Admin sign-in and sign-out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import GraphQLError

from auth.admin_tokens import IssuedToken, SignInError, issue_admin_token, revoke_admin_token

if TYPE_CHECKING:
    from schema.context import Context


async def generate_admin_token(context: Context, username: str, password: str) -> IssuedToken:
    try:
        return await issue_admin_token(username, password, await context.config())
    except SignInError as error:
        raise GraphQLError(error.message, extensions={"code": "UNAUTHENTICATED"}) from None


async def revoke_current_admin_token(context: Context) -> bool:
    """Revoke the admin token this request was made with; False when there is none."""
    token_id = context.principal.token_id
    if token_id is None:
        return False
    return await revoke_admin_token(token_id)
