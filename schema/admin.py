"""Admin tokens (Magento's ``/V1/integration/admin/token``, as GraphQL)."""

from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import admin as resolve
from resolvers.problems import Problem, UserErrorCode
from schema.core import UserError, user_errors
from schema.directives import admin_only, public


@strawberry.type(description="A bearer token for the admin API.")
class AdminToken:
    token: str
    expires_at: dt.datetime


@strawberry.type
class RevokeAdminTokenPayload:
    revoked: bool
    user_errors: list[UserError]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        extensions=[public()],
        description="Sign in. Locked for a while after repeated failures (see `config.oauth`).",
    )
    async def generate_admin_token(self, info: strawberry.Info, username: str, password: str) -> AdminToken:
        issued = await resolve.generate_admin_token(info.context, username, password)
        return AdminToken(token=issued.token, expires_at=issued.expires_at)

    @strawberry.mutation(
        extensions=[admin_only()],
        description="Revoke the admin token this request is made with (any admin may sign out, whatever its role).",
    )
    async def revoke_admin_token(self, info: strawberry.Info) -> RevokeAdminTokenPayload:
        if await resolve.revoke_current_admin_token(info.context):
            return RevokeAdminTokenPayload(revoked=True, user_errors=[])
        return RevokeAdminTokenPayload(
            revoked=False,
            user_errors=user_errors(
                [Problem((), "This request was not made with an admin token.", UserErrorCode.NO_ADMIN_TOKEN)]
            ),
        )
