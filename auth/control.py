"""The one schema extension of an operation's checks: access control, then cost control, before execution.

Both are plain functions of their own modules (``auth.enforcement.authorise``, ``auth.rate_limits.charge``);
they share one Strawberry hook because Strawberry sets up every extension's hooks afresh for each operation
(a look-up per hook and a context manager around ``on_execute``): a second extension cost every request about
600 bytecodes, 0.6 % of a page of products (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strawberry.extensions import SchemaExtension

from auth.enforcement import authorise
from auth.rate_limits import charge, cost_extension


class OperationControl(SchemaExtension):
    """Authorises the operation, then charges its cost (a denied mutation takes nothing); reports
    ``extensions.cost``."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        access = await authorise(execution)
        if access is not None:
            await charge(execution, access)
        yield

    def get_results(self) -> dict[str, Any]:
        return cost_extension(self.execution_context)
