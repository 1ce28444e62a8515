"""What every room may say about a failure, with no dependency on any room.

``ErrorCode`` is the set of ``extensions.code`` values a GraphQL client can key on for errors outside
``userErrors``. ``Refusal`` is the base of every expected, explainable failure inside the server (a bad
sign-in, a refused OAuth request, a callback that failed): its ``message`` is safe to show to the
caller, so code that turns a refusal into a response never has to guess whether text may leak.
"""

from __future__ import annotations

import enum

from graphql import GraphQLError


class ErrorCode(enum.StrEnum):
    """``extensions.code`` of errors outside ``userErrors``."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    #: Too many requests from this client for now; ``extensions.retryAfter`` says for how many seconds.
    THROTTLED = "THROTTLED"


class Refusal(Exception):
    """An expected failure whose ``message`` may be shown to the caller as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def graphql_error(message: str, code: ErrorCode, **extensions: object) -> GraphQLError:
    """A GraphQL error with ``extensions.code`` (and any further extensions)."""
    return GraphQLError(message, extensions={"code": code.value, **extensions})


def bad_user_input(message: str) -> GraphQLError:
    """An argument the server cannot use (a forged cursor, a page size above the maximum, ...)."""
    return graphql_error(message, ErrorCode.BAD_USER_INPUT)
