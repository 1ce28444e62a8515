"""A subscription's GraphQL document: checked when it is saved, and run for each delivery as the integration.

**At save** (``check``), the document must parse and validate against the webhook schema (the API's types
with the ``Subscription`` root of ``schema.webhook_events``), be one ``subscription`` operation without
variables, select only payload types of the subscription's events, and need nothing the integration's grant
lacks: the resources of every field it selects (nested ones included, from the same rule table that enforces
queries) and those of its events. A selection beyond the grant is a userError naming the missing resources.

**At delivery** (``render``), the document runs on the event as the integration with its grant *as it is
then*: the access decision is made again before execution, exactly as for a query (``auth.enforcement``), so
a field whose resource the grant no longer holds is ``null`` with a ``FORBIDDEN`` error at its path, and the
integration never receives data it could not read at that moment. Rendering at event time instead would send
what the grant covered when the write happened, hours before a retry: a narrowed grant must stop fields at
once. The entity itself is the one the write left (kept in the outbox row), so an event never shows a later
state; fields that lead elsewhere (``Product.categories``) are read when the delivery is made. Allow
Anonymous Guest Access never widens a payload: an integration receives what its own grant covers.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import logging
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.execution import Executor, execute_subscription_event
from graphql.language import Visitor
from starlette.requests import Request
from strawberry.extensions import QueryDepthLimiter

from auth.acl import ALL
from auth.enforcement import AccessPolicy
from auth.principal import Principal
from models.availability import database_unavailable
from resolvers.problems import Problem, UserErrorCode
from resolvers.webhooks import events as catalogue
from schema.context import Context
from schema.errors import log_errors, mask_unexpected
from schema.webhook_events import event_object
from settings import Settings

logger = logging.getLogger("integrations.webhooks")

QUERY_FIELD = ("input", "query")
#: Longest subscription document accepted (characters).
MAX_DOCUMENT_LENGTH = 20_000
ONE_SUBSCRIPTION = (
    "The query must be one subscription operation: subscription { event { ... on ProductUpdated { ... } } }."
)
#: Validation messages shown in one userError, at most.
MAX_MESSAGES = 3


class WebhookContext(Context):
    """The context a delivery's document runs in: the integration as the principal, and guest access off."""

    async def guest_access_allowed(self) -> bool:
        return False


#: A stand-in for the HTTP request a delivery does not have (nothing a payload resolves reads it).
_NO_REQUEST = Request({"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""})


class _TypeConditions(Visitor):
    """Every type named in a fragment's type condition."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_inline_fragment(self, node: InlineFragmentNode, *_args: Any) -> None:
        if node.type_condition is not None:
            self.names.append(node.type_condition.name.value)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_args: Any) -> None:
        self.names.append(node.type_condition.name.value)


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A delivery's body (``type``, ``timestamp``, ``data`` and, when fields were refused, ``errors``)."""

    body: dict[str, Any]

    def encoded(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookDocuments:
    """The webhook schema's documents: ``check`` at save, ``render`` at delivery."""

    def __init__(self, schema: Any, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self.graphql_schema: GraphQLSchema = schema._schema
        policy = schema.access_policy
        assert isinstance(policy, AccessPolicy)
        self.policy = policy
        self.rules = [*specified_rules, *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules]
        self._parse = functools.lru_cache(maxsize=256)(self._parse_uncached)

    def _parse_uncached(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.settings.max_tokens)

    # ------------------------------------------------------------------------------------------ at save

    def check(
        self, query: str, events: list[catalogue.WebhookEventType], held: frozenset[str]
    ) -> tuple[list[Problem], tuple[str, ...]]:
        """The problems with ``query`` for these events and this grant, and the resources it needs."""
        if len(query) > MAX_DOCUMENT_LENGTH:
            message = f"The query may have at most {MAX_DOCUMENT_LENGTH} characters."
            return [Problem(QUERY_FIELD, message, UserErrorCode.TOO_LONG)], ()
        try:
            document = self._parse(query)
        except GraphQLSyntaxError as error:
            return [Problem(QUERY_FIELD, f"The query does not parse: {error.message}", UserErrorCode.INVALID)], ()
        errors = validate(self.graphql_schema, document, self.rules)
        if errors:
            shown = "; ".join(e.message for e in errors[:MAX_MESSAGES])
            return [Problem(QUERY_FIELD, f"The query is not valid: {shown}", UserErrorCode.INVALID)], ()
        shape = self._shape_problem(document, events)
        if shape:
            return [Problem(QUERY_FIELD, shape, UserErrorCode.INVALID)], ()
        requirements = self.policy.requirements(document, None)
        needed = tuple(dict.fromkeys([*catalogue.required_resources(events), *requirements.resources]))
        missing = [] if ALL in held else [r for r in needed if r not in held]
        if missing:
            message = (
                f"The integration's grant does not cover {', '.join(missing)}, which these events or the selected "
                "fields need. Grant them to the integration first, or select less."
            )
            return [Problem(QUERY_FIELD, message, UserErrorCode.NOT_GRANTED)], needed
        return [], needed

    @staticmethod
    def _shape_problem(document: DocumentNode, events: list[catalogue.WebhookEventType]) -> str | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
            return ONE_SUBSCRIPTION
        if operations[0].variable_definitions:
            return "The query cannot declare variables: a delivery has none to give."
        conditions = _TypeConditions()
        visit(document, conditions)
        subscribed = {catalogue.CATALOGUE[e].payload_type for e in events}
        for name in dict.fromkeys(conditions.names):
            kind = catalogue.BY_PAYLOAD_TYPE.get(name)
            if kind is not None and kind.subscribable and name not in subscribed:
                return f"The query selects {name}, but the subscription's events do not include {kind.event.value}."
        return None

    # ------------------------------------------------------------------------------------------ at delivery

    async def render(
        self,
        *,
        query: str,
        event: catalogue.WebhookEventType,
        entity: dict[str, Any],
        occurred_at: object,
        principal: Principal,
    ) -> Rendered:
        """The body of one delivery: the document run on the event as ``principal`` (the integration, now)."""
        document = self._parse(query)
        root = event_object(event, entity, occurred_at)
        context = WebhookContext(request=_NO_REQUEST, response=None, principal=principal, settings=self.settings)
        access = self.policy.analyse(query, document, None)
        context.denied = (await self.policy.denials(access, context) if access.coordinates else None) or None
        executor = Executor.build(self.graphql_schema, document, context_value=context)
        if isinstance(executor, list):  # a document that was checked at save always builds
            result = ExecutionResult(None, executor)
        else:
            executed = execute_subscription_event(executor.build_per_event_executor(root))
            result = await executed if inspect.isawaitable(executed) else executed
        errors = list(result.errors or [])
        for error in errors:
            if database_unavailable(error.original_error):
                raise error.original_error  # type: ignore[misc]  # the worker tries again later
        log_errors(errors)
        body: dict[str, Any] = {
            "type": catalogue.CATALOGUE[event].wire_type,
            "timestamp": root.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": result.data,
        }
        if errors:
            body["errors"] = [_formatted(mask_unexpected(e)) for e in errors]
        return Rendered(body)


def _formatted(error: GraphQLError) -> dict[str, Any]:
    shown = dict(error.formatted)
    shown.pop("locations", None)
    return shown
