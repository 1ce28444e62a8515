"""Password hashing with Argon2id (argon2-cffi), and the one rule every new admin password follows."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
#: Verified against when the user name is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


#: The shortest admin password accepted.
MIN_PASSWORD_LENGTH = 8


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable for an admin, or None: the one rule of every command that sets one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    return None


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
