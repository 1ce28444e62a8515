"""Input problems found by resolvers, as the ``userErrors`` of a payload."""

from __future__ import annotations

from collections.abc import Iterable

from resolvers.validation import Problem
from schema.core import UserError, UserErrorCode, user_error


def user_errors(problems: Iterable[Problem]) -> list[UserError]:
    return [user_error(list(p.field), p.message, UserErrorCode(p.code)) for p in problems]
