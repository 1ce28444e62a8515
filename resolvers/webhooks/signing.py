"""How does a receiver know a delivery came from this store? Standard Webhooks signatures.

Each subscription has its own secret, ``whsec_`` and the base64 of 32 random bytes (the form the Standard
Webhooks libraries take as it is). A delivery carries three headers: ``webhook-id`` (the same on every attempt,
so receivers drop duplicates), ``webhook-timestamp`` (seconds since the epoch, when the attempt was sent) and
``webhook-signature``: ``v1,<base64 of HMAC-SHA256 over "<id>.<timestamp>.<body>">``, with the secret's 32
bytes as the key. During a rotation's overlap the header carries a second signature, made with the previous
secret, space-separated: receivers still holding the old secret keep verifying.

The receiver compares the timestamp with its own clock (five minutes either way in the reference libraries),
so the timestamp is the system's wall clock at sending time, never the store's test-driven clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` under ``secret``."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(message_id: str, body: bytes, secrets_: tuple[str, ...], timestamp: int | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with each of ``secrets_`` (current first)."""
    sent_at = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": " ".join(signature(s, message_id, sent_at, body) for s in secrets_),
    }
