"""How a presented token is looked up: by its SHA-256 hash, never by its value.

Admin tokens and OAuth tokens are both stored this way (``admin_token.token_hash``,
``oauth_token.token_hash``), so a copy of the database holds no usable credential.
"""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """The lookup key of a token."""
    return hashlib.sha256(token.encode()).hexdigest()
