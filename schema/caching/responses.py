"""The in-process response cache: finished GraphQL GET answers, by everything that decides them.

The key is (document hash, operation name, variables as sent, caller class, data version):

- the document hash is the SHA-256 of its text (the persisted-query hash when the client sent one);
- the caller class (``schema.caching.policy``) is ``GUEST`` or the exact set of resources held;
- the data version (``models.data_version``) is read with the store's settings on every request, in the statement
  the request makes anyway; every write to catalog, CMS or store data, and every settings change, moves it on in its
  own transaction. A request after a write (on any worker or host) reads the new version, so it can only find
  answers computed after that write: the invalidation is exact, with nothing to send between processes. Answers of
  former versions are never found again and age out of the LRU.

Only answers without errors, to shareable documents (``policy.Sharing``), are kept; values are bounded by entries
and bytes (``store.BoundedLRU``).
"""

from __future__ import annotations

import dataclasses

from auth.config import ConfigSnapshot
from auth.principal import Principal
from schema.caching.http import body_digest
from schema.caching.policy import GUEST, CachePolicy, CallerClass, Sharing
from schema.caching.store import BoundedLRU

#: (document hash, operation name, variables text, caller class, data version).
Key = tuple[str, str, str, CallerClass, int]

#: Distinct grants remembered as one shared object each (keys hold a reference, never a copy).
MAX_CLASSES = 4096


@dataclasses.dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes
    #: What the ``ETag`` is made of (``http.entity_tag``).
    digest: str
    #: For the ``GUEST`` class: ``Cache-Control: public``; otherwise ``private, no-store``.
    public: bool
    #: Cache tags (space-separated) for HTTP caches that purge by tag.
    tags: str


@dataclasses.dataclass(slots=True)
class CacheLookup:
    """One GET request's look-up, carried from before execution to its answer."""

    key: Key
    config: ConfigSnapshot
    #: Decided once the operation has run without errors (None: not cacheable).
    sharing: Sharing | None = None


class ResponseCache:
    """Answers by ``Key``, bounded by ``max_entries`` and ``max_bytes`` (0 entries: nothing is kept)."""

    def __init__(self, policy: CachePolicy, max_entries: int, max_bytes: int) -> None:
        self.policy = policy
        self.answers: BoundedLRU[CachedAnswer] = BoundedLRU(max_entries, max_bytes)
        self._classes: dict[frozenset[str], frozenset[str]] = {}

    def key(
        self,
        document_hash: str,
        operation_name: str | None,
        variables: str,
        principal: Principal,
        config: ConfigSnapshot,
    ) -> Key:
        caller = self.policy.caller_class(principal)
        if isinstance(caller, frozenset):
            if len(self._classes) >= MAX_CLASSES:
                self._classes.clear()
            caller = self._classes.setdefault(caller, caller)
        return (document_hash, operation_name or "", variables, caller, config.data_version)

    def get(self, key: Key) -> CachedAnswer | None:
        return self.answers.get(key)

    def answer(self, key: Key, body: bytes, sharing: Sharing) -> CachedAnswer:
        """The cacheable answer ``body`` for ``key``, kept for the next request with the same key."""
        answer = CachedAnswer(body, body_digest(body), key[3] == GUEST, sharing.tags)
        size = len(body) + len(key[0]) + len(key[1]) + len(key[2]) + len(answer.digest)
        self.answers.put(key, answer, size)
        return answer
