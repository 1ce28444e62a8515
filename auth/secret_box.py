"""Secrets at rest and random credentials.

Consumer secrets, token secrets, verifiers and TOTP secrets are stored encrypted (Fernet: AES-128-CBC +
HMAC-SHA256, from ``cryptography``). The key comes from ``ENCRYPTION_KEY`` (a Fernet key as it is, or a
passphrase through scrypt with a random salt stored in the database), else from a key file beside the SQLite
database, created on first start with owner-only permissions. ``ENCRYPTION_OLD_KEYS`` only decrypt
(``MultiFernet``); ``auth.key_rotation`` re-encrypts every stored secret under the current key.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import hashlib
import os
import secrets
import string
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from models.sql import execute, fetch_one
from settings import Settings, is_fernet_key

#: Magento's alphabet and length for keys, secrets, tokens and verifiers.
TOKEN_ALPHABET = string.digits + string.ascii_lowercase
TOKEN_LENGTH = 32
KEY_FILE_NAME = "encryption.key"


def generate_token(length: int = TOKEN_LENGTH) -> str:
    """A random ``[0-9a-z]{32}`` string, as Magento's OAuth helper makes them."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


class SecretError(Exception):
    """A stored secret could not be decrypted (wrong key or damaged value)."""


#: Where the store's scrypt salt is kept (``core_config_data``): it must be the same for every worker and host
#: that shares the database, and it is no secret.
SALT_PATH = "system/encryption/passphrase_salt"
SALT_BYTES = 16
#: scrypt's cost (2**15, r=8: about 32 MiB and a tenth of a second), paid once per process and key.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1


def legacy_key(passphrase: str) -> bytes:
    """The Fernet key earlier versions derived from a passphrase (one unsalted SHA-256): only ever decrypts."""
    digest = hashlib.sha256(b"integrations-secrets:" + passphrase.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.lru_cache(maxsize=16)
def scrypt_key(passphrase: str, salt: bytes) -> bytes:
    """The Fernet key of a passphrase with the store's salt (cached: scrypt is slow on purpose)."""
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode()))


async def passphrase_salt() -> bytes:
    """The store's salt, made on first use: insert-if-absent, then read, so that workers starting at the same
    time agree on one."""
    candidate = base64.b64encode(os.urandom(SALT_BYTES)).decode()
    await execute(
        "INSERT INTO core_config_data (path, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (path) DO NOTHING",
        SALT_PATH,
        candidate,
        datetime.datetime.now(datetime.UTC),
    )
    row = await fetch_one("SELECT value FROM core_config_data WHERE path = ?", SALT_PATH)
    if row is None or not row["value"]:
        raise RuntimeError(f"the encryption salt ({SALT_PATH}) could not be stored")
    return base64.b64decode(row["value"])


@dataclasses.dataclass(frozen=True)
class KeyRing:
    """The key that encrypts, and the keys that only decrypt (each named for messages, never shown)."""

    primary: bytes
    old: tuple[tuple[str, bytes], ...] = ()


#: How an old key derived the former way is named in the log and in ``SecretBox.key_of``.
LEGACY_SUFFIX = "(former unsalted derivation)"


async def key_ring(settings: Settings) -> KeyRing:
    """The keys from ``ENCRYPTION_KEY`` (else the key file) and ``ENCRYPTION_OLD_KEYS``.

    A Fernet key is used as it is. A passphrase goes through scrypt with the store's salt (the database must be
    open), and its former unsalted derivation is added as an old key, so that a store encrypted before salting
    still reads until ``rotate-encryption-key`` re-encrypts it.
    """
    material = settings.encryption_key or load_or_create_key_file(settings.data_dir / KEY_FILE_NAME)
    salt: bytes | None = None

    async def derived(passphrase: str) -> bytes:
        nonlocal salt
        salt = salt or await passphrase_salt()
        return scrypt_key(passphrase, salt)

    old: list[tuple[str, bytes]] = []
    if is_fernet_key(material):
        primary = material.encode()
    else:
        primary = await derived(material)
        old.append((f"ENCRYPTION_KEY {LEGACY_SUFFIX}", legacy_key(material)))
    for number, key in enumerate(settings.encryption_old_keys, start=1):
        name = f"ENCRYPTION_OLD_KEYS #{number}"
        if is_fernet_key(key):
            old.append((name, key.encode()))
        else:
            old.append((name, await derived(key)))
            old.append((f"{name} {LEGACY_SUFFIX}", legacy_key(key)))
    unique: dict[bytes, str] = {}
    for name, old_key in old:
        if old_key != primary:
            unique.setdefault(old_key, name)
    return KeyRing(primary, tuple((name, key) for key, name in unique.items()))


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
    """Encrypts with the primary key; decrypts with it or any old key (``MultiFernet``, the primary first)."""

    def __init__(self, key_material: str | KeyRing) -> None:
        ring = key_material if isinstance(key_material, KeyRing) else KeyRing(key_material.strip().encode())
        self.ring = ring
        self._primary = Fernet(ring.primary)
        self._old = tuple((name, Fernet(key)) for name, key in ring.old)
        self._fernet = MultiFernet([self._primary, *(fernet for _name, fernet in self._old)])
        self.decrypt = functools.lru_cache(maxsize=DECRYPTED_CACHE_SIZE)(self._decrypt)

    def encrypt(self, plaintext: str) -> str:
        return self._primary.encrypt(plaintext.encode()).decode()

    def _decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretError("a stored secret could not be decrypted with the configured key") from None

    def key_of(self, ciphertext: str) -> str | None:
        """Which configured key decrypts ``ciphertext``: ``"primary"``, an old key's name, or None (no key)."""
        token = ciphertext.encode()
        for name, fernet in (("primary", self._primary), *self._old):
            try:
                fernet.decrypt(token)
            except InvalidToken:
                continue
            return name
        return None

    def rotate(self, ciphertext: str) -> str:
        """``ciphertext`` re-encrypted under the primary key (``SecretError`` if no configured key opens it)."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretError("a stored secret could not be decrypted with any configured key") from None


_box: SecretBox | None = None


async def configure(settings: Settings) -> SecretBox:
    """Set up the process-wide box from settings (at start-up, with the database open: a passphrase's salt is
    stored there)."""
    global _box
    _box = SecretBox(await key_ring(settings))
    return _box


def box() -> SecretBox:
    if _box is None:
        raise RuntimeError("auth.secret_box.configure(settings) has not been called")
    return _box


def encrypt(plaintext: str) -> str:
    return box().encrypt(plaintext)


def decrypt(ciphertext: str) -> str:
    return box().decrypt(ciphertext)
