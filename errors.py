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

    # Request errors: the operation never ran (GraphQL over HTTP answers them 4xx when the client accepts
    # ``application/graphql-response+json``, and 200 to ``application/json``-only clients, except where noted).
    #: The document is not GraphQL.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    #: The document does not fit the schema.
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    #: The document has more lexical tokens than ``MAX_TOKENS``.
    MAX_TOKENS_EXCEEDED = "MAX_TOKENS_EXCEEDED"
    #: A selection is nested deeper than ``MAX_QUERY_DEPTH``.
    MAX_DEPTH_EXCEEDED = "MAX_DEPTH_EXCEEDED"
    #: The operation's calculated cost is above ``maxQueryCost`` (or the caller's whole bucket);
    #: ``extensions.cost`` and ``extensions.maxCost`` say by how much.
    MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
    #: The document has more aliases than ``MAX_ALIASES``.
    MAX_ALIASES_EXCEEDED = "MAX_ALIASES_EXCEEDED"
    #: The request body is larger than ``MAX_BODY_BYTES`` (always HTTP 413).
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    #: ``__schema``/``__type`` asked for by a caller the ``INTROSPECTION`` setting does not allow.
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    #: The HTTP request is not a GraphQL request: not JSON, no ``query``, a parameter of the wrong type.
    BAD_REQUEST = "BAD_REQUEST"
    #: A mutation over GET (HTTP 405, ``Allow: POST``), or a method other than GET and POST.
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    #: A POST body that is not ``application/json`` (HTTP 415).
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    #: Nothing is served here (GraphiQL asked for while ``GRAPHIQL=0``).
    NOT_FOUND = "NOT_FOUND"
    #: An automatic persisted query's hash that this worker does not know: send it again with the document (HTTP
    #: 200, as Apollo clients expect).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    #: Persisted queries are turned off (``PERSISTED_QUERIES=0``): send the document (HTTP 200).
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"


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
