"""Admin sign-in and sign-out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.admin_tokens import AdminTokenIssued, SignInError, issue_admin_token, revoke_admin_tokens
from auth.throttle import count_request
from errors import ErrorCode, graphql_error
from observability import events

if TYPE_CHECKING:
    from schema.context import Context


async def generate_admin_token(context: Context, username: str, password: str, otp: str | None) -> AdminTokenIssued:
    throttled = await count_request("sign-in", context.request.scope, context.settings.sign_in_rate_limit)
    if throttled is not None:
        raise graphql_error(
            "Too many sign-in attempts from this address; try again later.",
            ErrorCode.THROTTLED,
            retryAfter=throttled.retry_after_seconds,
        )
    try:
        return await issue_admin_token(username, password, await context.config(), otp)
    except SignInError as error:
        client = context.request.client.host if context.request.client else None
        events.admin_sign_in_failed(username, error.reason, client)
        raise graphql_error(error.message, ErrorCode.UNAUTHENTICATED) from None


async def revoke_caller_admin_tokens(context: Context) -> bool:
    """Revoke every token of the calling admin, as Magento's ``revokeAdminAccessToken`` does (signing out
    signs out everywhere); False when the request was not made with an admin token."""
    principal = context.principal
    if principal.token_id is None or principal.admin_id is None:
        return False
    await revoke_admin_tokens(principal.admin_id, reason="sign_out")
    return True
