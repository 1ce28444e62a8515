"""Two-factor sign-in (TOTP) for the calling admin: enrol, confirm, turn off.

Enrolling (with Your Password) stores a new secret, encrypted, and shows it once, with the
``otpauth://`` URI an authenticator app takes; enrolling again before confirming replaces it. Confirming
with a code from the app turns two-factor sign-in on: from then on ``generateAdminToken`` needs a code.
Turning it off needs the password and a current code together, counted as one attempt toward lock-out.
Every change is one conditional update, so concurrent requests cannot leave a half-made state.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from audit import Action, Target, record
from auth import secret_box, totp
from auth.admin_tokens import INVALID_CURRENT_PASSWORD, Confirmation, confirm_own_credentials
from models import AdminUser
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.your_password import REQUIRED_MESSAGE, current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

ALREADY_ON = "Two-factor sign-in is already on for your account. Turn it off first to set it up again."
NOT_ENROLLED = "Set up two-factor sign-in first (enrollAdminTotp)."
NOT_ON = "Two-factor sign-in is not on for your account."
REQUIRED_BY_STORE = "This store requires two-factor sign-in for every admin, so it cannot be turned off."
CODE_REQUIRED = "Enter the code from your authenticator app."
WRONG_CODE = "The code is wrong or has been used already. Enter the current code from your authenticator app."


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """What the admin adds to an authenticator app: shown once, never readable again."""

    otpauth_uri: str
    secret: str


def _caller(context: Context) -> int:
    admin_id = context.principal.admin_id
    assert admin_id is not None, "two-factor fields are for admins only (their rule says so)"
    return admin_id


async def enroll(context: Context, current_password: str | None) -> Outcome[Enrolment]:
    """A new secret for the caller (replacing one not yet confirmed); refused while two-factor sign-in is on."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    admin_id = _caller(context)
    secret = totp.new_secret()
    stored = await AdminUser.filter(id=admin_id, totp_enabled=False).update(
        totp_secret=secret_box.encrypt(secret), totp_last_step=None
    )
    if not stored:
        return Outcome.refused((), ALREADY_ON, UserErrorCode.NOT_ALLOWED)
    issuer = totp.issuer_for(context.settings.store_base_url)
    return Outcome(Enrolment(totp.provisioning_uri(secret, context.principal.name, issuer), secret))


async def confirm(context: Context, code: str | None) -> Outcome[bool]:
    """Turn two-factor sign-in on with a code from the enrolled secret; the outcome is whether it is on."""
    user = await AdminUser.get_or_none(id=_caller(context))
    if user is None:
        return Outcome(False, [Problem((), NOT_ENROLLED, UserErrorCode.NOT_ALLOWED)])
    if user.totp_enabled:
        return Outcome(True, [Problem((), ALREADY_ON, UserErrorCode.NOT_ALLOWED)])
    if user.totp_secret is None:
        return Outcome(False, [Problem((), NOT_ENROLLED, UserErrorCode.NOT_ALLOWED)])
    if not code:
        return Outcome(False, [Problem(("code",), CODE_REQUIRED, UserErrorCode.REQUIRED)])
    try:
        secret = secret_box.decrypt(user.totp_secret)
    except secret_box.SecretError:  # enrolled under another encryption key: enrol again
        return Outcome(False, [Problem((), NOT_ENROLLED, UserErrorCode.NOT_ALLOWED)])
    step = totp.matching_step(secret, code)
    if step is None:
        return Outcome(False, [Problem(("code",), WRONG_CODE, UserErrorCode.INVALID_CODE)])
    async with in_transaction():
        # The code is taken against the secret it was checked with: a re-enrolment meanwhile makes it fail.
        enabled = await totp.accept_step(user.id, user.totp_secret, step, enable=True)
        if enabled:
            await record(Action.ADMIN_TOTP_ENABLED, target_type=Target.ADMIN_USER, target_id=user.id)
    if not enabled:
        return Outcome(False, [Problem(("code",), WRONG_CODE, UserErrorCode.INVALID_CODE)])
    return Outcome(True)


async def disable(context: Context, current_password: str | None, code: str | None) -> Outcome[bool]:
    """Turn two-factor sign-in off (secret forgotten) with the password and a current code; the outcome is
    whether it is still on."""
    admin_id = _caller(context)
    user = await AdminUser.get_or_none(id=admin_id)
    enabled = user is not None and user.totp_enabled
    if not current_password:
        return Outcome(enabled, [Problem(("current_password",), REQUIRED_MESSAGE, UserErrorCode.REQUIRED)])
    config = await context.config()
    if enabled and config.require_admin_totp:
        return Outcome(True, [Problem((), REQUIRED_BY_STORE, UserErrorCode.NOT_ALLOWED)])
    if enabled and not code:
        return Outcome(True, [Problem(("code",), CODE_REQUIRED, UserErrorCode.REQUIRED)])
    found = await confirm_own_credentials(admin_id, current_password, config, code=code, check_code=True)
    if found is Confirmation.WRONG_PASSWORD:
        wrong = Problem(("current_password",), INVALID_CURRENT_PASSWORD, UserErrorCode.INVALID_PASSWORD)
        return Outcome(enabled, [wrong])
    if found is Confirmation.WRONG_CODE:
        return Outcome(True, [Problem(("code",), WRONG_CODE, UserErrorCode.INVALID_CODE)])
    if not enabled:
        return Outcome(False, [Problem((), NOT_ON, UserErrorCode.NOT_ALLOWED)])
    async with in_transaction():
        await AdminUser.filter(id=admin_id).update(totp_enabled=False, totp_secret=None, totp_last_step=None)
        await record(Action.ADMIN_TOTP_DISABLED, target_type=Target.ADMIN_USER, target_id=admin_id)
    return Outcome(False)
