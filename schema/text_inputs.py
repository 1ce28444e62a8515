"""Text that no database can store is refused before execution, as a client error.

GraphQL strings may carry NUL characters (``"\\u0000"``) and JSON variables may carry unpaired UTF-16
surrogates (``"\\ud800"``). PostgreSQL rejects the first, both drivers fail to encode the second, and
neither is ever meaningful in a name, a SKU or a URL. Checking every argument and variable once, here,
keeps each resolver from having to, and turns what would be an ``INTERNAL_SERVER_ERROR`` into
``BAD_USER_INPUT``.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, ExecutionResult, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from errors import bad_user_input

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Text must not contain NUL characters or unpaired surrogates."
_CACHE_SIZE = 512


class _StringFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if _UNSTORABLE.search(node.value):
            self.found = True
            return Visitor.BREAK
        return None


def _document_has_unstorable_text(document: DocumentNode) -> bool:
    finder = _StringFinder()
    visit(document, finder)
    return finder.found


def has_unstorable_text(value: Any) -> bool:
    """True if a string anywhere in ``value`` (variables: dicts, lists, scalars) cannot be stored."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable_text(k) or has_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_unstorable_text(item) for item in value)
    return False


class RejectUnstorableText(SchemaExtension):
    """Before execution: any string argument or variable with NUL or a lone surrogate fails the operation."""

    _documents: OrderedDict[str, bool] = OrderedDict()

    def _document_bad(self, query: str, document: DocumentNode) -> bool:
        cached = self._documents.get(query)
        if cached is None:
            cached = self._documents[query] = _document_has_unstorable_text(document)
            if len(self._documents) > _CACHE_SIZE:
                self._documents.popitem(last=False)
        return cached

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        pending = execution.result is None and document is not None and execution.query is not None
        if pending and (
            self._document_bad(execution.query, document)  # type: ignore[arg-type]
            or has_unstorable_text(execution.variables)
        ):
            execution.result = ExecutionResult(data=None, errors=[bad_user_input(MESSAGE)])
        yield
