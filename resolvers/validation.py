"""Checks of mutation input that collect every problem at once, as userErrors (never exceptions)."""

from __future__ import annotations

import dataclasses
import math
from decimal import ROUND_HALF_UP, Decimal

#: Codes are ``schema.core.UserErrorCode`` values.
REQUIRED = "REQUIRED"
TOO_LONG = "TOO_LONG"
OUT_OF_RANGE = "OUT_OF_RANGE"
UNIQUE = "UNIQUE"
NOT_FOUND = "NOT_FOUND"
INVALID = "INVALID"

CENT = Decimal("0.01")


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    field: tuple[str, ...]
    message: str
    code: str


class InputChecker:
    """Validates the fields of one input object; ``problems`` lists what is wrong, with GraphQL paths."""

    def __init__(self, prefix: tuple[str, ...] = ("input",)) -> None:
        self.prefix = prefix
        self.problems: list[Problem] = []

    def add(self, field: str, message: str, code: str) -> None:
        self.problems.append(Problem((*self.prefix, field), message, code))

    def text(self, field: str, value: str | None, *, max_length: int, required: bool) -> str | None:
        """The trimmed value; a required field must be present (on create) and never blank."""
        if value is None:
            if required:
                self.add(field, f"{field} is required.", REQUIRED)
            return None
        value = value.strip()
        if not value:
            self.add(field, f"{field} cannot be empty.", REQUIRED)
            return None
        if len(value) > max_length:
            self.add(field, f"{field} must be at most {max_length} characters.", TOO_LONG)
            return None
        return value

    def long_text(self, field: str, value: str | None, *, max_length: int) -> str | None:
        """Free text (descriptions, content): kept as given, only its length is limited."""
        if value is not None and len(value) > max_length:
            self.add(field, f"{field} must be at most {max_length} characters.", TOO_LONG)
            return None
        return value

    def money(self, field: str, value: float | None, *, required: bool, maximum: Decimal) -> Decimal | None:
        if value is None:
            if required:
                self.add(field, f"{field} is required.", REQUIRED)
            return None
        if not math.isfinite(value) or value < 0:
            self.add(field, f"{field} must be zero or more.", OUT_OF_RANGE)
            return None
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
        if amount > maximum:
            self.add(field, f"{field} must be at most {maximum}.", OUT_OF_RANGE)
            return None
        return amount
