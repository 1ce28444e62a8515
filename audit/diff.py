"""What changed, as events tell it: old and new values, resources added and removed, URLs without passwords.

Pure functions the callers of ``audit.record`` build ``details`` with, so every event spells a change the same
way: ``{"changes": {"email": {"old": ..., "new": ...}}}`` and ``{"added": [...], "removed": [...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{key: {"old": ..., "new": ...}}`` for each key of ``new`` whose value differs from ``old``'s."""
    return {key: {"old": old.get(key), "new": value} for key, value in new.items() if old.get(key) != value}


def resource_diff(old: Iterable[str], new: Iterable[str]) -> dict[str, list[str]]:
    """Resources a grant gained and lost (held sets, so a Custom grant's expansion counts)."""
    before, after = set(old), set(new)
    return {"added": sorted(after - before), "removed": sorted(before - after)}


def safe_url(url: str | None) -> str | None:
    """A URL as an event may show it: a password in its user part is masked (the rest is what admins see)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
