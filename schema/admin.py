"""Admin tokens (Magento's ``/V1/integration/admin/token``, as GraphQL) and the admin's two-factor sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from resolvers import admin as resolve
from resolvers import two_factor
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


@strawberry.type(description="A new two-factor secret for your authenticator app. Shown once: it cannot be read again.")
class EnrollAdminTotpPayload:
    otpauth_uri: str | None = strawberry.field(
        description="The `otpauth://totp/...` URI to add to an authenticator app (as a QR code or as text)."
    )
    secret: str | None = strawberry.field(description="The same secret in base32, to type in by hand.")
    user_errors: list[UserError]


@strawberry.type
class ConfirmAdminTotpPayload:
    enabled: bool = strawberry.field(description="Whether two-factor sign-in is now on for your account.")
    user_errors: list[UserError]


@strawberry.type
class DisableAdminTotpPayload:
    enabled: bool = strawberry.field(description="Whether two-factor sign-in is still on for your account.")
    user_errors: list[UserError]


YOUR_PASSWORD = "Your own password (Magento's Current User Identity Verification); a wrong one counts toward lock-out."
CODE = "The current six-digit code from your authenticator app."


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        extensions=[public()],
        description="Sign in. Locked for a while after repeated failures (see `config.oauth`). An admin with "
        "two-factor sign-in on also gives `otp`, the current code of its authenticator app, each code once; "
        "a missing or wrong code is the same refusal as a wrong password, and counts the same.",
    )
    async def generate_admin_token(
        self,
        info: strawberry.Info,
        username: str,
        password: str,
        otp: Annotated[str | None, strawberry.argument(description=CODE)] = None,
    ) -> AdminToken:
        issued = await resolve.generate_admin_token(info.context, username, password, otp)
        return AdminToken(token=issued.token, expires_at=issued.expires_at)

    @strawberry.mutation(
        extensions=[admin_only()],
        description="Sign out: revoke every token of the calling admin (as Magento does), not only this one; "
        "any admin may, whatever its role.",
    )
    async def revoke_admin_token(self, info: strawberry.Info) -> RevokeAdminTokenPayload:
        if await resolve.revoke_caller_admin_tokens(info.context):
            return RevokeAdminTokenPayload(revoked=True, user_errors=[])
        return RevokeAdminTokenPayload(
            revoked=False,
            user_errors=user_errors(
                [Problem((), "This request was not made with an admin token.", UserErrorCode.NO_ADMIN_TOKEN)]
            ),
        )

    @strawberry.mutation(
        extensions=[admin_only()],
        description="Start setting up two-factor sign-in for your account: a new secret for an authenticator "
        "app, shown once. Enrolling again before confirming replaces it. Then `confirmAdminTotp`.",
    )
    async def enroll_admin_totp(
        self,
        info: strawberry.Info,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> EnrollAdminTotpPayload:
        outcome = await two_factor.enroll(info.context, current_password)
        enrolment = outcome.value
        return EnrollAdminTotpPayload(
            otpauth_uri=enrolment.otpauth_uri if enrolment else None,
            secret=enrolment.secret if enrolment else None,
            user_errors=user_errors(outcome.problems),
        )

    @strawberry.mutation(
        extensions=[admin_only()],
        description="Turn two-factor sign-in on with a code from the enrolled authenticator app: from then on "
        "`generateAdminToken` needs `otp`.",
    )
    async def confirm_admin_totp(
        self, info: strawberry.Info, code: Annotated[str, strawberry.argument(description=CODE)]
    ) -> ConfirmAdminTotpPayload:
        outcome = await two_factor.confirm(info.context, code)
        return ConfirmAdminTotpPayload(enabled=bool(outcome.value), user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only()],
        description="Turn two-factor sign-in off (its secret is forgotten), with your password and a current "
        "code. Refused while the store requires it (`config.adminSecurity.requireAdminTotp`).",
    )
    async def disable_admin_totp(
        self,
        info: strawberry.Info,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
        code: Annotated[str | None, strawberry.argument(description=CODE)] = None,
    ) -> DisableAdminTotpPayload:
        outcome = await two_factor.disable(info.context, current_password, code)
        return DisableAdminTotpPayload(enabled=bool(outcome.value), user_errors=user_errors(outcome.problems))
