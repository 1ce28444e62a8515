"""Checks of mutation input that collect every problem at once, as userErrors (never exceptions)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from strawberry import UNSET
from strawberry.utils.str_converters import to_camel_case
from tortoise.queryset import QuerySet

from auth import acl
from auth.grants import GrantSpec
from resolvers.problems import Problem, UserErrorCode

CENT = Decimal("0.01")
MAX_URL = 255
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")

EMAIL_MESSAGE = "Please enter a valid email address (Ex: johndoe@domain.com)."
URL_MESSAGE = "Please enter a valid absolute URL. Protocol is required (http:// or https://)."


def valid_url(value: str) -> bool:
    """An absolute http(s) URL with a host, as callback and identity link URLs must be."""
    if len(value) > MAX_URL or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(host)


def valid_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL and _EMAIL.match(value) is not None


def given(**values: Any) -> dict[str, Any]:
    """The values that were given: None means "not given" (an update keeps the stored value)."""
    return {key: value for key, value in values.items() if value is not None}


class InputChecker:
    """Validates the fields of one input object; ``problems`` lists what is wrong, with Python field paths.

    Each check returns the value to store, or None when it is missing or wrong (and then says why).
    Messages name the field as clients spell it.
    """

    def __init__(self, prefix: tuple[str, ...] = ("input",)) -> None:
        self.prefix = prefix
        self.problems: list[Problem] = []

    def add(self, field: str, message: str, code: UserErrorCode) -> None:
        self.problems.append(Problem((*self.prefix, field), message, code))

    def text(self, field: str, value: str | None, *, max_length: int, required: bool) -> str | None:
        """The trimmed value; a required field must be present (on create) and never blank."""
        label = to_camel_case(field)
        if value is None:
            if required:
                self.add(field, f"{label} is required.", UserErrorCode.REQUIRED)
            return None
        value = value.strip()
        if not value:
            self.add(field, f"{label} cannot be empty.", UserErrorCode.REQUIRED)
            return None
        if len(value) > max_length:
            self.add(field, f"{label} must be at most {max_length} characters.", UserErrorCode.TOO_LONG)
            return None
        return value

    def long_text(self, field: str, value: str | None, *, max_length: int) -> str | None:
        """Free text (descriptions, content): kept as given, only its length is limited."""
        if value is not None and len(value) > max_length:
            self.add(field, f"{to_camel_case(field)} must be at most {max_length} characters.", UserErrorCode.TOO_LONG)
            return None
        return value

    def money(self, field: str, value: float | None, *, required: bool, maximum: Decimal) -> Decimal | None:
        label = to_camel_case(field)
        if value is None:
            if required:
                self.add(field, f"{label} is required.", UserErrorCode.REQUIRED)
            return None
        if not math.isfinite(value) or value < 0:
            self.add(field, f"{label} must be zero or more.", UserErrorCode.OUT_OF_RANGE)
            return None
        exact = Decimal(str(value))
        # Compared before rounding too: quantize() fails on more digits than Decimal's precision (1e47, say).
        amount = exact.quantize(CENT, rounding=ROUND_HALF_UP) if exact <= maximum else None
        if amount is None or amount > maximum:
            self.add(field, f"{label} must be at most {maximum}.", UserErrorCode.OUT_OF_RANGE)
            return None
        return amount

    def email(self, field: str, value: str | None) -> str | None:
        """An optional email address (Magento's message when it is not one)."""
        if value is not None and not valid_email(value):
            self.add(field, EMAIL_MESSAGE, UserErrorCode.INVALID_EMAIL)
            return None
        return value

    def url(self, field: str, value: str | None) -> str | None:
        """An optional absolute http(s) URL (Magento's message when it is not one)."""
        if value is not None and not valid_url(value):
            self.add(field, URL_MESSAGE, UserErrorCode.INVALID_URL)
            return None
        return value

    def resources(self, field: str, selection: Sequence[str]) -> list[str] | None:
        """ACL resource ids as ticked, all of them known in the resource tree."""
        unknown = list(dict.fromkeys(acl.TREE.unknown(selection)))
        if unknown:
            self.add(field, f"Unknown resource ids: {', '.join(unknown)}.", UserErrorCode.UNKNOWN_RESOURCE)
            return None
        return list(selection)

    async def unique(self, field: str, same: QuerySet[Any], *, message: str, exclude_id: int | None) -> None:
        """Refuse a value another row already has: ``same`` selects the rows with it (the edited one aside)."""
        if exclude_id is not None:
            same = same.exclude(id=exclude_id)
        if await same.exists():
            self.add(field, message, UserErrorCode.UNIQUE)


RESOURCE_ACCESS_ALL = "ALL"
RESOURCE_ACCESS_CUSTOM = "CUSTOM"


def checked_grant(
    check: InputChecker, resource_access: Any, resources: Any, *, creating: bool, stored_selection: Sequence[str]
) -> GrantSpec | None:
    """The grant to store, for integrations and admin roles alike: All, or a Custom selection (the one given,
    or the stored one when only the access changes); None keeps the stored grant. ``UNSET`` or None: not given.
    """
    access = None if resource_access is UNSET or resource_access is None else resource_access
    selected = None if resources is UNSET or resources is None else list(resources)
    if access is None and (selected is not None or creating):
        access = RESOURCE_ACCESS_CUSTOM
    if access == RESOURCE_ACCESS_ALL:
        return GrantSpec.all()
    if access != RESOURCE_ACCESS_CUSTOM:
        return None
    selection = check.resources("resources", selected if selected is not None else list(stored_selection))
    return GrantSpec.custom(selection) if selection is not None else None
