"""Admin sign-in and sign-out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.admin_tokens import AdminTokenIssued, SignInError, issue_admin_token, revoke_admin_token
from auth.throttle import count_request
from errors import ErrorCode, graphql_error

if TYPE_CHECKING:
    from schema.context import Context


async def generate_admin_token(context: Context, username: str, password: str) -> AdminTokenIssued:
    throttled = await count_request("sign-in", context.request.scope, context.settings.sign_in_rate_limit)
    if throttled is not None:
        raise graphql_error(
            "Too many sign-in attempts from this address; try again later.",
            ErrorCode.THROTTLED,
            retryAfter=throttled.retry_after_seconds,
        )
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
