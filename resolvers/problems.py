"""How a resolver says "this input is wrong", and the one shape a write answers with.

A ``Problem`` names the input field by its Python path (``("input", "callback_url")``) with a message for
people and a ``UserErrorCode`` for programs; the schema turns problems into GraphQL ``UserError``s in one
place (``schema.core.user_errors``), which is also where the path is spelled the GraphQL way. Every write
answers ``Outcome(value, problems)``. Input problems are answers, not exceptions: everything wrong with an
input is reported at once and nothing is written.

This module imports nothing from the project, so every room may use it.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Generic, TypeVar

T = TypeVar("T")


class UserErrorCode(enum.Enum):
    """Why an input was refused; clients key on it (``schema.core`` exposes it as a GraphQL enum)."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    UNIQUE = "UNIQUE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_URL = "INVALID_URL"
    UNKNOWN_RESOURCE = "UNKNOWN_RESOURCE"
    OUT_OF_SCOPE_PERMISSION = "OUT_OF_SCOPE_PERMISSION"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    ALREADY_ACTIVE = "ALREADY_ACTIVE"
    NOT_ACTIVE = "NOT_ACTIVE"
    READ_ONLY = "READ_ONLY"
    CALLBACK_FAILED = "CALLBACK_FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    NO_ADMIN_TOKEN = "NO_ADMIN_TOKEN"
    TOO_LONG = "TOO_LONG"
    #: Another request is changing the same thing right now (or just did): reload and try again.
    IN_PROGRESS = "IN_PROGRESS"
    #: "Your Password" (``currentPassword``) is not the caller's own; it counts toward lock-out.
    INVALID_PASSWORD = "INVALID_PASSWORD"
    #: The change would lock every admin out (the last active admin with All), or edit the caller's own role.
    NOT_ALLOWED = "NOT_ALLOWED"
    #: The thing is still in use (a role that users hold).
    IN_USE = "IN_USE"
    #: A two-factor code (``code``) that is wrong, or was used already.
    INVALID_CODE = "INVALID_CODE"
    #: Nothing granted was used in the period: trimming the grant would leave nothing.
    NOTHING_USED = "NOTHING_USED"
    #: An integration's grant does not cover what is asked for it (a webhook selection); the message names the
    #: missing resources.
    NOT_GRANTED = "NOT_GRANTED"


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input."""

    #: Path to the input field in Python names; empty when the problem is not about one field.
    field: tuple[str, ...]
    message: str
    code: UserErrorCode


@dataclasses.dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a write answers: its result, and the problems that stopped it.

    ``value`` is None when the write was refused before there was anything to show; a refusal may still
    carry a value the payload shows (activation refused for an integration that exists shows it).
    """

    value: T | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @classmethod
    def refused(cls, field: tuple[str, ...], message: str, code: UserErrorCode) -> Outcome[T]:
        """The outcome of a write stopped by one problem."""
        return cls(problems=[Problem(field, message, code)])
