"""Password hashing with Argon2id (argon2-cffi), and the one rule every new admin password follows."""

from __future__ import annotations

import secrets

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Magento's minimum (``UserValidationRules::MIN_PASSWORD_LENGTH`` in Magento_User).
MIN_PASSWORD_LENGTH = 7
TOO_SHORT_MESSAGE = f"Your password must be at least {MIN_PASSWORD_LENGTH} characters."
LETTERS_AND_DIGITS_MESSAGE = "Your password must include both numeric and alphabetic characters."

_hasher = PasswordHasher()
#: Verified against when the user name is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def password_rule_problems(password: str) -> list[str]:
    """What is wrong with a new password under Magento's rule (empty when it may be set).

    One rule for every place a password is chosen (the API, ``main.py create-admin``), with Magento's
    messages: at least seven characters, both letters and digits.
    """
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(TOO_SHORT_MESSAGE)
    if not (any(c.isalpha() for c in password) and any(c.isdecimal() for c in password)):
        problems.append(LETTERS_AND_DIGITS_MESSAGE)
    return problems


def password_problem(password: str) -> str | None:
    """The rule's problems as one message, or None."""
    problems = password_rule_problems(password)
    return " ".join(problems) if problems else None


def generate_password() -> str:
    """A random password (16 URL-safe characters) that meets the rule, for the first admin.

    About one in fifteen random strings of that length has no digit; those are drawn again, so the
    printed password is one the admin could also have chosen.
    """
    while True:
        password = secrets.token_urlsafe(12)
        if not password_rule_problems(password):
            return password


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


def _verify_sync(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """Hash off the event loop: Argon2 is deliberately slow (tens of milliseconds)."""
    return await anyio.to_thread.run_sync(hash_password_sync, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Verify off the event loop; an unknown user (None) costs the same as a wrong password."""
    return await anyio.to_thread.run_sync(_verify_sync, password_hash, password)
