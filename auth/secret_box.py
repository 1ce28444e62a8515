"""Secrets at rest and random credentials.

Consumer secrets, token secrets and verifiers are stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256,
from ``cryptography``). The key comes from ``ENCRYPTION_KEY``, else from a key file beside the SQLite
database, created on first start with owner-only permissions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import secrets
import string
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from settings import Settings

#: Magento's alphabet and length for keys, secrets, tokens and verifiers.
TOKEN_ALPHABET = string.digits + string.ascii_lowercase
TOKEN_LENGTH = 32
KEY_FILE_NAME = "encryption.key"


def generate_token(length: int = TOKEN_LENGTH) -> str:
    """A random ``[0-9a-z]{32}`` string, as Magento's OAuth helper makes them."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


class SecretError(Exception):
    """A stored secret could not be decrypted (wrong key or damaged value)."""


def _fernet_key(material: str) -> bytes:
    """Accept a Fernet key as is; derive one from any other passphrase."""
    raw = material.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"integrations-secrets:" + raw).digest())


def load_or_create_key_file(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.encode())
    finally:
        os.close(fd)
    return key


#: Decrypted secrets kept per box, by ciphertext: every signed API call needs its consumer and token secrets,
#: and decrypting them (HMAC check and AES) was a sixth of its authentication. The process holds the key
#: anyway; a changed secret has a new ciphertext, so nothing stale is ever used.
DECRYPTED_CACHE_SIZE = 4096


class SecretBox:
    def __init__(self, key_material: str) -> None:
        self._fernet = Fernet(_fernet_key(key_material))
        self.decrypt = functools.lru_cache(maxsize=DECRYPTED_CACHE_SIZE)(self._decrypt)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def _decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretError("a stored secret could not be decrypted with the configured key") from None


_box: SecretBox | None = None


def configure(settings: Settings) -> SecretBox:
    """Set up the process-wide box from settings (called at start-up)."""
    global _box
    material = settings.encryption_key or load_or_create_key_file(settings.data_dir / KEY_FILE_NAME)
    _box = SecretBox(material)
    return _box


def box() -> SecretBox:
    if _box is None:
        raise RuntimeError("auth.secret_box.configure(settings) has not been called")
    return _box


def encrypt(plaintext: str) -> str:
    return box().encrypt(plaintext)


def decrypt(ciphertext: str) -> str:
    return box().decrypt(ciphertext)
