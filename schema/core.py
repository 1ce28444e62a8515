"""Shared GraphQL building blocks: user errors and their codes."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="Why an input was refused.")
class UserErrorCode(enum.Enum):
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


@strawberry.type(description="A problem with the input of a mutation; clients should key on `code`.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input field, if any.")
    message: str
    code: UserErrorCode


def user_error(field: str | list[str] | None, message: str, code: UserErrorCode) -> UserError:
    path = [field] if isinstance(field, str) else field
    return UserError(field=path, message=message, code=code)
