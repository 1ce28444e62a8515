"""Automatic persisted queries (Apollo's APQ protocol), so that cacheable GET URLs stay short.

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`` (a GET query parameter, or
in a POST body) without the document. When the server knows the hash, it runs the document registered under it;
otherwise it answers the error ``PersistedQueryNotFound`` (``extensions.code`` ``PERSISTED_QUERY_NOT_FOUND``, HTTP
200, ``Cache-Control: private, no-cache, must-revalidate``, as Apollo Server does), and the client sends the hash
again with the document, which the server checks against the hash and registers once it has run without a request
error. Apollo Client's persisted-query link with ``useGETForHashedQueries`` sends both requests as GET.

Registered documents are kept in process, bounded by entries and bytes (least recently used first out). Each
worker and host has its own: a client whose hash is unknown to the worker it reaches gets ``PersistedQueryNotFound``
and registers the document there, at the cost of one more round trip.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from errors import ErrorCode
from schema.caching.store import BoundedLRU

NOT_FOUND = "PersistedQueryNotFound"
NOT_SUPPORTED = "PersistedQueryNotSupported"
#: What Apollo Server answers with a persisted-query error: never stored, always asked again.
ERROR_CACHE_CONTROL = "private, no-cache, must-revalidate"


class PersistedQueryError(Exception):
    """A persisted-query request that cannot run: answered with ``status`` and one GraphQL error."""

    def __init__(self, message: str, code: ErrorCode, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclasses.dataclass(frozen=True, slots=True)
class PersistedRequest:
    """What a request's ``persistedQuery`` extension asks for."""

    sha256_hash: str
    #: The document to register once it has run (None: the client sent the hash alone).
    register: str | None


def requested(extensions: dict[str, Any] | None) -> dict[str, Any] | None:
    """The request's ``persistedQuery`` extension, if any."""
    found = (extensions or {}).get("persistedQuery")
    return found if isinstance(found, dict) else None


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    """The documents registered in this process, by their SHA-256 (hex, lower case)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.documents: BoundedLRU[str] = BoundedLRU(max_entries, max_bytes)

    @property
    def enabled(self) -> bool:
        return self.documents.max_entries > 0

    def resolve(self, extension: dict[str, Any], query: str | None) -> tuple[str, PersistedRequest]:
        """The document to run for a request with a ``persistedQuery`` extension, and what to register after.

        Raises ``PersistedQueryError``: not supported (turned off), an unknown version or hash, a hash that does not
        match the document sent with it.
        """
        if not self.enabled:
            raise PersistedQueryError(NOT_SUPPORTED, ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED)
        if extension.get("version") != 1:
            raise PersistedQueryError("Unsupported persisted query version.", ErrorCode.BAD_REQUEST, 400)
        digest = extension.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise PersistedQueryError(
                "persistedQuery.sha256Hash must be a SHA-256 hash in hex.", ErrorCode.BAD_REQUEST, 400
            )
        digest = digest.lower()
        if query is None:
            known = self.documents.get(digest)
            if known is None:
                raise PersistedQueryError(NOT_FOUND, ErrorCode.PERSISTED_QUERY_NOT_FOUND)
            return known, PersistedRequest(digest, None)
        if sha256_hex(query) != digest:
            raise PersistedQueryError("The provided sha256Hash does not match the query.", ErrorCode.BAD_REQUEST, 400)
        return query, PersistedRequest(digest, query)

    def register(self, persisted: PersistedRequest) -> None:
        """Keep the document of a request that ran (no parse or validation error)."""
        if persisted.register is not None:
            self.documents.put(persisted.sha256_hash, persisted.register, len(persisted.register.encode()))
