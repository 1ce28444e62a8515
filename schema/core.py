"""Shared GraphQL building blocks: user errors and their codes."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry.utils.str_converters import to_camel_case

from resolvers import problems

#: The GraphQL enum is the resolvers' own enum, registered with Strawberry (which marks the class itself).
UserErrorCode = strawberry.enum(problems.UserErrorCode, description="Why an input was refused.")


@strawberry.type(description="A problem with the input of a mutation; clients should key on `code`.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input field, if any.")
    message: str
    code: problems.UserErrorCode


def user_errors(found: Iterable[problems.Problem]) -> list[UserError]:
    """Resolvers' problems as ``userErrors``, their Python field paths spelled as the schema spells fields."""
    return [
        UserError(field=[to_camel_case(name) for name in p.field] or None, message=p.message, code=p.code)
        for p in found
    ]
