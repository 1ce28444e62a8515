"""Key rotation: every encrypted column re-encrypted under the current key, in one transaction.

Rotating means: set the new ``ENCRYPTION_KEY`` with the former one in ``ENCRYPTION_OLD_KEYS`` on every server
(secrets keep working: old keys decrypt), run ``rotate-encryption-key``, then drop the former key. A value that
no configured key opens stops the whole run before anything is written: its table, column and row id are
named, never the value. Values already under the current key are left as they are, so a second run changes
nothing.

A new encrypted column is one entry in ``ENCRYPTED_COLUMNS``; the rotation test dumps every text column of
every table and fails on any value the former key still opens.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections import Counter

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from audit import Action, Target, record
from auth import secret_box
from models.database import open_database
from models.sql import execute, fetch_all
from settings import Settings

logger = logging.getLogger("integrations.keys")

#: Every column that holds ``secret_box`` ciphertexts (NULL allowed), by table; each table's key is ``id``.
ENCRYPTED_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("oauth_consumer", ("secret", "previous_secret")),
    ("oauth_token", ("token_encrypted", "secret", "verifier")),
    ("admin_user", ("totp_secret",)),
    ("webhook_subscription", ("secret", "previous_secret")),
)

PRIMARY = "primary"


@dataclasses.dataclass(frozen=True, slots=True)
class StoredSecret:
    """Where one ciphertext is (never what it holds)."""

    table: str
    column: str
    row_id: int
    ciphertext: str = dataclasses.field(repr=False)

    @property
    def place(self) -> str:
        return f"{self.table}.{self.column} of row id {self.row_id}"


@dataclasses.dataclass
class Survey:
    """Each stored secret with the name of the configured key that opens it (None: none does)."""

    found: list[tuple[StoredSecret, str | None]] = dataclasses.field(default_factory=list)

    def by_key(self) -> Counter[str | None]:
        return Counter(key for _secret, key in self.found)

    @property
    def undecryptable(self) -> list[StoredSecret]:
        return [secret for secret, key in self.found if key is None]

    @property
    def under_old_keys(self) -> list[StoredSecret]:
        return [secret for secret, key in self.found if key not in {None, PRIMARY}]


async def survey(box: secret_box.SecretBox, conn: BaseDBAsyncClient | None = None) -> Survey:
    """Which key opens each stored secret."""
    result = Survey()
    for table, columns in ENCRYPTED_COLUMNS:
        sql = f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id"
        rows = await fetch_all(sql, conn=conn)
        for row in rows:
            for column in columns:
                if (value := row[column]) is not None:
                    result.found.append((StoredSecret(table, column, row["id"], value), box.key_of(value)))
    return result


@dataclasses.dataclass(frozen=True)
class Rotation:
    """What a run did: re-encrypted and unchanged values per column, and values another writer changed meanwhile."""

    rotated: Counter[str]
    current: Counter[str]
    changed_meanwhile: int = 0


class RotationRefused(Exception):
    """Some stored secret opens with no configured key: nothing was written."""

    def __init__(self, undecryptable: list[StoredSecret]) -> None:
        super().__init__(f"{len(undecryptable)} stored secrets cannot be decrypted with any configured key")
        self.undecryptable = undecryptable


async def rotate_all(box: secret_box.SecretBox) -> Rotation:
    """Re-encrypt every secret that is under an old key, in one transaction (or refuse, writing nothing).

    Each update names the ciphertext it replaces, so a value a server rewrote meanwhile (under the current key,
    as it encrypts) is left as it is.
    """
    rotated: Counter[str] = Counter()
    current: Counter[str] = Counter()
    changed = 0
    async with in_transaction() as conn:
        found = await survey(box, conn)
        if found.undecryptable:
            raise RotationRefused(found.undecryptable)
        for secret, key in found.found:
            column = f"{secret.table}.{secret.column}"
            if key == PRIMARY:
                current[column] += 1
                continue
            updated = await execute(
                f"UPDATE {secret.table} SET {secret.column} = ? WHERE id = ? AND {secret.column} = ?",
                box.rotate(secret.ciphertext),
                secret.row_id,
                secret.ciphertext,
                conn=conn,
            )
            if updated:
                rotated[column] += 1
            else:
                changed += 1
        if rotated:  # a run that finds every secret current changes nothing, and records nothing
            await _record_rotation(rotated, current, changed, len(box.ring.old))
    return Rotation(rotated, current, changed)


async def _record_rotation(rotated: Counter[str], current: Counter[str], changed: int, old_keys: int) -> None:
    """The audit event of a rotation, in its transaction: counts per column, never a key or a value."""
    details = {
        "reencrypted": sum(rotated.values()),
        "alreadyCurrent": sum(current.values()),
        "changedMeanwhile": changed,
        "columns": dict(sorted(rotated.items())),
        "oldKeys": old_keys,
    }
    await record(Action.ENCRYPTION_KEY_ROTATED, target_type=Target.ENCRYPTION_KEY, details=details)


async def rotate_encryption_key(settings: Settings) -> int:
    """The ``rotate-encryption-key`` command: counts on standard output, a refusal on standard error (exit 1)."""
    async with open_database(settings):
        box = await secret_box.configure(settings)
        try:
            result = await rotate_all(box)
        except RotationRefused as refused:
            print(
                f"Nothing was changed: {len(refused.undecryptable)} stored secret(s) cannot be decrypted with"
                " ENCRYPTION_KEY or any of ENCRYPTION_OLD_KEYS:",
                file=sys.stderr,
            )
            for secret in refused.undecryptable:
                print(f"  {secret.place}", file=sys.stderr)
            print(
                "Add the key they were encrypted with to ENCRYPTION_OLD_KEYS (or delete those rows), then run this"
                " again.",
                file=sys.stderr,
            )
            return 1
    for table, columns in ENCRYPTED_COLUMNS:
        for name in columns:
            column = f"{table}.{name}"
            print(f"{column}: {result.rotated[column]} re-encrypted, {result.current[column]} already current")
    total, current = sum(result.rotated.values()), sum(result.current.values())
    print(f"Re-encrypted {total} secret(s) under ENCRYPTION_KEY; {current} were already under it.")
    if result.changed_meanwhile:
        print(f"{result.changed_meanwhile} secret(s) were rewritten by a server meanwhile and left as they are.")
    if box.ring.old:
        print("Every stored secret is under ENCRYPTION_KEY now: the old keys may be removed from the settings.")
    return 0


async def report_old_ciphertexts(_settings: Settings) -> None:
    """A start-up task: say once (no secret, no key) when stored secrets are still under an old key."""
    box = secret_box.box()
    if not box.ring.old:
        return
    found = await survey(box)
    counts = found.by_key()
    old = {key: count for key, count in counts.items() if key not in {None, PRIMARY}}
    if old:
        keys = ", ".join(f"{key}: {count}" for key, count in old.items())
        logger.warning(
            "%s stored secret(s) are encrypted with an old key (%s); they are still read. Run"
            " `integrations-graphql rotate-encryption-key` to re-encrypt them under ENCRYPTION_KEY.",
            sum(old.values()),
            keys,
        )
    if counts[None]:
        logger.warning(
            "%s stored secret(s) cannot be decrypted with ENCRYPTION_KEY or ENCRYPTION_OLD_KEYS (first: %s)",
            counts[None],
            found.undecryptable[0].place,
        )
