"""What a GraphQL client sees when something fails unexpectedly, and what the server log keeps of it.

Expected failures are GraphQL errors already (``errors.graphql_error``: a denial, a bad argument, a refused
sign-in) and pass through as they are. Anything else raised while answering an operation is unexpected: the
client gets ``SERVICE_UNAVAILABLE`` when the database is away (the view then answers HTTP 503 with a
``Retry-After``) and ``INTERNAL_SERVER_ERROR`` otherwise, never the exception's text; the log gets one line
for an outage and the traceback for anything else.

Two paths lead here, and both use ``mask_unexpected``. ``MaskUnexpectedErrors`` masks the result when the
operation runs to its end, which covers every resolver. An exception raised by an extension's own hook
(access control reading the store config before any resolver runs, for one) leaves Strawberry's operation
by raising instead: on Strawberry 0.341, ``MaskErrors.on_operation`` never gets to look at that result, and
the error Strawberry makes of it carries the exception's text. So ``schema.view.GraphQLView`` masks the
errors of every result once more before answering (``tests/test_error_masking.py`` shows both).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from graphql import ASTValidationRule, GraphQLError, GraphQLSyntaxError, ValidationContext
from strawberry.extensions import MaskErrors

from errors import ErrorCode
from models.availability import database_unavailable, log_unavailable

logger = logging.getLogger("integrations.graphql")

INTERNAL_MESSAGE = "Internal server error."
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Try again shortly."
#: Seconds a client should wait before retrying after ``SERVICE_UNAVAILABLE``.
RETRY_AFTER = "1"


def _in_place_of(error: GraphQLError, message: str, code: ErrorCode) -> GraphQLError:
    """A new error at the same place in the document and the result, with nothing of the old one's text."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value},
    )


def unavailable_error(error: GraphQLError) -> GraphQLError:
    """The GraphQL error a client sees instead of a database failure (no driver details)."""
    return _in_place_of(error, UNAVAILABLE_MESSAGE, ErrorCode.SERVICE_UNAVAILABLE)


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def mask_unexpected(error: GraphQLError) -> GraphQLError:
    """What the client sees of an unexpected exception: ``SERVICE_UNAVAILABLE`` for a database outage
    (the view answers HTTP 503), else ``INTERNAL_SERVER_ERROR``; never the exception's text."""
    if not _is_unexpected(error):
        return error
    if database_unavailable(error.original_error):
        return unavailable_error(error)
    return _in_place_of(error, INTERNAL_MESSAGE, ErrorCode.INTERNAL_SERVER_ERROR)


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected exceptions become ``INTERNAL_SERVER_ERROR`` without details; expected errors stay."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return mask_unexpected(error)


def log_errors(errors: list[GraphQLError]) -> None:
    """Log unexpected errors (with their traceback, server-side only); expected ones stay quiet.

    Strawberry calls this (through ``Schema.process_errors``) before any masking, so the log has the original.
    """
    for error in errors:
        if not _is_unexpected(error):
            continue
        where = ".".join(map(str, error.path or [])) or "operation"
        if database_unavailable(error.original_error):
            log_unavailable(error.original_error, where)
        else:
            logger.error("Unexpected error in %s", where, exc_info=error.original_error)


# ------------------------------------------------------------------------------------- request errors


def with_code(rules: Iterable[type[ASTValidationRule]], code: ErrorCode) -> list[type[ASTValidationRule]]:
    """Validation rules whose errors carry ``extensions.code`` ``code``, so a client can tell which limit it hit.

    Strawberry's limiters report from their constructor through the context; the subclass tags what they
    report there. Built once (in ``schema.schema_extensions``), so the validation cache keys stay the same.
    """

    def coded(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
        class Coded(rule):  # type: ignore[valid-type,misc]
            def __init__(self, context: ValidationContext) -> None:
                report = context.report_error

                def report_with_code(error: GraphQLError) -> None:
                    error.extensions = {**(error.extensions or {}), "code": code.value}
                    report(error)

                context.report_error = report_with_code  # type: ignore[method-assign]
                try:
                    super().__init__(context)
                finally:
                    del context.report_error

        Coded.__name__ = Coded.__qualname__ = f"{rule.__name__}With{code.value.title().replace('_', '')}"
        return Coded

    return [coded(rule) for rule in rules]


def _code(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def request_error_code(error: GraphQLError, *, before_execution: bool) -> ErrorCode:
    """The code of an error that stopped the operation before any field ran and carries none yet.

    Before execution: the document did not parse (the token limit is graphql-core's parser option), or did
    not validate. After it began: graphql-core refused the variables or the operation name.
    """
    if isinstance(error, GraphQLSyntaxError):
        if error.description.startswith("Document contains more than"):
            return ErrorCode.MAX_TOKENS_EXCEEDED
        return ErrorCode.GRAPHQL_PARSE_FAILED
    return ErrorCode.GRAPHQL_VALIDATION_FAILED if before_execution else ErrorCode.BAD_USER_INPUT


def with_request_code(error: GraphQLError, *, before_execution: bool) -> GraphQLError:
    """``error`` with its request error code, unless it has a code already (the same error otherwise)."""
    if _code(error) is not None:
        return error
    code = request_error_code(error, before_execution=before_execution)
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code.value},
    )
