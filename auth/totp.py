"""Two-factor sign-in codes for admins: TOTP (RFC 6238) with pyotp, as authenticator apps make them.

Six digits, 30-second time steps, HMAC-SHA1 (what every authenticator app accepts from an ``otpauth://``
URI), one step of clock drift allowed either way. A code is accepted once: the time step of the last
accepted code is stored with the admin, and a code is taken only by the conditional update that moves it
forward (``accept_step``), so two requests racing with the same code cannot both pass, in any number of
workers (RFC 6238 section 5.2). The secret is 160 random bits (RFC 4226's recommended length), stored
encrypted like every other secret (``auth.secret_box``).
"""

from __future__ import annotations

import hmac
import urllib.parse

import pyotp

from auth.clock import clock
from models.sql import execute

DIGITS = 6
STEP_SECONDS = 30
#: Steps either side of the current one that are still accepted (a phone's clock a little off).
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random base32 secret of 160 bits."""
    return pyotp.random_base32(32)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans (as a QR code) or is given as text."""
    return str(_totp(secret).provisioning_uri(name=username, issuer_name=issuer))


def issuer_for(store_base_url: str) -> str:
    """What the authenticator app shows the code as: this store, by its host."""
    host = urllib.parse.urlsplit(store_base_url).hostname
    return f"Integrations admin ({host})" if host else "Integrations admin"


def current_step() -> int:
    return int(clock.time() // STEP_SECONDS)


def matching_step(secret: str, code: str | None) -> int | None:
    """The time step whose code ``code`` is (within the allowed drift), or None. Spaces are ignored; every
    candidate is compared in constant time."""
    if code is None:
        return None
    code = code.replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    now = current_step()
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


async def accept_step(admin_id: int, stored_secret: str, step: int, *, enable: bool = False) -> bool:
    """Take the code of ``step`` for this admin: True once, False if it (or a later one) was taken already.

    ``stored_secret`` is the (encrypted) secret the code was checked against: a code checked against a
    secret that an enrolment replaced meanwhile is not taken. One conditional update, so of concurrent
    requests with the same code exactly one succeeds. With ``enable`` (confirming an enrolment) it also
    turns two-factor sign-in on; otherwise it must be on already.
    """
    sql = (
        "UPDATE admin_user SET totp_last_step = ?, totp_enabled = ? "
        "WHERE id = ? AND totp_secret = ? AND totp_enabled = ? "
        "AND (totp_last_step IS NULL OR totp_last_step < ?)"
    )
    return bool(await execute(sql, step, True, admin_id, stored_secret, not enable, step))
